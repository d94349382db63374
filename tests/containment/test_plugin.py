"""The containment plugin in the pipeline: discovered, configured from [containment], sandbox denials,
ticket gates and REQUIRE_TICKET resolved by a ticket validator (a local server speaking Jira's JSON)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent_security.containment import ChangeControl, JiraValidator, SandboxManager, containment_plugin
from agent_security.containment.guard import PLUGIN_NAME
from agent_security.containment.testing import TicketServer, jira_issue, ticket_server
from agent_security.core import AgentSecurity, ConfigurationError, Decision, Outcome, Reason
from agent_security.core.clock import CallableClock
from agent_security.core.errors import ConfigFileError
from agent_security.core.testing import StaticEngine

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ALLOW = StaticEngine(lambda r: Decision.allow("OK"))
TICKET = StaticEngine(
    lambda r: Decision(outcome=Outcome.REQUIRE_TICKET, reasons=(Reason(code="PROD_CHANGE", message="needs a ticket"),))
)
TICKETS = {
    "CHG-1": jira_issue("CHG-1", "Approved", "Run db_migrate in prod for ops-bot", duedate="2026-06-30"),
    "CHG-2": jira_issue("CHG-2", "Approved", "Run db_migrate in staging", duedate="2026-06-30"),
    "CHG-3": jira_issue("CHG-3", "Rejected", "Run db_migrate in prod", duedate="2026-06-30"),
}


@pytest.fixture
def server() -> Iterator[TicketServer]:
    with ticket_server(TICKETS) as s:
        yield s


def security(engine: StaticEngine = ALLOW, **kwargs: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, clock=CallableClock(lambda: NOW, time.monotonic), **kwargs)


def final(sec: AgentSecurity, tool: str, args: dict[str, Any], env: str = "prod") -> tuple[str, tuple[str, ...], str]:
    d = sec.check_tool_call(tool_name=tool, tool_args=args, agent_id="ops-bot", environment=env).final_decision
    return d.outcome.value, d.codes, d.reasons[-1].message if d.reasons else ""


def write_config(tmp_path: Path, server: TicketServer) -> Path:
    cfg = tmp_path / "agent-security.toml"
    cfg.write_text(
        f"""
[containment]
ticket_required_tools = ["db_*"]

[containment.sandboxes.read_file]
read_paths = ["{tmp_path}"]

[containment.sandboxes.fetch]
network_enabled = true
allowed_hosts = ["api.example.com"]

