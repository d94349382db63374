"""State behind the store: processes sharing one SQLite file share kills, incident claims and detection
state; a short-lived process continues where the last one stopped; a store failure is a DENY."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_security.core import AgentSecurity, MemoryStore, StoreError
from agent_security.core.builtin import kill_switch
from agent_security.core.errors import StoreUnavailable
from agent_security.core.store import open_store
from agent_security.core.testing import FakeClock
from agent_security.guardian import GuardianAgent, GuardianConfig

POLICY = """{"version": "1.0.0", "generated_at": "2026-01-01T00:00:00.000Z", "expires_at": "2099-01-01T00:00:00.000Z",
 "rules": [{"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
 "defaults": {"outcome": "DENY"}}"""
QUIET: dict[str, Any] = {"denial_burst_threshold": 0, "first_use": False, "baseline": {"enabled": False}}


def instance(store: Any, clock: FakeClock, **cfg: Any) -> tuple[AgentSecurity, GuardianAgent]:
    guardian = GuardianAgent(GuardianConfig.model_validate({**QUIET, **cfg}))
    security = AgentSecurity(
        policy_json=POLICY, autoload=False, plugins=[kill_switch(), guardian], store=store, clock=clock
    )
    return security, guardian


def incidents(*securities: AgentSecurity) -> list[Any]:
    return [e for s in securities for e in s.get_audit_log() if e.kind == "guardian.incident"]


def test_a_kill_in_one_process_holds_in_another(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    url = f"sqlite:///{tmp_path / 'state.db'}"
    a, _ = instance(open_store(url, clock=clock), clock, mode="block", frequency_threshold=2, auto_kill_threshold=1)
    b, _ = instance(open_store(url, clock=clock), clock, mode="block", frequency_threshold=2, auto_kill_threshold=1)
    assert b.check_tool_call(tool_name="t", agent_id="bot").allowed
    for _ in range(3):
        clock.advance(1)
        a.check_tool_call(tool_name="t", agent_id="bot")
    clock.advance(1)
    assert b.check_tool_call(tool_name="t", agent_id="bot").final_decision.codes == ("AGENT_KILL_SWITCH",)
    a.shutdown()
    b.shutdown()


def test_one_incident_across_processes_and_one_kill(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    url = f"sqlite:///{tmp_path / 'state.db'}"
    cfg = {"mode": "monitor", "frequency_threshold": 2, "auto_kill_threshold": 1}
    a, _ = instance(open_store(url, clock=clock), clock, **cfg)
    b, _ = instance(open_store(url, clock=clock), clock, **cfg)
    for _ in range(4):
        for s in (a, b):
            clock.advance(1)
            s.check_tool_call(tool_name="t", agent_id="bot")
    written = incidents(a, b)
    assert [e.data["type"] for e in written] == ["frequency_spike", "auto_kill"]
    a.shutdown()
    b.shutdown()


def test_short_lived_processes_continue_the_detection(tmp_path: Path) -> None:
    """A hook host starts one process per tool call: each reads the agent's state and writes it back."""
    clock = FakeClock(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    url = f"sqlite:///{tmp_path / 'state.db'}"
    found = []
    for _ in range(4):
        clock.advance(2)
        security, _ = instance(open_store(url, clock=clock), clock, frequency_threshold=2,
                               suspicious_sequences=[["t", "t", "t", "t"]])  # fmt: skip
        security.check_tool_call(tool_name="t", agent_id="bot")
        found += [e.data["type"] for e in incidents(security)]
        security.shutdown()
    assert found == ["frequency_spike", "suspicious_sequence"]


def test_a_malformed_stored_state_is_reported_and_replaced() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    store.set("guardian:state:bot", {"v": 1, "since": "yesterday"})
    security, guardian = instance(store, clock, frequency_threshold=2)
    assert security.check_tool_call(tool_name="t", agent_id="bot").allowed
    [bad] = [e for e in security.get_audit_log() if e.kind == "guardian.state_invalid"]
    assert bad.agent_id == "bot" and "ValueError" in bad.data["error"]
    guardian.flush()
    assert store.get("guardian:state:bot")["v"] == 1


class _FailingGuardianKeys(MemoryStore):
    """The real memory store, failing for the guardian's keys (a store outage seen by the guardian only)."""

    def get(self, key: str, default: Any = None) -> Any:
        if key.startswith("guardian:"):
            raise StoreUnavailable("store down")
        return super().get(key, default)


def test_a_store_failure_is_a_deny() -> None:
    clock = FakeClock()
    security, _ = instance(_FailingGuardianKeys(clock=clock), clock, frequency_threshold=2)
    result = security.check_tool_call(tool_name="t", agent_id="bot")
    assert not result.allowed
    assert "AUDIT_FAILURE" in result.final_decision.codes and "PLUGIN_ERROR" in result.final_decision.codes
    assert issubclass(StoreUnavailable, StoreError)


def test_threads_lose_no_update() -> None:
    clock = FakeClock()
    threads, calls = 8, 50
    security, guardian = instance(
        MemoryStore(clock=clock), clock, volume_threshold=threads * calls - 1, frequency_threshold=calls - 1,
        window_s=3600,
    )  # fmt: skip
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for _ in range(calls):
                security.check_tool_call(tool_name=f"tool-{n}", agent_id="shared")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    kinds = sorted(i.type.value for i in guardian.incidents())
    # every tool reached exactly its threshold + 1 calls, the agent its total: no update was lost
    assert kinds == ["frequency_spike"] * threads + ["volume_spike"]
    assert len(incidents(security)) == threads + 1


def test_direct_feeding_from_threads_and_asyncio() -> None:
    clock = FakeClock()
    security, guardian = instance(MemoryStore(clock=clock), clock, frequency_threshold=19, window_s=3600)

    async def main() -> None:
        await asyncio.gather(*(security.acheck_tool_call(tool_name="t", agent_id="async-bot") for _ in range(20)))

    asyncio.run(main())
    assert [i.type.value for i in guardian.incidents("async-bot")] == ["frequency_spike"]
