from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_security.core.builtin import KILL_SWITCH_CHANNEL, KillSwitchState, kill_switch, load_state_file
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import Outcome
from agent_security.core.pipeline.hooks import new_plugin_manager as make_plugin_manager
from agent_security.core.store import MemoryStore


def test_agent_kill_denies_with_stored_reason(make_request, make_ctx, store):
    ks = kill_switch(store=store)
    ks.kill("agent-rogue", "Suspicious bulk export pattern detected")
    assert ks.is_killed("agent-rogue")
    res = ks.agent_security_before_check(make_request(agent="agent-rogue"), make_ctx())
    assert res is not None and res.decision is not None
    assert res.decision.outcome is Outcome.DENY
    assert res.decision.codes == ("AGENT_KILL_SWITCH",)
    assert res.decision.reasons[0].message == "Suspicious bulk export pattern detected"
    assert res.decision.plugin_source == "kill_switch"
    assert ks.agent_security_before_check(make_request(agent="agent-001"), make_ctx()) is None
    ks.revive("agent-rogue")
    assert not ks.is_killed("agent-rogue")
    assert ks.agent_security_before_check(make_request(agent="agent-rogue"), make_ctx()) is None


def test_default_messages(make_request, make_ctx, store):
    ks = kill_switch(store=store)
    ks.kill("x")
    res = ks.agent_security_before_check(make_request(agent="x"), make_ctx())
    assert res.decision.reasons[0].message == "Agent x disabled"
    ks.kill_all()
    res = ks.agent_security_before_check(make_request(agent="y"), make_ctx())
    assert res.decision.codes == ("GLOBAL_KILL_SWITCH",)
    assert res.decision.reasons[0].message == "All agents are disabled via global kill switch"
    ks.kill_all("maintenance")
    res = ks.agent_security_before_check(make_request(agent="y"), make_ctx())
    assert res.decision.reasons[0].message == "maintenance"
    assert ks.is_globally_killed() and ks.is_killed("anyone")


def test_revive_all_clears_global_and_agents(store):
    ks = kill_switch(store=store)
    ks.kill("a")
    ks.kill("b", "r")
    ks.kill_all("stop")
    assert ks.get_killed_agents() == ["a", "b"]
    ks.revive_all()
    assert not ks.is_globally_killed()
    assert ks.get_killed_agents() == []
    assert ks.get_state() == KillSwitchState(killed_agents={}, global_kill=False, global_reason="")


def test_agent_ids_with_separators_do_not_collide(store):
    ks = kill_switch(store=store)
    ks.kill("a:b")
    assert ks.is_killed("a:b")
    assert not ks.is_killed("a")
    assert not ks.is_killed("a%3Ab")
    assert ks.get_killed_agents() == ["a:b"]


def test_state_round_trip_through_file(tmp_path: Path, store):
    ks = kill_switch(store=store)
    ks.kill("a", "why")
    ks.kill_all("all")
    path = tmp_path / "ks.json"
    ks.save_state(path)
    ks2 = kill_switch(store=MemoryStore(), load_state=lambda: load_state_file(path))
    assert ks2.load_error is None
    assert ks2.get_state() == ks.get_state()
    assert ks2.get_state().global_reason == "all"


def test_loads_agent_spm_camel_case_state(store):
    ks = kill_switch(
        store=store,
        load_state=lambda: {"killedAgents": {"bot": "Compromised"}, "globalKill": False, "globalReason": ""},
    )
    assert ks.is_killed("bot") and not ks.is_globally_killed()


@pytest.mark.parametrize(
    "loader",
    [
        lambda: (_ for _ in ()).throw(OSError("disk gone")),
        lambda: {"killed_agents": "not-a-dict"},
        lambda: {"unknown": 1},
    ],
)
def test_load_failure_fails_closed(loader, make_request, make_ctx, store):
    ks = kill_switch(store=store, load_state=loader)
    assert ks.load_error is not None
    assert ks.is_globally_killed()
    res = ks.agent_security_before_check(make_request(agent="anyone"), make_ctx())
    assert res.decision.codes == ("GLOBAL_KILL_SWITCH",)
    assert "could not be loaded" in res.decision.reasons[0].message
    ks.revive_all()
    assert not ks.is_killed("anyone")


