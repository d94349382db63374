from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent_security.egress import Classification, DestinationPolicyEngine, EgressPolicy, Finding
from agent_security.egress.policy import ToolChannelMapping, destination_host, resolve_mapping


def finding(kind: str = "ssn", cls: str = "PII", conf: float = 0.9) -> Finding:
    return Finding(kind, Classification(cls), "$.body", (0, 11), conf, "***-**-6789")


def engine(*rules: dict, default: str = "block") -> DestinationPolicyEngine:  # type: ignore[type-arg]
    return DestinationPolicyEngine(EgressPolicy.model_validate({"rules": list(rules), "default_action": default}))


def test_no_findings_allows() -> None:
    d = engine().check([], "email", ["a@b.c"])
    assert d.action == "allow" and not d.blocked


def test_first_matching_rule_per_finding_and_most_severe_wins() -> None:
    e = engine(
        {"id": "PII_ALERT", "classifications": ["PII"], "action": "alert"},
        {"id": "PCI_REDACT", "classifications": ["PCI"], "action": "redact"},
        {"id": "SECRETS", "classifications": ["SECRET"], "action": "block"},
        default="allow",
    )
    d = e.check([finding(), finding("credit_card", "PCI")], "http_request")
    assert d.action == "redact" and d.deciding_rule == "PCI_REDACT"
    assert [a for _, a, _ in d.per_finding] == ["alert", "redact"]
    d = e.check([finding(), finding("github_token", "SECRET")], "http_request")
    assert d.blocked and d.rule_ids == ("PII_ALERT", "SECRETS")


def test_channel_scoping_and_default_action() -> None:
    e = engine(
        {"id": "NO_PII_EMAIL", "classifications": ["PII"], "channels": ["email"], "action": "block"}, default="allow"
    )
    assert e.check([finding()], "email").blocked
    d = e.check([finding()], "db_query")
    assert d.action == "allow" and d.deciding_rule is None
    assert engine(default="block").check([finding()], "x").blocked


def test_allowed_domains_and_destinations() -> None:
    e = engine(
        {
            "id": "PII_INTERNAL_ONLY",
            "classifications": ["PII"],
            "allowed_domains": ["company.com"],
            "allowed_destinations": ["https://*.partner.net/*"],
            "action": "block",
        },
        default="allow",
    )
    assert not e.check([finding()], "email", ["alice@company.com"]).blocked
    assert not e.check([finding()], "email", ["bob@eu.company.com"]).blocked
    assert not e.check([finding()], "http_request", ["https://api.company.com/v1/x"]).blocked
    assert not e.check([finding()], "http_request", ["https://hooks.partner.net/a/b"]).blocked
    assert e.check([finding()], "email", ["mallory@evilcompany.com"]).blocked
    assert e.check([finding()], "email", ["alice@company.com", "x@gmail.com"]).blocked  # every one must pass
    # a missing destination does not pass an allow-list (fail closed)
    assert e.check([finding()], "email", []).blocked


def test_blocked_destinations_block_even_for_alert_rules() -> None:
    e = engine(
        {"id": "A", "classifications": ["PII"], "blocked_destinations": ["*@competitor.com"], "action": "alert"},
        default="allow",
    )
    assert e.check([finding()], "email", ["ceo@competitor.com"]).blocked
    assert e.check([finding()], "email", ["ceo@partner.com"]).action == "alert"


def test_kinds_and_min_confidence_narrow_a_rule() -> None:
    e = engine(
        {"id": "SSN_ONLY", "classifications": ["PII"], "kinds": ["ssn"], "min_confidence": 0.8, "action": "block"},
        default="allow",
    )
    assert e.check([finding("ssn")], "x").blocked
    assert not e.check([finding("email")], "x").blocked
    assert not e.check([finding("ssn", conf=0.6)], "x").blocked


def test_reason_is_masked() -> None:
    e = engine({"id": "R", "description": "No PII out", "classifications": ["PII"], "action": "block"})
    d = e.check([finding()], "email", ["customer.name@external-domain.com"])
    assert 'rule "R"' in d.reason and "[PII]" in d.reason and "(ssn)" in d.reason and "No PII out" in d.reason
    assert "customer.name" not in d.reason and "external-domain" not in d.reason
    assert "6789" not in d.reason


def test_glob_semantics_are_literal_except_star() -> None:
    e = engine(
        {"id": "A", "classifications": ["PII"], "allowed_destinations": ["file?.txt"], "action": "block"},
        default="allow",
    )
    assert not e.check([finding()], "file_write", ["file?.txt"]).blocked
    assert e.check([finding()], "file_write", ["file1.txt"]).blocked


def test_policy_validation() -> None:
    with pytest.raises(ValidationError):
        EgressPolicy.model_validate(
            {"rules": [{"id": "A", "classifications": ["PII"]}, {"id": "A", "classifications": ["PCI"]}]}
        )
    with pytest.raises(ValidationError):
        EgressPolicy.model_validate({"rules": [{"id": "A", "classifications": []}]})
    with pytest.raises(ValidationError):
        EgressPolicy.model_validate({"rules": [{"id": "A", "classifications": ["PII"], "action": "drop"}]})
    with pytest.raises(ValidationError):
        EgressPolicy.model_validate({"rules": [{"id": "A", "classifications": ["PII"], "channels": ["Bad Name"]}]})


def test_update_policy_swaps() -> None:
    e = engine(default="block")
    e.update_policy(EgressPolicy(default_action="allow"))
    assert not e.check([finding()], "x").blocked


def test_destination_host_and_mapping_resolution() -> None:
    assert destination_host("https://User:pw@API.Example.com:8443/x") == "api.example.com"
    assert destination_host("Bob <bob@Corp.com>") == "corp.com"
    assert destination_host("/tmp/file") is None
    maps = [
        ToolChannelMapping(tool_name="query_*", channel="db_query", destination_field="database"),
        ToolChannelMapping(tool_name="query_users", channel="http_request"),
    ]
    assert resolve_mapping(maps, "query_users").channel == "http_request"  # exact beats glob
    m = resolve_mapping(maps, "query_orders")
    assert m is not None and m.channel == "db_query" and m.destination_fields == ("database",)
    assert resolve_mapping(maps, "send_email") is None
