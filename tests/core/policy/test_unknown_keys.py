"""A misspelt key in a policy names the key, where it is (rule id and path), and the key it misspells."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from agent_security.core.errors import PolicyLoadError
from agent_security.core.policy import load_policy, load_policy_yaml
from agent_security.core.policy.models import close_key, known_keys

BASE: dict[str, Any] = {
    "version": "1",
    "generated_at": "2026-01-01T00:00:00Z",
    "expires_at": "2099-01-01T00:00:00Z",
    "rules": [
        {"id": "ALLOW_READS", "match": {"tool_name": "read_*"}, "outcome": "ALLOW"},
        {
            "id": "PAYMENTS",
            "match": {"tool_name": "pay", "environment": "prod"},
            "when": {"tool_args_match": {"amount": {"gt": 1000}}},
            "outcome": "REQUIRE_APPROVAL",
        },
    ],
    "defaults": {"outcome": "DENY"},
}


def _error(change: Any) -> PolicyLoadError:
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(PolicyLoadError) as info:
        load_policy(data)
    return info.value


def _rename(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


def test_rule_match_key():
    err = _error(lambda d: _rename(d["rules"][1]["match"], "tool_name", "tool_nam"))
    assert str(err) == (
        "Rule \"PAYMENTS\": match.tool_nam: unknown key 'tool_nam' (did you mean 'tool_name'?)"
    )  # the missing tool_name is the same problem: not counted again
    assert (err.rule_id, err.field) == ("PAYMENTS", "match.tool_nam")


def test_rule_level_key():
    err = _error(lambda d: _rename(d["rules"][0], "outcome", "outcom"))
    assert str(err) == "Rule \"ALLOW_READS\": outcom: unknown key 'outcom' (did you mean 'outcome'?)"
    err = _error(lambda d: d["rules"][1].update(approverRole="finance"))
    assert "unknown key 'approverRole' (did you mean 'approver_role'?)" in str(err)
    assert err.field == "approverRole"


def test_condition_level_keys():
    err = _error(lambda d: d["rules"][1]["when"].update(contains_anyy=["export"]))
    assert str(err) == (
        "Rule \"PAYMENTS\": when.contains_anyy: unknown key 'contains_anyy' (did you mean 'contains_any'?)"
    )
    err = _error(lambda d: _rename(d["rules"][1]["when"]["tool_args_match"]["amount"], "gt", "gtt"))
    assert err.field == "when.tool_args_match.amount.gtt"
    assert "unknown operator 'gtt' (did you mean 'gt'?" in str(err)


def test_top_level_keys():
    err = _error(lambda d: _rename(d, "rules", "rule"))
    assert str(err) == "PolicyBundle: rule: unknown key 'rule' (did you mean 'rules'?)"
    assert (err.rule_id, err.field) == (None, "rule")
    err = _error(lambda d: _rename(d, "defaults", "Defaults"))
    assert "unknown key 'Defaults' (did you mean 'defaults'?)" in str(err)
    err = _error(lambda d: _rename(d["defaults"], "outcome", "outcomes"))
    assert str(err) == "PolicyBundle: defaults.outcomes: unknown key 'outcomes' (did you mean 'outcome'?)"


def test_no_suggestion_when_nothing_is_close():
    err = _error(lambda d: d["rules"][0].update(priority=3))
    assert str(err) == "Rule \"ALLOW_READS\": priority: unknown key 'priority'"


def test_keys_already_given_are_not_suggested():
    # environment is present: "environments" is an unknown key, not a second environment
    err = _error(lambda d: d["rules"][1]["match"].update(environments=["dev"]))
    assert "did you mean" not in str(err)


def test_other_problems_are_still_counted():
    def two(d: dict[str, Any]) -> None:
        _rename(d["rules"][1]["match"], "tool_name", "tool_nam")
        d["rules"][0]["outcome"] = "MAYBE"

    assert str(_error(two)).endswith("(did you mean 'tool_name'?) (and 1 more problem)")


def test_yaml_file_reports_the_same(tmp_path):
    text = (
        'version: "1"\ngenerated_at: "2026-01-01"\nexpires_at: "2099-01-01"\ndefaults: {outcome: DENY}\n'
        "rules:\n  - id: R\n    match: {tool_nam: send_email}\n    outcome: DENY\n"
    )
    with pytest.raises(
        PolicyLoadError,
        match=r"Rule \"R\": match\.tool_nam: unknown key 'tool_nam' "
        r"\(did you mean 'tool_name'\?\)",
    ):
        load_policy_yaml(text)
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyLoadError, match=r"policy\.yaml: Rule \"R\": match\.tool_nam: .*'tool_name'"):
        load_policy(path)


def test_known_keys_follow_the_models():
    assert known_keys(()) is not None and "rules" in known_keys(())  # type: ignore[operator]
    assert known_keys(("rules", 3, "match")) == (
        "tool_name",
        "environment",
        "agent_type",
        "trust_level_min",
        "agent_roles_any",
        "tool_provider",
    )
    assert "contains_any" in known_keys(("rules", 0, "when"))  # type: ignore[operator]
    assert known_keys(("rules", 0, "constraints")) is None  # free-form
    assert known_keys(("nowhere",)) is None
    assert close_key("TOOLNAME", ["tool_name", "environment"]) == "tool_name"
    assert close_key("xyz", ["tool_name"]) is None
