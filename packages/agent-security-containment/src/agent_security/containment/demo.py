# ruff: noqa: E501  (the scenario table reads best one scenario per line)
"""``agent-security demo containment``: sandbox rules, the process sandbox and change control.

Three parts, each line showing what the original decided and what we decide (the demo exits 1 when an
outcome differs from the expected one):

1. Tool calls checked against their sandbox profiles through ``AgentSecurity`` with the containment
   plugin: the path and URL tricks the original's ``startsWith`` and ``args.url`` checks let through.
2. A command run in the process sandbox (bubblewrap, or namespaces and Landlock): what it can see and
   reach. Skipped, with the
   reason, where no sandbox can be built (it never runs unconfined).
3. Change control against a local server speaking the Jira REST JSON: a valid ticket, one out of scope,
   one expired, one unknown, and the ticket system failing.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from agent_security.containment.guard import containment_plugin
from agent_security.containment.process import SandboxUnavailable, backend_status
from agent_security.containment.sandbox import SandboxManager
from agent_security.containment.testing import jira_issue, ticket_server
from agent_security.containment.tickets import ChangeControl
from agent_security.containment.validators import JiraValidator
from agent_security.core import AgentSecurity, Decision
from agent_security.core.clock import CallableClock

__all__ = ["NOW", "Scenario", "run_demo"]

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Scenario:
    title: str
    tool: str
    args: dict[str, Any]
    original: str
    expected: str


SANDBOX_SCENARIOS = [
    Scenario("read inside the data dir", "read_file", {"path": "/srv/data/report.csv"}, "ALLOW", "ALLOW"),
    Scenario("../ out of the data dir", "read_file", {"path": "/srv/data/../../etc/shadow"}, "ALLOW", "DENY"),
    Scenario("prefix trick /srv/data-private", "read_file", {"path": "/srv/data-private/keys"}, "ALLOW", "DENY"),
    Scenario("/proc/self/root/etc/shadow", "read_file", {"path": "/proc/self/root/etc/shadow"}, "DENY", "DENY"),
    Scenario("path under another argument name", "read_file", {"file": "/etc/shadow"}, "ALLOW", "DENY"),
    Scenario("path nested in a list", "read_file", {"files": [{"name": "/root/.ssh/id_rsa"}]}, "ALLOW", "DENY"),
    Scenario("open descriptor /dev/fd/3", "read_file", {"path": "/dev/fd/3"}, "DENY", "DENY"),
    Scenario("write where only reading is allowed", "write_file", {"path": "/srv/data/report.csv", "content": "x"}, "ALLOW", "DENY"),
    Scenario("fetch from the allowed API", "fetch_url", {"url": "https://api.example.com/v1/items"}, "ALLOW", "ALLOW"),
    Scenario("metadata as one decimal number", "fetch_url", {"url": "http://2852039166/latest/meta-data/"}, "ALLOW", "DENY"),
    Scenario("metadata in hex", "fetch_url", {"url": "http://0xa9.0xfe.0xa9.0xfe/"}, "ALLOW", "DENY"),
    Scenario("loopback as IPv4-mapped IPv6", "fetch_url", {"url": "http://[::ffff:127.0.0.1]:8080/admin"}, "ALLOW", "DENY"),
    Scenario("userinfo trick api.example.com@evil", "fetch_url", {"url": "https://api.example.com@evil.example/"}, "ALLOW", "DENY"),
    Scenario("URL under an unusual key", "read_file", {"source_link": "https://evil.example/x"}, "ALLOW", "DENY"),
    Scenario("environment variable not allowed", "read_env", {"env_var": "AWS_SECRET_ACCESS_KEY"}, "DENY", "DENY"),
]  # fmt: skip


def _sandboxes() -> SandboxManager:
    manager = SandboxManager()
    manager.register_sandbox("read_file", {"read_paths": ["/srv/data"]})
    manager.register_sandbox("write_file", {"read_paths": ["/srv/data"], "write_paths": ["/srv/out"]})
    manager.register_sandbox(
        "fetch_url", {"network_enabled": True, "allowed_hosts": ["api.example.com"], "allowed_ports": [443]}
    )
    manager.register_sandbox("read_env", {"allowed_env_vars": ["HOME", "LANG", "APP_*"]})
    return manager


def _security(**plugin: Any) -> AgentSecurity:
    from agent_security.core.testing import StaticEngine

    return AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
        plugins=[containment_plugin(**plugin)],
        clock=CallableClock(lambda: NOW, time.monotonic),
    )


def _row(title: str, original: str, ours: str, expected: str, detail: str) -> bool:
    ok = ours == expected
    mark = "ok " if ok else "BAD"
    click.echo(f"  {mark} {title:<40} original {original:<6} ours {ours:<6} {detail[:90]}")
    return ok


def _part_sandbox() -> bool:
    click.echo("1. Sandbox profiles (check_constraints through AgentSecurity)")
    security = _security(sandbox_manager=_sandboxes())
    ok = True
    for s in SANDBOX_SCENARIOS:
        result = security.check_tool_call(tool_name=s.tool, tool_args=s.args, agent_id="demo-agent")
        outcome = result.final_decision.outcome.value
        reason = result.final_decision.reasons[-1].message if result.final_decision.reasons else ""
        ok &= _row(s.title, s.original, outcome, s.expected, reason)
    security.shutdown()
    return ok


def _part_process() -> bool:
    click.echo("2. Process sandbox (SandboxManager.run)")
    available, why = backend_status()
    if not available:
        click.echo(f"  skipped: {why} (run() refuses rather than run unconfined)")
        try:
            SandboxManager().run(["true"], {"type": "process"})
        except SandboxUnavailable as exc:
            click.echo(f"  run() raised SandboxUnavailable: {exc}")
            return True
        return False
    with tempfile.TemporaryDirectory() as work:
        Path(work).chmod(0o777)
        profile = {"write_paths": [work], "workdir": work, "timeout_s": 5, "memory_limit_mb": 256}
        script = (
            "echo report > out.txt; ls /; "
            "ls /home >/dev/null 2>&1 && echo home-visible || echo home-hidden; "
            "cat /etc/shadow 2>/dev/null || echo shadow-hidden; "
            "python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 53), 2)' 2>/dev/null && echo net || echo no-network; "
            'echo "AWS_SECRET=${AWS_SECRET_ACCESS_KEY:-unset}"'
        )
        result = SandboxManager().run(script, profile)
        lines = result.stdout.split()
        written = (Path(work) / "out.txt").read_text().strip() == "report"
    expected = {"home-hidden", "shadow-hidden", "no-network", "AWS_SECRET=unset"}
    ok = result.success and expected <= set(lines) and written
    click.echo(f"  {'ok ' if ok else 'BAD'} backend {result.backend} ({why})")
    click.echo(f"  {'ok ' if ok else 'BAD'} {' '.join(sorted(expected & set(lines)))}; wrote its work dir: {written}")
    timed = SandboxManager().run(["sleep", "30"], {"timeout_s": 0.5})
    click.echo(f"  {'ok ' if timed.timed_out else 'BAD'} sleep 30 under a 0.5 s timeout: {timed.error}")
    return ok and timed.timed_out


def _part_tickets() -> bool:
    click.echo("3. Change control (Jira REST JSON from a local server)")
    tickets = {
        "CHG-101": jira_issue("CHG-101", "Approved", "Run db_migrate in prod", duedate="2026-06-30"),
        "CHG-102": jira_issue("CHG-102", "Approved", "Run db_migrate in staging", duedate="2026-06-30"),
        "CHG-103": jira_issue("CHG-103", "Approved", "Run db_migrate in prod", duedate="2026-05-01"),
        "CHG-104": jira_issue("CHG-104", "Open", "Run db_migrate in prod", duedate="2026-06-30"),
    }
    rows = [
        ("no ticket", {}, "DENY", "DENY"),
        ("approved, names tool and env", {"ticket_id": "CHG-101"}, "ALLOW", "ALLOW"),
        ("approved, other environment", {"ticket_id": "CHG-102"}, "ALLOW", "DENY"),
        ("approved, expired", {"ticket_id": "CHG-103"}, "ALLOW", "DENY"),
        ("still open", {"ticket_id": "CHG-104"}, "DENY", "DENY"),
        ("unknown ticket", {"ticket_id": "CHG-999"}, "ALLOW*", "DENY"),
        ("malformed id", {"ticket_id": "CHG-1 OR 1=1"}, "ALLOW*", "DENY"),
    ]
    ok = True
    with ticket_server(tickets) as server:
        control = ChangeControl(
            validator=JiraValidator(server.url, timeout_s=2.0),
            provider="jira",
            required_statuses=("Approved",),
            ticket_pattern=r"CHG-[0-9]{1,8}",
            scope=("tool", "environment"),
        )
        security = _security(change_control=control, ticket_required_tools=["db_migrate"])
        for title, args, original, expected in rows:
            result = security.check_tool_call(
                tool_name="db_migrate", tool_args=args, agent_id="ops-bot", environment="prod"
            )
            reason = result.final_decision.reasons[-1].message if result.final_decision.reasons else ""
            ok &= _row(title, original, result.final_decision.outcome.value, expected, reason)
        server.behaviour = "status:503"
        control.clear_cache()
        result = security.check_tool_call(
            tool_name="db_migrate", tool_args={"ticket_id": "CHG-101"}, agent_id="ops-bot", environment="prod"
        )
        ok &= _row(
            "Jira answers 503",
            "-",
            result.final_decision.outcome.value,
            "DENY",
            result.final_decision.reasons[-1].message,
        )
        security.shutdown()
    click.echo("  * the original accepted any id when no validateTicket function was given")
    return ok


def run_demo() -> int:
    """Run the three parts; 0 when every outcome is the expected one."""
    ok = _part_sandbox()
    ok &= _part_process()
    ok &= _part_tickets()
    click.echo("all outcomes as expected" if ok else "SOME OUTCOMES DIFFER")
    return 0 if ok else 1


@click.command("containment")
def demo() -> None:
    """Sandbox profiles, the process sandbox and change control, against the original's outcomes."""
    raise SystemExit(run_demo())