def test_missing_state_file_fails_closed_unless_missing_ok(tmp_path: Path, store):
    missing = tmp_path / "nope.json"
    ks = kill_switch(store=store, load_state=lambda: load_state_file(missing))
    assert ks.is_globally_killed() and ks.load_error == "FileNotFoundError"
    ks2 = kill_switch(store=MemoryStore(), load_state=lambda: load_state_file(missing, missing_ok=True))
    assert not ks2.is_globally_killed()


def test_corrupt_state_file_fails_closed(tmp_path: Path, store):
    path = tmp_path / "ks.json"
    path.write_text("{not json")
    ks = kill_switch(store=store, load_state=lambda: load_state_file(path))
    assert ks.is_globally_killed()


def test_load_state_method_validates_and_replaces(store):
    ks = kill_switch(store=store)
    ks.kill("old")
    with pytest.raises(ValueError, match="invalid kill switch state"):
        ks.load_state({"killed_agents": {"x": 1}, "global_kill": "maybe"})
    assert ks.get_killed_agents() == ["old"]
    ks.load_state(KillSwitchState(killed_agents={"new": "n"}, global_kill=False, global_reason=""))
    assert ks.get_killed_agents() == ["new"]


def test_state_changes_are_published_and_reported(store):
    seen: list[object] = []
    states: list[KillSwitchState] = []
    store.subscribe(KILL_SWITCH_CHANNEL, lambda ch, msg: seen.append(msg))
    ks = kill_switch(store=store, on_state_change=states.append)
    ks.kill("a", "r")
    ks.kill_all()
    ks.revive("a")
    ks.revive_all()
    assert [m["op"] for m in seen] == ["kill", "kill_all", "revive", "revive_all"]
    assert seen[0] == {"op": "kill", "agent_id": "a", "reason": "r"}
    assert states[0].killed_agents == {"a": "r"}
    assert states[1].global_kill is True
    assert states[-1] == KillSwitchState(killed_agents={}, global_kill=False, global_reason="")


def test_persistence_failure_is_not_silent_but_kill_applies(store):
    def boom(state: KillSwitchState) -> None:
        raise OSError("disk full")

    ks = kill_switch(store=store, on_state_change=boom)
    with pytest.raises(OSError):
        ks.kill("a")
    assert ks.is_killed("a")


def test_shared_store_makes_kill_visible_to_other_instance(store, make_request, make_ctx):
    ks1 = kill_switch(store=store)
    ks2 = kill_switch(store=store)
    ks1.kill("bot", "fleet kill")
    res = ks2.agent_security_before_check(make_request(agent="bot"), make_ctx())
    assert res.decision.reasons[0].message == "fleet kill"


def test_unbound_plugin_binds_to_ctx_store_and_carries_kills_over(make_request, make_ctx):
    ks = kill_switch()
    ks.kill("early", "before registration")
    shared = MemoryStore()
    res = ks.agent_security_before_check(make_request(agent="early"), make_ctx(st=shared))
    assert res.decision.reasons[0].message == "before registration"
    assert ks.store is shared and ks.store_bound
    ks.kill("later")
    assert kill_switch(store=shared).is_killed("later")


def test_bind_store_is_ignored_when_store_was_explicit(store):
    ks = kill_switch(store=store)
    ks.bind_store(MemoryStore())
    assert ks.store is store


def test_registers_with_plugin_manager():
    pm = make_plugin_manager()
    ks = kill_switch()
    pm.register(ks, name=ks.name)
    names = {c.name for c in pm.get_hookcallers(ks) or ()}
    assert names == {"agent_security_before_check"}
    assert ks.fail_open is False
    assert hookimpl  # marker shared with the manager (project name matches)


def test_reason_is_bounded(store):
    ks = kill_switch(store=store)
    ks.kill("a", "x" * 10_000)
    assert len(ks.get_state().killed_agents["a"]) == 1000


def test_save_state_file_is_valid_json(tmp_path: Path, store):
    ks = kill_switch(store=store)
    ks.kill("a")
    path = tmp_path / "s.json"
    ks.save_state(path)
    assert json.loads(path.read_text())["killed_agents"] == {"a": "Agent a disabled"}
