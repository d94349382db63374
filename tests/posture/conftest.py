"""Real audit trails for the posture tests: written by ``AgentSecurity`` with a policy file, the kill switch
and a fake clock (nothing depends on the wall clock), to a JSON Lines file or a SQLite database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_security.core.builtin import kill_switch
from agent_security.core.pipeline.facade import AgentSecurity
from agent_security.core.testing import FakeClock

POLICY = """version: "1.0.0"
generated_at: "2026-01-01T00:00:00Z"
expires_at: "2099-01-01T00:00:00Z"
rules:
  - id: DENY_DELETE
    description: Deleting records is not allowed
    match: {tool_name: ["delete_*"]}
    outcome: DENY
  - id: APPROVE_PAYMENT
    description: Payments need approval
    match: {tool_name: trigger_payment}
    outcome: REQUIRE_APPROVAL
  - id: ALLOW_REST
    description: Everything else
    match: {tool_name: "*"}
    outcome: ALLOW
defaults: {outcome: DENY}
"""

HOSTILE_AGENT = 'evil|x=1 CEF:0|forged| act=ALLOW <script>alert("x")</script> ]"\\'
HOSTILE_TOOL = '=HYPERLINK("http://x")|cmd'


class TrailWriter:
    """An ``AgentSecurity`` writing to one trail, with helpers for the events posture reads."""

    def __init__(self, path: Path, policy: Path, clock: FakeClock, *, approve: bool | None = None) -> None:
        self.path = path
        self.clock = clock
        self.kill_switch = kill_switch()
        audit = {"sqlite_path": str(path)} if path.suffix == ".db" else {"jsonl_path": str(path)}
        kwargs: dict[str, Any] = {}
        if approve is not None:
            kwargs["on_approval_required"] = lambda *a, **k: approve
        self.security = AgentSecurity(
            plugins=[self.kill_switch],
            policy_path=policy,
            config={"core": {"audit": audit}},
            clock=clock,
            **kwargs,
        )

    def call(self, tool: str, agent: str, *, env: str = "prod", advance: float = 30.0) -> Any:
        result = self.security.check_tool_call(tool_name=tool, agent_id=agent, environment=env)
        self.clock.advance(advance)
        return result

    def incident(
        self,
        incident_id: str,
        agent: str,
        *,
        severity: str = "high",
        status: str = "open",
        kind: str = "frequency_spike",
        description: str = "too many calls",
        action: str = "blocked",
    ) -> None:
        self.security.record_event(
            "guardian.incident",
            {
                "incident_id": incident_id,
                "type": kind,
                "severity": severity,
                "status": status,
                "description": description,
                "action_taken": action,
                "evidence": [],
            },
            agent_id=agent,
        )

    def standard(self) -> TrailWriter:
        """finance-bot reads (3 ALLOW), rogue-bot deletes (4 DENY), support-bot asks for a payment
        (REQUIRE_APPROVAL, resolved), a high guardian incident and a kill of rogue-bot, whose next call is
        denied by the kill switch, then a call with hostile ids."""
        for _ in range(3):
            self.call("query_customer_db", "finance-bot", advance=60)
        for _ in range(4):
            self.call("delete_records", "rogue-bot")
        self.call("trigger_payment", "support-bot")
        self.incident("inc-1", "rogue-bot")
        self.kill_switch.kill("rogue-bot", "compromised")
        self.clock.advance(60)
        self.call("query_customer_db", "rogue-bot")
        self.call(HOSTILE_TOOL, HOSTILE_AGENT)
        return self

    def close(self) -> None:
        self.security.shutdown()


@pytest.fixture
def make_trail(tmp_path: Path) -> Iterator[Callable[..., TrailWriter]]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    writers: list[TrailWriter] = []

    def make(name: str = "trail.jsonl", *, approve: bool | None = None, clock: FakeClock | None = None) -> TrailWriter:
        writer = TrailWriter(tmp_path / name, policy, clock or FakeClock(), approve=approve)
        writers.append(writer)
        return writer

    yield make
    for w in writers:
        w.close()


@pytest.fixture
def standard_trail(make_trail: Callable[..., TrailWriter]) -> Path:
    writer = make_trail(approve=True).standard()
    writer.close()
    return writer.path
