"""The prefilter (issue 20, scale): a large bundle evaluates only the rules whose gates open, and decides
exactly as rule-by-rule evaluation does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_security.core.models import Action, ActionRequest, AgentInfo, RequestContext
from agent_security.core.policy import PolicyEngine, load_policy
from agent_security.core.policy.when import CompiledWhen

NOW = datetime(2026, 6, 1, tzinfo=UTC)
WORDS = [
    "export",
    "dump",
    "wipe",
    "--dry-run",
    "\uff45\uff58\uff50\uff4f\uff52\uff54",
    "\u0435xport",
    "all",
    "5000",
    "drop",
]
PATTERNS = [r"\bwipe\s+all\b", r"^drop", r"dump$", r"\d{4}", r"exp(o|0)rt"]


def _bundle(rules: list[dict[str, Any]], default: str = "ALLOW") -> PolicyEngine:
    data = {
        "version": "1",
        "generated_at": "2026-01-01T00:00:00Z",
        "expires_at": "2027-01-01T00:00:00Z",
        "rules": rules,
        "defaults": {"outcome": default},
    }
    return PolicyEngine(load_policy(data, now=NOW))


def _request(tool: str, args: dict[str, Any], user_input: str | None = None, labels: tuple[str, ...] = ()) -> Any:
    return ActionRequest(
        agent=AgentInfo(agent_id="a", environment="prod"),
        action=Action(tool_name=tool, tool_args=args),
        context=RequestContext(user_input=user_input, data_labels=labels),
    )


def test_an_ordinary_request_evaluates_no_gated_rule(monkeypatch):
    rules = [
        {"id": f"R{i}", "match": {"tool_name": "*"}, "outcome": "DENY", "when": {"contains_any": [f"term{i}x"]}}
        for i in range(300)
    ]
    rules += [
        {"id": f"A{i}", "match": {"tool_name": "*"}, "outcome": "DENY", "when": {"tool_args_match": {f"k{i}": 1}}}
        for i in range(100)
    ]
    engine = _bundle(rules)
    calls = []
    original = CompiledWhen.evaluate

    def counting(self: CompiledWhen, view: Any) -> Any:
        calls.append(self)
        return original(self, view)

    monkeypatch.setattr(CompiledWhen, "evaluate", counting)
    assert engine.evaluate(_request("read_file", {"path": "/tmp/x"}), now=NOW).codes == ("DEFAULT_ALLOW",)
    assert calls == []
    assert engine.evaluate(_request("read_file", {"path": "term250x and term7x"}), now=NOW).codes == ("R7",)
    assert len(calls) == 1
    assert engine.evaluate(_request("read_file", {"k42": "1"}), now=NOW).codes == ("A42",)


def test_truncated_text_opens_every_keyword_gate():
    rules = [
        {"id": f"R{i}", "match": {"tool_name": "*"}, "outcome": "DENY", "when": {"contains_any": [f"term{i}x"]}}
        for i in range(40)
    ]
    engine = _bundle(rules)
    deep: Any = "x"
    for _ in range(40):
        deep = [deep]
    decision = engine.evaluate(_request("t", {"a": deep}), now=NOW)
    assert decision.codes == ("R0", "POLICY_CONDITION_INDETERMINATE")


_when = st.fixed_dictionaries(
    {},
    optional={
        "contains_any": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
        "not_contains": st.lists(st.sampled_from(WORDS), min_size=1, max_size=2),
        "matches_regex": st.sampled_from(PATTERNS),
        "data_labels_any": st.lists(st.sampled_from(["PII", "PCI"]), min_size=1, max_size=2),
        "tool_args_match": st.dictionaries(
            st.sampled_from(["amount", "cmd", "opts.force", "items.sku"]),
            st.one_of(
                st.sampled_from([True, "x", 5000, "export"]),
                st.fixed_dictionaries({}, optional={"gt": st.integers(0, 9999), "neq": st.just("x")}).filter(bool),
            ),
            min_size=1,
            max_size=2,
        ),
    },
)


def _rule(i: int) -> Any:
    return st.fixed_dictionaries(
        {
            "id": st.just(f"R{i}"),
            "match": st.fixed_dictionaries({"tool_name": st.sampled_from(["*", "*", "t", "t*", "u"])}),
            "outcome": st.sampled_from(["ALLOW", "DENY", "REQUIRE_APPROVAL"]),
            "when": _when,
        }
    )


_bundles = st.integers(20, 40).flatmap(lambda n: st.tuples(*(_rule(i) for i in range(n))))
_text = st.lists(st.sampled_from([*WORDS, "x", "hello", "wipe  all", "SELECT"]), max_size=4).map(" ".join)
_value = st.recursive(
    st.one_of(_text, st.integers(0, 9999), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["sku", "force"]), inner)),
    max_leaves=6,
)
_requests = st.fixed_dictionaries(
    {
        "tool": st.sampled_from(["t", "tx", "u", "\u0442"]),
        "args": st.dictionaries(st.sampled_from(["amount", "cmd", "opts", "opts.force", "items", "note"]), _value),
        "user_input": st.one_of(st.none(), _text),
        "labels": st.lists(st.sampled_from(["PII", "PCI", "X"]), max_size=2).map(tuple),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bundles, st.lists(_requests, min_size=1, max_size=8))
def test_the_prefilter_is_transparent(rules, requests):
    engine = _bundle(
        [dict(r, when=r["when"]) if r["when"] else {k: v for k, v in r.items() if k != "when"} for r in rules]
    )
    for r in requests:
        request = _request(r["tool"], r["args"], r["user_input"], r["labels"])
        assert engine.evaluate(request, now=NOW) == engine._evaluate_unindexed(request, now=NOW), r
