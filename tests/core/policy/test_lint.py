"""Policy lint: shadowed/unreachable rules, impossible conditions, broad ALLOW rules, bundle checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent_security.core.policy import load_policy
from agent_security.core.policy.lint import lint_bundle


@pytest.fixture
def lint(build_bundle, now):
    def run(*rules, default="DENY", **extra):
        return lint_bundle(
            load_policy(build_bundle(*rules, default=default, **extra), now=now, allow_expired=True), now=now
        )

    return run


def _by_code(report, code):
    return [f for f in report.findings if f.code == code]


def test_example_policy_is_clean(examples_dir, now):
    report = lint_bundle(load_policy(examples_dir / "default-policy.json", now=now), now=now)
    assert report.findings == []
    assert report.ok(strict=True)


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ({"tool_name": "*"}, {"tool_name": "send_email"}),
        ({"tool_name": "query_*"}, {"tool_name": "query_db", "environment": "prod"}),
        ({"tool_name": "query_*"}, {"tool_name": "query_customer_*"}),
        ({"tool_name": "*_email"}, {"tool_name": "send_*_email"}),
        ({"tool_name": ["a", "b", "c"]}, {"tool_name": ["B", "c"]}),
        ({"tool_name": "a", "environment": ["dev", "prod"]}, {"tool_name": "a", "environment": "PROD"}),
        ({"tool_name": "a", "trust_level_min": "basic"}, {"tool_name": "a", "trust_level_min": "system"}),
        ({"tool_name": "a", "agent_roles_any": ["x", "y"]}, {"tool_name": "a", "agent_roles_any": ["y"]}),
        ({"tool_name": "a", "agent_type": "pr_*"}, {"tool_name": "a", "agent_type": "pr_agent"}),
    ],
)
def test_shadowed(lint, earlier, later):
    report = lint(
        {"id": "EARLY", "match": earlier, "outcome": "ALLOW"}, {"id": "LATE", "match": later, "outcome": "DENY"}
    )
    shadowed = _by_code(report, "SHADOWED")
    assert [(f.rule_id, f.related_rule_id, f.severity) for f in shadowed] == [("LATE", "EARLY", "error")]
    assert not report.ok()


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ({"tool_name": "query_db"}, {"tool_name": "query_*"}),
        ({"tool_name": "a*b*c"}, {"tool_name": "a*c"}),
        ({"tool_name": "a", "environment": "prod"}, {"tool_name": "a"}),
        ({"tool_name": "a", "trust_level_min": "verified"}, {"tool_name": "a"}),
        ({"tool_name": "a", "agent_roles_any": ["x"]}, {"tool_name": "a", "agent_roles_any": ["x", "z"]}),
        ({"tool_name": "a", "tool_provider": "mcp"}, {"tool_name": "a"}),
    ],
)
def test_not_shadowed(lint, earlier, later):
    report = lint(
        {"id": "EARLY", "match": earlier, "outcome": "DENY"},
        {"id": "LATE", "match": later, "outcome": "REQUIRE_APPROVAL"},
    )
    assert _by_code(report, "SHADOWED") == []


def test_shadowing_with_conditions(lint, make_rule):
    report = lint(
        make_rule("A", "t", "DENY", when={"contains_any": ["x", "y"]}),
        make_rule("B", "t", "REQUIRE_APPROVAL", when={"contains_any": ["x"], "data_labels_any": ["P"]}),
        make_rule("C", "t", "DENY", when={"contains_any": ["z"]}),
        make_rule("D", "u", "ALLOW", when={"tool_args_match": {"a": 1}}),
        make_rule("E", "u", "DENY", when={"tool_args_match": {"a": 1, "b": 2}}),
    )
    assert [(f.rule_id, f.related_rule_id) for f in _by_code(report, "SHADOWED")] == [("B", "A")]


def test_same_outcome_shadowing_is_a_warning(lint, make_rule):
    report = lint(make_rule("A", "*", "DENY"), make_rule("B", "t", "DENY"))
    [finding] = _by_code(report, "SHADOWED")
    assert finding.severity == "warning"
    assert report.ok() and not report.ok(strict=True)


@pytest.mark.parametrize(
    ("rule_patch", "fragment"),
    [
        ({"match": {"tool_name": []}}, "match.tool_name is an empty list"),
        ({"match": {"tool_name": "t", "environment": []}}, "match.environment is an empty list"),
        ({"when": {"contains_any": ["export data"], "not_contains": ["export"]}, "outcome": "ALLOW"}, "not_contains"),
        ({"when": {"tool_args_match": {"n": {"gt": 10, "lt": 5}}}}, "no number satisfies both bounds"),
        ({"when": {"tool_args_match": {"n": {"gte": 5, "lt": 5}}}}, "no number satisfies both bounds"),
        ({"when": {"tool_args_match": {"n": {"in": []}}}}, "'in' with an empty list"),
        ({"when": {"tool_args_match": {"n": {"eq": 1, "neq": "1"}}}}, "'eq' and 'neq' of the same value"),
        ({"when": {"tool_args_match": {"n": {"eq": 3, "gt": 5}}}}, "below the lower bound"),
        ({"when": {"tool_args_match": {"n": {"eq": "x", "gt": 5}}}}, "non-number"),
    ],
)
def test_never_matches(lint, make_rule, rule_patch, fragment):
    rule = make_rule("BAD", "t")
    rule.update(rule_patch)
    report = lint(rule)
    [finding] = _by_code(report, "NEVER_MATCHES")
    assert finding.rule_id == "BAD" and finding.severity == "error"
    assert fragment in finding.message


def test_possible_bounds_are_fine(lint, make_rule):
    report = lint(make_rule("OK", "t", when={"tool_args_match": {"n": {"gte": 5, "lte": 5, "eq": 5}}}))
    assert _by_code(report, "NEVER_MATCHES") == []


def test_broad_allow_before_restrictive(lint, make_rule):
    report = lint(
        make_rule("ALLOW_DEV", "*", "ALLOW", environment="dev"),
        make_rule("DENY_PCI", "send_email", "DENY", when={"data_labels_any": ["PCI"]}),
        make_rule("ALLOW_EXACT", "pay", "ALLOW", environment="prod", when={"tool_args_match": {"a": {"lt": 1}}}),
        make_rule("APPROVE_PAY", "pay", "REQUIRE_APPROVAL", environment="prod"),
        make_rule("DENY_OTHER_ENV", "x", "DENY", environment="prod"),
    )
    broad = _by_code(report, "BROAD_ALLOW_BEFORE_RESTRICTIVE")
    assert [(f.rule_id, f.related_rule_id) for f in broad] == [("ALLOW_DEV", "DENY_PCI")]
    narrow = _by_code(report, "ALLOW_BEFORE_RESTRICTIVE")
    assert [(f.rule_id, f.related_rule_id, f.severity) for f in narrow] == [("ALLOW_EXACT", "APPROVE_PAY", "info")]


def test_other_findings(lint, make_rule):
    report = lint(
        make_rule("POLICY_X", "t", "ALLOW", approver_role="boss", when={"matches_regex": ".*", "contains_any": []}),
        make_rule("R2", "u", agent_roles_any=[]),
        default="ALLOW",
        expires_at="2026-06-10T00:00:00Z",
    )
    codes = set(report.codes())
    assert {
        "RESERVED_ID",
        "APPROVER_ROLE_UNUSED",
        "ALWAYS_TRUE_CONDITION",
        "IGNORED_CONDITION",
        "DEFAULT_ALLOW",
        "EXPIRES_SOON",
    } <= codes
    assert len(_by_code(report, "IGNORED_CONDITION")) == 2


def test_expired_and_future(build_bundle):
    bundle = load_policy(
        build_bundle(generated_at="2026-01-01T00:00:00Z", expires_at="2026-02-01T00:00:00Z"), allow_expired=True
    )
    report = lint_bundle(bundle, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert report.codes()[0] == "EXPIRED"
    early = lint_bundle(bundle, now=datetime(2025, 12, 1))
    assert "NOT_YET_VALID" in early.codes()


def test_report_serialises(lint, make_rule):
    report = lint(make_rule("A", "*", "ALLOW"), make_rule("B", "t", "DENY"))
    data = report.to_dict()
    assert data["errors"] == 1
    assert data["findings"][0]["code"] == "SHADOWED"
    assert str(report.findings[0]).startswith("ERROR SHADOWED [B]:")
