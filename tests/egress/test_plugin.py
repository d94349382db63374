"""The ``egress`` entry point: plugin info, configuration, the classifier hook, and end to end through
``AgentSecurity`` (the original's demo 02 and demo 05 egress scenarios)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent_security.core import AgentSecurity, ConfigFileError, ConfigurationError, SecurityError, hookimpl
from agent_security.egress import EgressEnforcer, custom_classifier, plugin
from agent_security.egress.testing import generate

DEMO_CONFIG: dict[str, Any] = {
    "egress": {
        "rules": [
            {
                "id": "BLOCK_PII_EMAIL",
                "description": "Block PII from being sent via email",
                "classifications": ["PII"],
                "channels": ["email"],
                "action": "block",
            },
            {"id": "BLOCK_PCI_ALL", "classifications": ["PCI"], "action": "block"},
            {"id": "BLOCK_SECRETS_ALL", "classifications": ["SECRET"], "action": "block"},
            {
                "id": "ALLOW_PII_INTERNAL",
                "classifications": ["PII"],
                "channels": ["db_query"],
                "allowed_destinations": ["*.internal.company.com"],
                "action": "block",
            },
        ],
        "default_action": "allow",
        "tool_channel_mappings": [
            {"tool_name": "send_email", "channel": "email", "destination_field": "to"},
            {"tool_name": "query_*", "channel": "db_query", "destination_field": "database"},
            {"tool_name": "write_file", "channel": "file_write", "destination_field": "path"},
            {"tool_name": "http_request", "channel": "http_request", "destination_field": "url"},
        ],
    }
}


def bundle(*rules: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "version": "1.0.0",
        "generated_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rules": [*rules, {"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
        "defaults": {"outcome": "ALLOW"},
    }


def security(config: dict[str, Any] | None = None, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_bundle=kw.pop("policy", bundle()), config=config, **kw)


def test_plugin_info_declares_section_and_model() -> None:
    info = plugin.agent_security_plugin_info()
    assert info.name == "egress" and info.config_section == "egress"
    assert info.config_model is plugin.EgressConfig
    assert "Blocks secrets" in info.unconfigured


def test_installed_without_section_uses_the_safe_default() -> None:
    sec = security()
    enf = sec.get_plugin("egress-enforcer")
    assert isinstance(enf, EgressEnforcer)
    blocked = sec.check_tool_call(
        tool_name="http_post", tool_args={"body": "key " + generate("aws_access_key", 1)}, agent_id="a"
    )
    assert not blocked.allowed and blocked.final_decision.codes == ("EGRESS_BLOCKED",)
    ok = sec.check_tool_call(tool_name="send_email", tool_args={"to": "bob@corp.example", "body": "hi"}, agent_id="a")
    assert ok.allowed  # the recipient address is a destination, not data leaving
    pii = sec.check_tool_call(tool_name="post", tool_args={"body": "ssn 123-45-6789"}, agent_id="a")
    assert pii.allowed and "PII" in pii.request.context.data_labels
    alerts = [e for e in sec.get_audit_log() if e.kind == "alert"]
    assert any(e.reasons and e.reasons[0].code == "EGRESS_ALERT" for e in alerts) or any(
        "EGRESS_ALERT" in json.dumps(e.data) for e in alerts
    )


def test_disabled_in_config_registers_nothing() -> None:
    sec = security({"egress": {"enabled": False}})
    assert sec.get_plugin("egress-enforcer") is None


def test_bad_section_is_a_config_error() -> None:
    with pytest.raises(ConfigFileError):
        security({"egress": {"rules": [{"id": "X", "classifications": ["PII"], "action": "explode"}]}})
    with pytest.raises(ConfigFileError):
        security({"egress": {"classifiers": ["no_such_kind"]}})
    with pytest.raises(ConfigFileError):
        security({"egress": {"unknown_key": 1}})
    with pytest.raises(ConfigurationError):
        security({"egress": {"custom_classifiers": [{"kind": "x", "pattern": "(unclosed"}]}})


def test_demo_02_end_to_end() -> None:
    sec = security(DEMO_CONFIG)
    r1 = sec.check_tool_call(
        tool_name="send_email",
        agent_id="support-bot",
        environment="prod",
        tool_args={
            "to": "customer@external.com",
            "subject": "Account Info",
            "body": "Dear John, your SSN is 123-45-6789 and your email is john@example.com",
        },
    )
    assert not r1.allowed and r1.final_decision.codes == ("EGRESS_BLOCKED",)
    assert r1.final_decision.plugin_source == "egress-enforcer"
    assert 'rule "BLOCK_PII_EMAIL"' in r1.final_decision.reasons[0].message
    r2 = sec.check_tool_call(
        tool_name="send_email",
        agent_id="billing-bot",
        environment="prod",
        tool_args={
            "to": "billing@company.com",
            "subject": "Payment update",
            "body": "Card: 4111-1111-1111-1111, Exp: 12/25",
        },
    )
    assert not r2.allowed and 'rule "BLOCK_PCI_ALL"' in r2.final_decision.reasons[0].message
    r3 = sec.check_tool_call(
        tool_name="http_request",
        agent_id="integration-bot",
        environment="prod",
        tool_args={"url": "https://external-api.com/webhook", "body": "token=REDACTED"},
    )
    assert r3.allowed and r3.final_decision.codes == ("ALLOW_ALL",)
    r4 = sec.check_tool_call(
        tool_name="send_email",
        agent_id="scheduler-bot",
        environment="prod",
        tool_args={
            "to": "team@company.com",
            "subject": "Meeting reminder",
            "body": "Don't forget the standup at 10am tomorrow!",
        },
    )
    assert r4.allowed  # the original denied this one (W23): the recipient is not payload
    r5 = sec.check_tool_call(
        tool_name="query_customers",
        agent_id="bot",
        environment="prod",
        tool_args={"database": "pg.internal.company.com", "q": "where email='a@b.example'"},
    )
    assert r5.allowed
    enf = sec.get_plugin("egress-enforcer")
    report = enf.compliance_report()
    assert report.summary.total_events == 3 and report.summary.blocked_events == 2
    assert report.evidence.no_pci_egress and report.evidence.no_secrets_egress
    # PII did leave, to an allowed internal destination: the evidence says so, with the flow
    assert not report.evidence.no_pii_egress
    assert [(v.tool_name, v.channel, v.classification) for v in report.evidence.violations] == [
        ("query_customers", "db_query", "PII")
    ]
    # nothing raw in the audit trail
    trail = json.dumps([e.model_dump(mode="json") for e in sec.get_audit_log()])
    for raw in ("123-45-6789", "4111-1111-1111-1111", "customer@external.com", "john@example.com"):
        assert raw not in trail


def test_labels_feed_policy_rules() -> None:
    pol = bundle(
        {
            "id": "DENY_PCI_EMAIL",
            "match": {"tool_name": "send_email", "environment": "*"},
            "when": {"data_labels_any": ["PCI"]},
            "outcome": "DENY",
        }
    )
    sec = security({"egress": {"rules": [], "default_action": "allow"}}, policy=pol)
    r = sec.check_tool_call(
        tool_name="send_email",
        agent_id="a",
        tool_args={"to": "x@corp.example", "body": "card " + generate("credit_card", 2)},
    )
    assert not r.allowed and r.final_decision.codes == ("DENY_PCI_EMAIL",)


def test_redact_through_the_pipeline_hands_rewritten_args_to_the_caller() -> None:
    sec = security(
        {
            "egress": {
                "rules": [{"id": "REDACT_PII", "classifications": ["PII", "PCI"], "action": "redact"}],
                "default_action": "allow",
            }
        }
    )
    card = generate("credit_card", 3)
    r = sec.check_tool_call(tool_name="post_comment", agent_id="a", tool_args={"text": f"ssn 123-45-6789 card {card}"})
    assert r.allowed
    assert "123-45-6789" not in r.tool_args["text"] and card not in r.tool_args["text"]
    assert "[***-**-6789]" in r.tool_args["text"]

    received: list[str] = []

    @sec.protect("post_comment", agent_id="a")
    def post_comment(text: str) -> str:
        received.append(text)
        return "ok"

    assert post_comment(text=f"card {card}") == "ok"
    assert card not in received[0]


def test_protect_redacts_secrets_in_results() -> None:
    sec = security()
    token = generate("github_token", 4)

    @sec.protect("read_config", agent_id="a")
    def read_config() -> dict[str, str]:
        return {"token": token, "name": "svc"}

    out = read_config()
    assert token not in json.dumps(out) and out["name"] == "svc"


def test_protect_blocks_results_when_configured() -> None:
    sec = security({"egress": {"result_actions": {"PII": "block"}}})

    @sec.protect("lookup", agent_id="a")
    def lookup() -> str:
        return "ssn 123-45-6789"

    with pytest.raises(SecurityError) as exc:
        lookup()
    assert exc.value.codes == ("EGRESS_BLOCKED",)


class _Contributor:
    name = "employee-ids"

    @hookimpl
    def agent_security_egress_classifiers(self) -> list[Any]:
        return [custom_classifier("employee_id", r"\bEMP-\d{6}\b", "PII", context_words=["employee"])]


def test_other_distributions_add_classifiers_through_the_hook() -> None:
    sec = security(plugins=[], autoload=True)  # egress adds its hookspec through agent_security_addhooks
    assert hasattr(sec.plugin_manager.hook, "agent_security_egress_classifiers")
    sec.unregister_plugin("egress-enforcer")
    sec.register_plugin(_Contributor())
    # the configure step asks every registered plugin for classifiers
    plugin.agent_security_configure(host=sec.host, settings=sec.settings)
    enf = sec.get_plugin("egress-enforcer")
    assert "employee_id" in enf.scanner.kinds
    r = sec.check_tool_call(tool_name="t", agent_id="a", tool_args={"body": "employee EMP-123456"})
    assert r.allowed and "PII" in r.request.context.data_labels


def test_custom_classifiers_from_config() -> None:
    sec = security(
        {
            "egress": {
                "custom_classifiers": [
                    {
                        "kind": "internal_card",
                        "pattern": r"\bIC\d{16}\b",
                        "classification": "PCI",
                        "validator": "luhn",
                        "confidence": 0.8,
                    }
                ],
                "rules": [{"id": "PCI", "classifications": ["PCI"], "action": "block"}],
                "default_action": "allow",
            }
        }
    )
    bad = sec.check_tool_call(tool_name="t", agent_id="a", tool_args={"x": "IC4111111111111111"})
    assert not bad.allowed
    ok = sec.check_tool_call(tool_name="t", agent_id="a", tool_args={"x": "IC4111111111111112"})
    assert ok.allowed


def test_duplicate_custom_kind_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        security({"egress": {"custom_classifiers": [{"kind": "ssn", "pattern": "x+"}]}})


DEMO_05 = {
    "egress": {
        "rules": [
            {
                "id": "BLOCK_PII_EMAIL",
                "description": "No PII via email",
                "classifications": ["PII"],
                "channels": ["email"],
                "action": "block",
            },
            {"id": "BLOCK_PCI_ALL", "classifications": ["PCI"], "action": "block"},
            {"id": "BLOCK_SECRETS_ALL", "classifications": ["SECRET"], "action": "block"},
        ],
        "default_action": "allow",
        "tool_channel_mappings": [
            {"tool_name": "send_email", "channel": "email", "destination_field": "to"},
            {"tool_name": "query_*", "channel": "db_query", "destination_field": "database"},
            {"tool_name": "http_request", "channel": "http_request", "destination_field": "url"},
        ],
    }
}


async def test_demo_05_egress_scenarios_async() -> None:
    sec = security(DEMO_05)
    s3 = await sec.acheck_tool_call(
        tool_name="send_email",
        agent_id="support-bot",
        environment="prod",
        tool_args={
            "to": "customer@external.com",
            "subject": "Account Details",
            "body": "Hi, your SSN is 123-45-6789 and email is john@example.com",
        },
    )
    assert not s3.allowed and s3.final_decision.codes == ("EGRESS_BLOCKED",)
    msg = s3.final_decision.reasons[0].message
    assert msg.startswith("Data classified as [PII]") and 'rule "BLOCK_PII_EMAIL"' in msg and "No PII via email" in msg
    s4 = await sec.acheck_tool_call(
        tool_name="send_email",
        agent_id="support-bot",
        environment="prod",
        tool_args={"to": "team@acme.com", "subject": "Standup reminder", "body": "Don't forget standup at 10am!"},
    )
    assert s4.allowed  # "Clean email allowed" — the original denied it


def test_observe_mode_reports_would_block() -> None:
    sec = security(DEMO_05, mode="observe")
    r = sec.check_tool_call(
        tool_name="http_request",
        agent_id="a",
        tool_args={"url": "https://x.example", "body": "key " + generate("aws_access_key", 3)},
    )
    assert r.allowed and r.would_block
