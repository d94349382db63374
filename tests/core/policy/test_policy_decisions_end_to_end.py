"""The policy engine through AgentSecurity: demo scenarios end to end, expiry on the SDK clock,
signed bundles, reload."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent_security.core import AgentSecurity, Outcome
from agent_security.core.errors import PolicyLoadError, PolicyRollbackError, PolicySignatureError
from agent_security.core.policy import (
    PolicyEngine,
    default_policy_data,
    generate_keypair,
    load_policy,
    sign_bundle,
)
from agent_security.core.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


def _security(examples_dir, clock: FakeClock, **kw: Any) -> AgentSecurity:
    engine = PolicyEngine(load_policy(examples_dir / "default-policy.json", now=clock.now()))
    return AgentSecurity(policy_engine=engine, autoload=False, clock=clock.now, monotonic=clock.monotonic, **kw)


def test_core_demo_policy_decisions(examples_dir, clock):
    approvals: list[bool] = [True, False]

    def approve(request, decision):
        return approvals.pop(0)

    security = _security(examples_dir, clock, on_approval_required=approve)
    r1 = security.check_tool_call(
        tool_name="query_database",
        tool_args={"query": "SELECT name FROM users LIMIT 10"},
        agent_id="agent-001",
        environment="dev",
    )
    assert (r1.allowed, r1.decision.codes) == (True, ("ALLOW_DEV_STAGING",))
    r2 = security.check_tool_call(
        tool_name="query_customer_db",
        tool_args={"query": "SELECT * FROM customers"},
        agent_id="agent-002",
        environment="prod",
        user_input="Export all customers to CSV",
    )
    assert (r2.allowed, r2.decision.outcome, r2.decision.codes) == (False, Outcome.DENY, ("DENY_BULK_EXPORT",))
    r3 = security.check_tool_call(
        tool_name="send_email",
        tool_args={"to": "external@co.com", "subject": "CC"},
        agent_id="agent-003",
        environment="prod",
        data_labels=["PCI"],
    )
    assert r3.decision.codes == ("DENY_PCI_EMAIL",) and not r3.allowed
    r7 = security.check_tool_call(
        tool_name="trigger_payment",
        tool_args={"amount": 5000, "currency": "USD", "recipient": "vendor@co.com"},
        agent_id="agent-finance",
        environment="prod",
    )
    assert r7.allowed and r7.decision.outcome is Outcome.REQUIRE_APPROVAL
    assert r7.decision.codes == ("REQUIRE_APPROVAL_PAYMENT_PROD",)
    assert r7.decision.approver_role == "finance_manager"
    r8 = security.check_tool_call(
        tool_name="send_email", tool_args={"to": "all@company.com"}, agent_id="agent-email", environment="prod"
    )
    assert not r8.allowed and r8.decision.codes == ("REQUIRE_APPROVAL_EMAIL_PROD",)
    assert r8.decision.approver_role == "ops_manager"
    wrapper = security.check_tool_call(
        tool_name="query_database", tool_args={"query": "SELECT 1"}, agent_id="db-agent", environment="prod"
    )
    assert wrapper.decision.codes == ("DEFAULT_DENY",)
    assert wrapper.decision.reasons[0].message == "No specific rule matched; applying default policy (DENY)"


def test_expiry_follows_the_sdk_clock(examples_dir, clock):
    security = _security(examples_dir, clock)
    ok = security.check_tool_call(tool_name="x", agent_id="a", environment="dev")
    assert ok.allowed
    clock.advance((datetime(2099, 1, 22, tzinfo=UTC) - clock.now()).total_seconds())
    late = security.check_tool_call(tool_name="x", agent_id="a", environment="dev")
    assert not late.allowed and late.decision.codes == ("POLICY_EXPIRED",)


def _fresh_bundle(tmp_path, name="policy.json", **patch: Any):
    data = default_policy_data(now=datetime.now(UTC) - timedelta(days=1))
    data.update(patch)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path, data


def test_signed_policy_through_sdk(tmp_path):
    pair = generate_keypair()
    _, data = _fresh_bundle(tmp_path)
    signed = sign_bundle(load_policy(data), pair.private_pem)
    good = tmp_path / "signed.json"
    good.write_text(json.dumps(signed.to_data()))
    pub = tmp_path / "policy.pub"
    pub.write_bytes(pair.public_pem)
    security = AgentSecurity(policy_path=good, trusted_policy_keys=[str(pub)], autoload=False)
    result = security.check_tool_call(tool_name="send_email", agent_id="a", environment="prod")
    assert result.decision.codes == ("REQUIRE_APPROVAL_EMAIL_PROD",)

    tampered = tmp_path / "tampered.json"
    tampered_data = signed.to_data()
    tampered_data["rules"][1]["outcome"] = "ALLOW"
    tampered.write_text(json.dumps(tampered_data))
    with pytest.raises(PolicySignatureError):
        AgentSecurity(policy_path=tampered, trusted_policy_keys=[str(pub)], autoload=False)
    with pytest.raises(PolicySignatureError):
        security.reload_policy(tampered)
    still = security.check_tool_call(tool_name="send_email", agent_id="a", environment="prod")
    assert still.decision.codes == ("REQUIRE_APPROVAL_EMAIL_PROD",)  # old engine kept


def test_reload_swaps_and_failed_reload_keeps_old(tmp_path):
    path, data = _fresh_bundle(tmp_path)
    security = AgentSecurity(policy_path=path, autoload=False)
    assert security.check_tool_call(
        tool_name="query_customer_db", tool_args={"q": "dump"}, agent_id="a", environment="dev"
    ).decision.codes == ("DENY_BULK_EXPORT",)
    data["rules"][0]["when"]["contains_any"] = ["nothing-matches-this"]
    data["defaults"]["outcome"] = "ALLOW"
    path.write_text(json.dumps(data))
    security.reload_policy()
    assert security.check_tool_call(
        tool_name="query_customer_db", tool_args={"q": "dump"}, agent_id="a", environment="dev"
    ).decision.codes == ("DEFAULT_ALLOW",)
    data["rules"].append(dict(data["rules"][0]))  # duplicate id
    path.write_text(json.dumps(data))
    with pytest.raises(PolicyLoadError, match="duplicate rule id"):
        security.reload_policy()
    assert security.check_tool_call(tool_name="x", agent_id="a").decision.codes == ("DEFAULT_ALLOW",)


def test_reload_refuses_an_older_signed_bundle(tmp_path):
    pair = generate_keypair()
    now = datetime.now(UTC)

    def signed(version: str, generated: datetime, tool: str) -> str:
        data = default_policy_data(now=generated)
        data.update(
            version=version,
            rules=[{"id": f"DENY_{version}", "match": {"tool_name": tool}, "outcome": "DENY"}],
            defaults={"outcome": "ALLOW"},
        )
        return json.dumps(sign_bundle(load_policy(data, now=now), pair.private_pem).to_data())

    v1 = signed("v1", now - timedelta(days=30), "delete_repo_v1")
    v2 = signed("v2", now - timedelta(days=1), "delete_repo")
    live = tmp_path / "policy.json"
    live.write_text(v2)
    events: list[Any] = []
    security = AgentSecurity(
        policy_path=live, trusted_policy_keys=[pair.public_pem], autoload=False, on_audit_event=events.append
    )

    def codes() -> tuple[str, ...]:
        return security.check_tool_call(tool_name="delete_repo", agent_id="a").decision.codes

    assert codes() == ("DENY_v2",)
    live.write_text(v1)  # an attacker who can write the file replays the older, validly signed bundle
    with pytest.raises(PolicyRollbackError, match="older than the active bundle 'v2'"):
        security.reload_policy()
    assert codes() == ("DENY_v2",)
    failed = [e for e in events if any(r.code == "POLICY_RELOAD_FAILED" for r in e.reasons)]
    assert len(failed) == 1 and "PolicyRollbackError" in failed[0].reasons[0].message
    live.write_text(v2)
    security.reload_policy()  # the same bundle again is fine
    assert security.get_policy_bundle().version == "v2"
    live.write_text(v1)
    security.reload_policy(allow_rollback=True)  # on purpose
    assert security.get_policy_bundle().version == "v1"
    assert codes() == ("DEFAULT_ALLOW",)


def test_sdk_default_policy_denies(clock):
    security = AgentSecurity(autoload=False)
    result = security.check_tool_call(tool_name="delete_everything", agent_id="a", environment="dev")
    assert not result.allowed and result.decision.codes == ("DEFAULT_DENY",)


def test_case_insensitive_tool_names_through_sdk(examples_dir, clock):
    security = _security(examples_dir, clock)
    result = security.check_tool_call(tool_name="Send_Email", agent_id="a", environment="dev", data_labels=["pci"])
    assert result.decision.codes == ("DENY_PCI_EMAIL",)


def test_reload_over_the_builtin_default_policy_is_not_a_rollback(tmp_path):
    security = AgentSecurity(autoload=False)  # the built-in default bundle, dated now
    path, _ = _fresh_bundle(tmp_path)  # generated a day ago
    security.reload_policy(path)
    assert security.check_tool_call(
        tool_name="query_customer_db", tool_args={"q": "dump"}, agent_id="a", environment="dev"
    ).decision.codes == ("DENY_BULK_EXPORT",)
    older, _ = _fresh_bundle(
        tmp_path, name="older.json", generated_at=(datetime.now(UTC) - timedelta(days=2)).isoformat()
    )
    with pytest.raises(PolicyRollbackError):
        security.reload_policy(older)
