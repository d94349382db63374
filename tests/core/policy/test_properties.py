"""Property-based tests: any input either loads or raises PolicyLoadError; evaluation never raises
and the index never changes a decision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_security.core.errors import PolicyLoadError
from agent_security.core.models import (
    Action,
    ActionRequest,
    AgentInfo,
    Decision,
    RequestContext,
    ToolIdentity,
    TrustLevel,
)
from agent_security.core.policy import PolicyBundle, PolicyEngine, load_policy, load_policy_json

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = st.sampled_from(
    [
        "send_email",
        "Send_Email",
        "query_db",
        "query_customer_db",
        "trigger_payment",
        "x",
        "*",
        "query_*",
        "*_email",
        "a*b",
        "prod",
        "PROD",
        "dev",
        "staging",
        "",
        "\uff53\uff45\uff4e\uff44_email",
        "send\u200b_email",
    ]
)
VALID_NAMES = NAMES.filter(bool)
TEXT = st.one_of(
    st.text(max_size=12),
    NAMES,
    st.sampled_from(["export", "EXPORT", "ex\u200bport", "dump", "select *", "5000", "1e3", "PCI", "PII"]),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False), TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)
OPERATORS = st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in", "regex", "gtt", "contains"])
PATTERNS = st.sampled_from(
    ["^SELECT", "(a+)+$", "\\w*\\w*!", "(?=x)", "(", "export|dump", "", "a{2000}", "\\u00e9", "[a-z]+"]
)


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly valid values, sometimes arbitrary JSON."""
    return st.one_of(valid, valid, valid, JSON)


def name_spec() -> st.SearchStrategy[Any]:
    return st.one_of(NAMES, st.lists(NAMES, max_size=3))


def arg_condition() -> st.SearchStrategy[Any]:
    operand = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), PATTERNS)
    return st.one_of(SCALARS, st.dictionaries(OPERATORS, operand, min_size=1, max_size=3))


def when_spec() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "contains_any": maybe(st.lists(TEXT, max_size=3)),
            "not_contains": maybe(st.lists(TEXT, max_size=3)),
            "matches_regex": maybe(PATTERNS),
            "data_labels_any": maybe(st.lists(st.sampled_from(["PCI", "PII", "pci", "x"]), max_size=2)),
            "tool_args_match": maybe(
                st.dictionaries(
                    st.sampled_from(["amount", "a.b", "items.0", "to", "a..b"]), arg_condition(), max_size=3
                )
            ),
        },
    )


def rule_spec() -> st.SearchStrategy[dict[str, Any]]:
    match = st.fixed_dictionaries(
        {"tool_name": maybe(name_spec())},
        optional={
            "environment": maybe(name_spec()),
            "agent_type": maybe(name_spec()),
            "trust_level_min": maybe(st.sampled_from([*(t.value for t in TrustLevel), "admin"])),
            "agent_roles_any": maybe(st.lists(st.sampled_from(["admin", "finance.writer", "Admin"]), max_size=2)),
            "tool_provider": maybe(name_spec()),
        },
    )
    return st.fixed_dictionaries(
        {
            "id": maybe(st.sampled_from(["R1", "R2", "R3", "R4", "DENY_X", ""])),
            "match": maybe(match),
            "outcome": maybe(st.sampled_from(["ALLOW", "DENY", "REQUIRE_APPROVAL", "STEP_UP", "deny"])),
        },
        optional={
            "description": maybe(TEXT),
            "when": maybe(when_spec()),
            "approver_role": maybe(TEXT),
            "constraints": maybe(st.dictionaries(TEXT, JSON, max_size=2)),
            "typo_key": JSON,
        },
    )


def bundle_spec() -> st.SearchStrategy[dict[str, Any]]:
    dates = st.sampled_from(
        [
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00.000Z",
            "2026-01-01",
            "yesterday",
            "2026-02-30T00:00:00Z",
            "2030-01-01T00:00:00+02:00",
        ]
    )
    return st.fixed_dictionaries(
        {
            "version": maybe(st.sampled_from(["1", "0.1.0"])),
            "generated_at": maybe(dates),
            "expires_at": maybe(dates),
            "rules": maybe(st.lists(rule_spec(), max_size=5)),
            "defaults": maybe(st.fixed_dictionaries({"outcome": st.sampled_from(["ALLOW", "DENY", "NO"])})),
        },
        optional={"signature": JSON, "signatures": JSON, "extra": JSON},
    )


@SETTINGS
@given(bundle_spec())
def test_random_bundles_load_or_raise_policy_load_error(data):
    try:
        bundle = load_policy(data, now=NOW)
    except PolicyLoadError as exc:
        assert str(exc)
        return
    assert isinstance(bundle, PolicyBundle)
    PolicyEngine(bundle)  # anything that loads also compiles


@SETTINGS
@given(st.one_of(st.text(max_size=200), JSON.map(lambda v: __import__("json").dumps(v))))
def test_random_text_loads_or_raises(text):
    try:
        load_policy_json(text, now=NOW)
    except PolicyLoadError:
        pass


