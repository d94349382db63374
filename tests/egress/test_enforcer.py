from __future__ import annotations

import json
from typing import Any

import pytest

from agent_security.core import CheckContext, ExecutionResult, Outcome, PluginResult
from agent_security.core.testing import make_request
from agent_security.egress import EgressEnforcer, EgressEvent, ScanLimits, egress_enforcer
from agent_security.egress.testing import generate

DEMO_POLICY = {
    "rules": [
        {
            "id": "BLOCK_PII_EMAIL",
            "description": "Block PII from being sent via email",
            "classifications": ["PII"],
            "channels": ["email"],
            "action": "block",
        },
        {"id": "BLOCK_PCI_ALL", "description": "No card data", "classifications": ["PCI"], "action": "block"},
        {"id": "BLOCK_SECRETS_ALL", "description": "No secrets", "classifications": ["SECRET"], "action": "block"},
        {
            "id": "ALLOW_PII_INTERNAL",
            "classifications": ["PII"],
            "channels": ["db_query"],
            "allowed_domains": ["internal.company.com"],
            "action": "block",
        },
    ],
    "default_action": "allow",
}
MAPPINGS = [
    {"tool_name": "send_email", "channel": "email", "destination_field": "to"},
    {"tool_name": "query_*", "channel": "db_query", "destination_field": "database"},
    {"tool_name": "write_file", "channel": "file_write", "destination_field": "path"},
    {"tool_name": "http_request", "channel": "http_request", "destination_field": "url"},
]


def demo() -> EgressEnforcer:
    return egress_enforcer(policy=DEMO_POLICY, tool_channel_mappings=MAPPINGS)


def run(enf: EgressEnforcer, ctx: CheckContext, tool: str, args: dict[str, Any], **kw: Any) -> PluginResult | None:
    return enf.agent_security_before_check(make_request(tool, args, **kw), ctx)


def test_demo_02_pii_email_blocked_with_masked_reason(ctx: CheckContext) -> None:
    enf = demo()
    res = run(
        enf,
        ctx,
        "send_email",
        {
            "to": "customer@external.com",
            "subject": "Account Info",
            "body": "Dear John, your SSN is 123-45-6789 and your email is john@example.com",
        },
    )
    assert res is not None and res.decision is not None
    assert res.decision.outcome is Outcome.DENY and res.decision.codes == ("EGRESS_BLOCKED",)
    msg = res.decision.reasons[0].message
    assert 'rule "BLOCK_PII_EMAIL"' in msg and "[PII]" in msg and "email, ssn" in msg
    assert "customer@external.com" not in msg and "6789" not in msg and "john@" not in msg
    assert res.decision.plugin_source == "egress-enforcer"
    assert res.request is not None and "PII" in res.request.context.data_labels
    ev = enf.get_egress_log()[-1]
    assert ev.blocked and ev.rule_id == "BLOCK_PII_EMAIL" and ev.channel == "email"
    assert ev.destinations == ("c***@e***.com",)


def test_demo_02_card_is_pci_not_the_recipient(ctx: CheckContext) -> None:
    res = run(
        demo(),
        ctx,
        "send_email",
        {"to": "billing@company.com", "subject": "Payment update", "body": "Card: 4111-1111-1111-1111, Exp: 12/25"},
    )
    assert res is not None and res.decision is not None
    msg = res.decision.reasons[0].message
    assert 'rule "BLOCK_PCI_ALL"' in msg and "[PCI]" in msg and "PII" not in msg


def test_demo_02_clean_email_and_webhook_are_allowed(ctx: CheckContext) -> None:
    enf = demo()
    assert (
        run(
            enf,
            ctx,
            "send_email",
            {
                "to": "team@company.com",
                "subject": "Meeting reminder",
                "body": "Don't forget the standup at 10am tomorrow!",
            },
        )
        is None
    )
    assert run(enf, ctx, "http_request", {"url": "https://external-api.com/webhook", "body": "token=REDACTED"}) is None
    assert enf.get_egress_log() == []


def test_allowed_domain_passes_and_missing_destination_fails_closed(ctx: CheckContext) -> None:
    enf = demo()
    body = {"query": "INSERT ... bob@corp.example"}
    assert run(enf, ctx, "query_users", {**body, "database": "pg.internal.company.com"}).decision is None  # type: ignore[union-attr]
    res = run(enf, ctx, "query_users", {**body, "database": "pg.evil.example"})
    assert res is not None and res.decision is not None and res.decision.codes == ("EGRESS_BLOCKED",)
    res = run(enf, ctx, "query_users", body)  # no destination: the allow-list cannot pass it
    assert res is not None and res.decision is not None


