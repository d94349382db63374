"""The original's demo scenarios (§11.1-11.3), policy level, against default-policy.json and .yaml."""

from __future__ import annotations

import pytest

from agent_security.core.policy import PolicyEngine, load_policy
from agent_security.core.policy.cases import load_cases, run_policy_cases


@pytest.fixture(params=["default-policy.json", "default-policy.yaml"])
def engine(request, examples_dir, now) -> PolicyEngine:
    return PolicyEngine(load_policy(examples_dir / request.param, now=now))


def test_example_case_file_passes(engine, examples_dir):
    cases = load_cases(examples_dir / "default-policy.cases.yaml")
    report = run_policy_cases(engine, cases)
    assert [r.problems for r in report.results if not r.passed] == []
    assert report.passed == len(cases.cases) >= 19


@pytest.mark.parametrize(
    ("tool", "args", "env", "extra", "outcome", "code", "approver"),
    [
        ("query_database", {"query": "SELECT name FROM users LIMIT 10"}, "dev", {}, "ALLOW", "ALLOW_DEV_STAGING", None),
        (
            "query_customer_db",
            {"query": "SELECT * FROM customers"},
            "prod",
            {"user_input": "Export all customers to CSV"},
            "DENY",
            "DENY_BULK_EXPORT",
            None,
        ),
        (
            "send_email",
            {"to": "external@co.com", "subject": "CC details"},
            "prod",
            {"data_labels": ("PCI",)},
            "DENY",
            "DENY_PCI_EMAIL",
            None,
        ),
        ("send_email", {"to": "a@b.c"}, "prod", {"data_labels": ("PII",)}, "DENY", "DENY_PII_EXTERNAL", None),
        (
            "trigger_payment",
            {"amount": 5000, "currency": "USD", "recipient": "vendor@co.com"},
            "prod",
            {},
            "REQUIRE_APPROVAL",
            "REQUIRE_APPROVAL_PAYMENT_PROD",
            "finance_manager",
        ),
        (
            "trigger_refund",
            {"amount": 1},
            "prod",
            {},
            "REQUIRE_APPROVAL",
            "REQUIRE_APPROVAL_REFUND_PROD",
            "finance_manager",
        ),
        (
            "send_email",
            {"to": "all@company.com", "subject": "Announcement"},
            "prod",
            {},
            "REQUIRE_APPROVAL",
            "REQUIRE_APPROVAL_EMAIL_PROD",
            "ops_manager",
        ),
        ("trigger_payment", {"amount": 100, "currency": "USD"}, "dev", {}, "ALLOW", "ALLOW_DEV_STAGING", None),
        ("anything", {}, "staging", {}, "ALLOW", "ALLOW_STAGING", None),
        ("query_database", {"query": "SELECT name FROM users LIMIT 10"}, "prod", {}, "DENY", "DEFAULT_DENY", None),
    ],
)
def test_demo_decisions(engine, request_factory, now, tool, args, env, extra, outcome, code, approver):
    decision = engine.evaluate(request_factory(tool, args, environment=env, **extra), now=now)
    assert decision.outcome.value == outcome
    assert decision.codes == (code,)
    assert decision.approver_role == approver
    if code == "DEFAULT_DENY":
        assert decision.reasons[0].message == "No specific rule matched; applying default policy (DENY)"
    else:
        rule = engine.bundle.rule(code)
        assert rule is not None and decision.reasons[0].message == rule.description


def test_messages_match_original_descriptions(engine, request_factory, now):
    decision = engine.evaluate(request_factory("x", environment="dev"), now=now)
    assert decision.reasons[0].message == "Allow all actions in dev and staging environments"


def test_bundle_expiry_is_enforced_for_the_example(engine, request_factory):
    from datetime import UTC, datetime

    late = engine.evaluate(request_factory("x", environment="dev"), now=datetime(2099, 1, 22, tzinfo=UTC))
    assert late.codes == ("POLICY_EXPIRED",)