VALID_MATCH = st.fixed_dictionaries(
    {"tool_name": st.one_of(VALID_NAMES, st.lists(VALID_NAMES, max_size=3))},
    optional={
        "environment": st.sampled_from(["*", "prod", "dev", "PR*"]),
        "trust_level_min": st.sampled_from([t.value for t in TrustLevel]),
        "agent_roles_any": st.lists(st.sampled_from(["admin", "ops"])),
    },
)
VALID_OPERATORS = st.fixed_dictionaries(
    {},
    optional={
        "gt": st.integers(0, 10_000),
        "lte": st.integers(0, 10_000),
        "in": st.lists(SCALARS, max_size=3),
        "regex": st.sampled_from(["@evil", "^\\d+$"]),
    },
).filter(bool)
VALID_WHEN = st.fixed_dictionaries(
    {},
    optional={
        "contains_any": st.lists(st.sampled_from(["export", "dump", "5000"]), max_size=2),
        "not_contains": st.lists(st.sampled_from(["safe", "x"]), max_size=2),
        "matches_regex": st.sampled_from(["^select", "(a+)+$", "\\d{4}"]),
        "data_labels_any": st.lists(st.sampled_from(["PCI", "PII"]), max_size=2),
        "tool_args_match": st.dictionaries(
            st.sampled_from(["amount", "customer.country", "to"]), st.one_of(SCALARS, VALID_OPERATORS), max_size=2
        ),
    },
)


def _valid_rules() -> st.SearchStrategy[list[dict[str, Any]]]:
    def rule(i: int) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries(
            {
                "id": st.just(f"R{i}"),
                "match": VALID_MATCH,
                "outcome": st.sampled_from(["ALLOW", "DENY", "REQUIRE_APPROVAL"]),
            },
            optional={"when": VALID_WHEN},
        )

    return st.integers(0, 8).flatmap(lambda n: st.tuples(*(rule(i) for i in range(n))).map(list))


def _request(
    tool: str,
    env: str,
    args: dict[str, Any],
    user_input: str | None,
    labels: tuple[str, ...],
    trust: TrustLevel | None,
    roles: tuple[str, ...],
    provider: str | None,
) -> ActionRequest:
    identity = ToolIdentity(tool_name=tool, provider=provider) if provider else None
    return ActionRequest(
        agent=AgentInfo(agent_id="a", environment=env, trust_level=trust, roles=roles),
        action=Action(tool_name=tool, tool_args=args, tool_identity=identity),
        context=RequestContext(user_input=user_input, data_labels=labels),
    )


def requests() -> st.SearchStrategy[ActionRequest]:
    return st.builds(
        _request,
        NAMES,
        st.one_of(NAMES, st.text(max_size=8)),
        st.dictionaries(st.sampled_from(["amount", "customer", "to", "q", "items"]), JSON, max_size=4),
        st.one_of(st.none(), TEXT),
        st.lists(st.sampled_from(["PCI", "pii", "x"]), max_size=2).map(tuple),
        st.one_of(st.none(), st.sampled_from(list(TrustLevel))),
        st.lists(st.sampled_from(["admin", "OPS", "x"]), max_size=2).map(tuple),
        st.one_of(st.none(), st.sampled_from(["mcp", "custom"])),
    )


@SETTINGS
@given(_valid_rules(), st.sampled_from(["ALLOW", "DENY", "STEP_UP"]), st.lists(requests(), min_size=1, max_size=5))
def test_evaluation_never_raises_and_index_is_transparent(rules, default, reqs):
    bundle = load_policy(
        {
            "version": "1",
            "generated_at": "2026-01-01T00:00:00Z",
            "expires_at": "2027-01-01T00:00:00Z",
            "rules": rules,
            "defaults": {"outcome": default},
        },
        now=NOW,
    )
    engine = PolicyEngine(bundle)
    for request in reqs:
        decision = engine.evaluate(request, now=NOW)
        assert isinstance(decision, Decision)
        assert decision.codes and decision.codes[0] != "POLICY_ERROR"
        assert decision == engine._evaluate_unindexed(request, now=NOW)
        assert engine.evaluate(request, now=NOW) == decision  # memoised path agrees
        explained, traces = engine.explain(request, now=NOW)
        assert explained == decision
        deciding = [t.rule_id for t in traces if t.result in ("matched", "applied-indeterminate")]
        if decision.codes[0].startswith("DEFAULT_"):
            assert deciding == []
        else:
            assert deciding == [decision.codes[0]]


@SETTINGS
@given(st.one_of(JSON, st.builds(object)))
def test_evaluation_with_arbitrary_args(value):
    engine = PolicyEngine(
        load_policy(
            {
                "version": "1",
                "generated_at": "2026-01-01T00:00:00Z",
                "expires_at": "2027-01-01T00:00:00Z",
                "rules": [
                    {
                        "id": "KW",
                        "match": {"tool_name": "t"},
                        "outcome": "DENY",
                        "when": {"contains_any": ["export"], "tool_args_match": {"v": {"gt": 5}}},
                    },
                    {
                        "id": "RX",
                        "match": {"tool_name": "t"},
                        "outcome": "ALLOW",
                        "when": {"matches_regex": "(a+)+$", "not_contains": ["dump"]},
                    },
                ],
                "defaults": {"outcome": "DENY"},
            },
            now=NOW,
        )
    )
    request = ActionRequest(agent=AgentInfo(agent_id="a"), action=Action(tool_name="t", tool_args={"v": value}))
    decision = engine.evaluate(request, now=NOW)
    assert decision.codes[0] in ("KW", "RX", "DEFAULT_DENY")