def test_secret_in_destination_field_still_counts(ctx: CheckContext) -> None:
    res = run(demo(), ctx, "http_request", {"url": "https://svc:" + "S3cr3tPassw0rd" + "@api.example.net/x"})
    assert res is not None and res.decision is not None
    assert "password_in_url" in res.decision.reasons[0].message
    assert "S3cr3tPassw0rd" not in res.decision.reasons[0].message


def test_redact_rewrites_tool_args(ctx: CheckContext) -> None:
    enf = egress_enforcer(
        policy={
            "rules": [{"id": "R", "classifications": ["PCI", "PII"], "action": "redact"}],
            "default_action": "allow",
        }
    )
    card = generate("credit_card", 5)
    req = make_request("post_comment", {"text": f"my card {card}", "meta": {"n": 3}})
    res = enf.agent_security_before_check(req, ctx)
    assert res is not None and res.decision is None and res.request is not None
    new_args = res.request.action.tool_args
    assert card not in json.dumps(new_args) and new_args["meta"] == {"n": 3}
    assert "[****-****-****-" in new_args["text"]
    assert res.request.request_id == req.request_id and res.request.agent == req.agent
    assert res.request.context.data_labels == ("PCI",)
    assert res.annotations is not None and res.annotations["action"] == "redact"
    assert card not in json.dumps(res.annotations)


def test_alert_emits_an_alert_event(ctx: CheckContext) -> None:
    enf = egress_enforcer()  # default policy: alert on PII
    res = run(enf, ctx, "post", {"body": "reach me at bob@corp.example"})
    assert res is not None and res.decision is None
    assert [c for c, _, _ in ctx.sink] == ["EGRESS_ALERT"]  # type: ignore[attr-defined]
    _code, msg, data = ctx.sink[0]  # type: ignore[attr-defined]
    assert data["kinds"] == ["email"] and "bob@corp" not in msg + json.dumps(data)
    assert res.request is not None and res.request.context.data_labels == ("PII",)


def test_default_policy_blocks_secrets_everywhere(ctx: CheckContext) -> None:
    res = run(egress_enforcer(), ctx, "anything", {"x": {"y": ["key " + generate("github_token", 1)]}})
    assert res is not None and res.decision is not None and res.decision.codes == ("EGRESS_BLOCKED",)
    assert "EGRESS_DEFAULT_BLOCK_SECRETS" in res.decision.reasons[0].message


def test_labels_merge_with_existing(ctx: CheckContext) -> None:
    enf = egress_enforcer(policy={"rules": [], "default_action": "allow"})
    res = enf.agent_security_before_check(
        make_request("t", {"a": "bob@corp.example"}, data_labels=["confidential"]), ctx
    )
    assert res is not None and res.request is not None
    assert res.request.context.data_labels == ("confidential", "PII")


@pytest.mark.parametrize(
    ("mode", "blocked", "labelled"), [("label", False, True), ("enforce", True, True), ("ignore", False, False)]
)
def test_user_input_modes(ctx: CheckContext, mode: str, blocked: bool, labelled: bool) -> None:
    enf = egress_enforcer(user_input=mode)
    req = make_request("t", {"q": "weather"}, user_input="my key is " + generate("aws_access_key", 2))
    res = enf.agent_security_before_check(req, ctx)
    got_block = res is not None and res.decision is not None
    assert got_block is blocked
    labels = res.request.context.data_labels if res is not None and res.request is not None else ()
    assert ("SECRET" in labels) is labelled


def test_incomplete_scan_fails_closed_or_alerts(ctx: CheckContext) -> None:
    big = {"blob": "x" * 5000}
    res = run(egress_enforcer(limits=ScanLimits(max_total_bytes=1024)), ctx, "t", big)
    assert res is not None and res.decision is not None
    assert res.decision.codes == ("EGRESS_SCAN_LIMIT", "EGRESS_LIMIT_TOTAL_BYTES")
    res = run(egress_enforcer(limits=ScanLimits(max_total_bytes=1024), on_incomplete="alert"), ctx, "t", big)
    assert res is None or res.decision is None
    assert any(c == "EGRESS_SCAN_INCOMPLETE" for c, _, _ in ctx.sink)  # type: ignore[attr-defined]