[containment.change_control]
provider = "jira"
base_url = "{server.url}"
username_env = "TEST_JIRA_USER"
password_env = "TEST_JIRA_TOKEN"
ticket_pattern = "CHG-[0-9]{{1,6}}"
required_statuses = ["Approved"]
scope = ["tool", "environment"]
timeout_s = 2
"""
    )
    return cfg


def test_discovered_and_inert_without_a_section() -> None:
    sec = security()
    info = next(i for i in sec.plugin_infos if i.name == "containment")
    assert info.distribution == "agent-security-containment" and info.config_section == "containment"
    assert sec.get_plugin(PLUGIN_NAME) is None
    assert final(sec, "read_file", {"path": "/etc/shadow"})[0] == "ALLOW"


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "agent-security.toml"
    cfg.write_text("[containment]\nunknown_setting = 1\n")
    with pytest.raises(ConfigFileError) as err:
        security(config_path=cfg)
    assert err.value.section == "containment"
    cfg.write_text("[containment.sandboxes.t]\nallowed_paths = ['relative']\n")
    with pytest.raises(ConfigFileError):
        security(config_path=cfg)


def test_configured_from_its_section(tmp_path: Path, server: TicketServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_JIRA_USER", "ops@example.com")
    monkeypatch.setenv("TEST_JIRA_TOKEN", "api-token")
    sec = security(config_path=write_config(tmp_path, server))
    assert sec.get_plugin(PLUGIN_NAME) is not None
    assert final(sec, "read_file", {"path": str(tmp_path / "a.txt")})[0] == "ALLOW"
    outcome, codes, message = final(sec, "read_file", {"path": f"{tmp_path}/../../etc/shadow"})
    assert (outcome, codes) == ("DENY", ("SANDBOX_VIOLATION",)) and message.startswith("Sandbox violation: Path")
    assert final(sec, "fetch", {"url": "http://0x7f.1/"})[1] == ("SANDBOX_VIOLATION",)
    # a ticket-required tool: no ticket, a valid one, one for another environment, a rejected one
    assert final(sec, "db_migrate", {})[:2] == ("DENY", ("TICKET_REQUIRED", "TICKET_MISSING"))
    assert final(sec, "db_migrate", {"ticket_id": "CHG-1"})[0] == "ALLOW"
    assert final(sec, "db_migrate", {"ticket_id": "CHG-2"})[1] == ("TICKET_OUT_OF_SCOPE",)
    assert final(sec, "db_migrate", {"ticket_id": "CHG-3"})[1] == ("TICKET_INVALID",)
    assert final(sec, "db_migrate", {"ticket_id": "CHG-1; rm"})[1] == ("TICKET_INVALID",)
    assert server.requests[0]["headers"]["Authorization"].startswith("Basic ")
    server.behaviour = "status:500"
    sec.get_plugin(PLUGIN_NAME).change_control.clear_cache()
    assert final(sec, "db_migrate", {"ticket_id": "CHG-1"})[1] == ("TICKET_ERROR",)
    sec.shutdown()


def test_configuration_errors(tmp_path: Path, server: TicketServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_JIRA_USER", raising=False)
    with pytest.raises(ConfigurationError, match="TEST_JIRA_USER"):
        security(config_path=write_config(tmp_path, server))
    cfg = tmp_path / "no-validator.toml"
    cfg.write_text('[containment]\nticket_required_tools = ["deploy"]\n')
    with pytest.raises(ConfigurationError, match="change_control"):
        security(config_path=cfg)
    cfg.write_text("[containment]\nenabled = false\n")
    assert security(config_path=cfg).get_plugin(PLUGIN_NAME) is None


def test_policy_require_ticket_is_resolved_by_the_validator(server: TicketServer) -> None:
    asked: list[str] = []
    control = ChangeControl(
        validator=JiraValidator(server.url), required_statuses=("Approved",), scope=("tool", "environment")
    )
    sec = security(
        TICKET,
        plugins=[containment_plugin(change_control=control)],
        on_ticket_required=lambda request, decision: asked.append("app") or "CHG-3",
    )
    result = sec.check_tool_call(
        tool_name="db_migrate", tool_args={"ticket_id": "CHG-1"}, agent_id="ops-bot", environment="prod"
    )
    assert result.allowed and result.final_decision.codes == ("PROD_CHANGE", "TICKET_VALIDATED")
    assert "CHG-1" in result.final_decision.reasons[-1].message
    outcome, codes, message = final(sec, "db_migrate", {"ticket_id": "CHG-2"})
    assert (outcome, codes) == ("DENY", ("PROD_CHANGE", "TICKET_MISSING")) and "TICKET_OUT_OF_SCOPE" in message
    assert final(sec, "db_migrate", {})[1] == ("PROD_CHANGE", "TICKET_MISSING")
    assert asked == []  # with a validator configured, the application's callback cannot wave a ticket through


def test_ticket_provider_and_without_change_control(server: TicketServer) -> None:
    control = ChangeControl(validator=JiraValidator(server.url), required_statuses=("Approved",))
    sec = security(
        TICKET,
        plugins=[containment_plugin(change_control=control, ticket_provider=lambda request, decision: "CHG-1")],
    )
    assert final(sec, "db_migrate", {})[0] == "ALLOW"
    # no change control: the plugin does not answer, the application's callback does
    plain = security(TICKET, plugins=[containment_plugin()], on_ticket_required=lambda request, decision: "ANY-1")
    assert final(plain, "db_migrate", {})[0] == "ALLOW"


def test_on_blocked_and_async(server: TicketServer, tmp_path: Path) -> None:
    blocked: list[tuple[str, str]] = []
    manager = SandboxManager()
    manager.register_sandbox("read_file", {"read_paths": [str(tmp_path)]})
    control = ChangeControl(validator=JiraValidator(server.url), required_statuses=("Approved",))
    plugin = containment_plugin(
        sandbox_manager=manager,
        change_control=control,
        ticket_required_tools=["deploy"],
        on_blocked=lambda tool, reason: blocked.append((tool, reason)),
    )
    sec = security(plugins=[plugin])
    assert final(sec, "read_file", {"path": "/etc/shadow"})[0] == "DENY"
    assert final(sec, "deploy", {})[0] == "DENY"
    assert blocked[0][0] == "read_file" and blocked[0][1].startswith("Sandbox violation")
    assert blocked[1] == ("deploy", 'Tool "deploy" requires a change ticket')

    def broken(tool: str, reason: str) -> None:
        raise RuntimeError("notification failed")

    sec2 = security(plugins=[containment_plugin(sandbox_manager=manager, on_blocked=broken)])
    assert final(sec2, "read_file", {"path": "/etc/shadow"})[1] == ("SANDBOX_VIOLATION",)

    async def main() -> list[str]:
        results = await asyncio.gather(
            sec.acheck_tool_call(
                tool_name="deploy", tool_args={"ticket_id": "CHG-1"}, agent_id="a", environment="prod"
            ),
            sec.acheck_tool_call(
                tool_name="deploy", tool_args={"ticket_id": "CHG-3"}, agent_id="a", environment="prod"
            ),
            sec.acheck_tool_call(tool_name="read_file", tool_args={"path": str(tmp_path / "x")}, agent_id="a"),
        )
        return [r.final_decision.outcome.value for r in results]

    assert asyncio.run(main()) == ["ALLOW", "DENY", "ALLOW"]


def test_ticket_required_tools_need_change_control() -> None:
    with pytest.raises(ValueError, match="change_control"):
        containment_plugin(ticket_required_tools=["deploy"])


def test_demo_command() -> None:
    from agent_security.core.cli import build_cli

    result = CliRunner().invoke(build_cli(), ["demo", "containment"])
    assert result.exit_code == 0, result.output
    assert "all outcomes as expected" in result.output


def test_the_example_runs_as_its_readme_says() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, str(root / "examples" / "containment" / "run.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    outcomes = [line.split()[0] for line in lines[:10]]
    assert outcomes == ["ALLOW", "DENY", "DENY", "ALLOW", "DENY", "ALLOW", "DENY", "DENY", "ALLOW", "DENY"]
    assert "TICKET_MISSING" in lines[7] and "TICKET_OUT_OF_SCOPE" in lines[9]
    assert lines[10].startswith(("sandboxed run:", "no process sandbox here:"))


def test_violations_are_in_the_audit_event_and_async_ticket_providers(server: TicketServer) -> None:
    manager = SandboxManager()
    manager.register_sandbox("read_file", {"read_paths": ["/srv"]})
    sec = security(plugins=[containment_plugin(sandbox_manager=manager)])
    result = sec.check_tool_call(tool_name="read_file", tool_args={"path": "/srv/../etc/passwd"}, agent_id="a")
    assert result.event.data["plugins"]["containment"] == {"profile": "read_file", "violations": ["PATH_NOT_ALLOWED"]}
    ok = sec.check_tool_call(tool_name="read_file", tool_args={"path": "/srv/x"}, agent_id="a")
    assert "containment" not in ok.event.data.get("plugins", {})

    async def provider(request: Any, decision: Decision) -> str:
        return "CHG-1"

    control = ChangeControl(validator=JiraValidator(server.url), required_statuses=("Approved",))
    sec2 = security(TICKET, plugins=[containment_plugin(change_control=control, ticket_provider=provider)])
    result = sec2.check_tool_call(tool_name="db_migrate", agent_id="ops-bot", environment="prod")
    assert result.allowed
    facts = [e.data.get("plugins", {}).get("containment") for e in result.events]
    assert {"valid": True, "code": "TICKET_VALID", "cached": False, "id": "CHG-1", "status": "Approved"} in [
        f["ticket"] for f in facts if f
    ]