def test_egress_log_is_bounded_and_callbacks_fire(ctx: CheckContext) -> None:
    seen: list[EgressEvent] = []
    blocked: list[EgressEvent] = []
    enf = egress_enforcer(log_size=3, on_egress_event=seen.append, on_blocked=blocked.append)
    for i in range(5):
        run(enf, ctx, "t", {"a": f"user{i}@corp.example"})
    run(enf, ctx, "t", {"a": generate("github_token", 0)})
    log = enf.get_egress_log()
    assert len(log) == 3 and enf.evicted == 3 and len(seen) == 6 and len(blocked) == 1
    assert log[-1].blocked and log[0].action == "alert"
    enf.clear_egress_log()
    assert enf.get_egress_log() == []


def test_callback_error_propagates_for_fail_closed(ctx: CheckContext) -> None:
    def boom(_: EgressEvent) -> None:
        raise RuntimeError("sink down")

    enf = egress_enforcer(on_egress_event=boom)
    assert enf.fail_open is False
    with pytest.raises(RuntimeError):
        run(enf, ctx, "t", {"a": "bob@corp.example"})


def test_after_execution_redacts_secrets_and_alerts_on_pii(ctx: CheckContext) -> None:
    enf = egress_enforcer()
    token = generate("stripe_key", 3)
    result = {"rows": [{"email": "bob@corp.example", "key": token}]}
    out = enf.agent_security_after_execution(make_request("db", {}), None, result, None, ctx)  # type: ignore[arg-type]
    assert isinstance(out, ExecutionResult) and out.replace
    assert token not in json.dumps(out.result) and "bob@corp.example" in json.dumps(out.result)
    assert [c for c, _, _ in ctx.sink] == ["EGRESS_ALERT"]  # type: ignore[attr-defined]
    assert enf.get_egress_log()[-1].direction == "result"
    assert enf.agent_security_after_execution(make_request("db", {}), None, {"ok": 1}, None, ctx) is None  # type: ignore[arg-type]
    assert enf.agent_security_after_execution(make_request("db", {}), None, token, RuntimeError(), ctx) is None  # type: ignore[arg-type]


def test_after_execution_can_block(ctx: CheckContext) -> None:
    enf = egress_enforcer(result_actions={"PII": "block"})
    out = enf.agent_security_after_execution(make_request("db", {}), None, "ssn 123-45-6789", None, ctx)  # type: ignore[arg-type]
    assert out is not None and out.block is not None and out.block.codes == ("EGRESS_BLOCKED",)
    assert "6789" not in out.block.reasons[0].message


def test_comma_separated_recipients_are_destinations(ctx: CheckContext) -> None:
    enf = egress_enforcer(
        policy={
            "rules": [{"id": "R", "classifications": ["PII"], "allowed_domains": ["corp.com"], "action": "block"}],
            "default_action": "allow",
        },
        tool_channel_mappings=[{"tool_name": "send_email", "channel": "email", "destination_fields": ["to", "cc"]}],
    )
    body = {"body": "ssn 123-45-6789"}
    res = run(enf, ctx, "send_email", {**body, "to": "a@corp.com, b@x.corp.com", "cc": ["c@corp.com"]})
    assert res is not None and res.decision is None
    res = run(enf, ctx, "send_email", {**body, "to": "a@corp.com", "cc": ["c@gmail.com"]})
    assert res is not None and res.decision is not None


def test_unmapped_tool_reads_default_destination_fields(ctx: CheckContext) -> None:
    enf = egress_enforcer(
        policy={"rules": [{"id": "NO_PII", "classifications": ["PII"], "action": "block"}], "default_action": "allow"},
        tool_channel_mappings=[],
    )
    assert run(enf, ctx, "notify", {"to": "bob@corp.example", "text": "build green"}) is None
    res = run(enf, ctx, "notify", {"to": "bob@corp.example", "text": "cc alice@corp.example"})
    assert res is not None and res.decision is not None
    assert enf.get_egress_log()[-1].channel == "unknown"


def test_after_execution_rebuilds_pydantic_results(ctx: CheckContext) -> None:
    from pydantic import BaseModel

    class Creds(BaseModel):
        user: str
        token: str
        port: int

    enf = egress_enforcer()
    token = generate("github_token", 6)
    out = enf.agent_security_after_execution(
        make_request("t", {}),
        None,
        Creds(user="svc", token=token, port=5432),  # type: ignore[arg-type]
        None,
        ctx,
    )
    assert out is not None and isinstance(out.result, Creds)
    assert out.result.token != token and out.result.port == 5432 and out.result.user == "svc"
