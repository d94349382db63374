"""Engine behaviour: expiry at decision time, fail-closed errors, immutability, indexing, limits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from agent_security.core.models import Action, ActionRequest, AgentInfo, Outcome
from agent_security.core.policy import PolicyEngine, default_policy_bundle, load_policy, searchable_values
from agent_security.core.policy.engine import MAX_SEARCH_DEPTH


def test_expiry_enforced_at_decision_time(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "t", "ALLOW"))
    before = engine.evaluate(request_factory("t"), now=datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert before.outcome is Outcome.ALLOW
    at = engine.evaluate(request_factory("t"), now=datetime(2027, 1, 1, tzinfo=UTC))
    after = engine.evaluate(request_factory("t"), now=datetime(2027, 6, 1))  # naive means UTC
    for decision in (at, after):
        assert decision.outcome is Outcome.DENY
        assert decision.codes == ("POLICY_EXPIRED",)
        assert "2027-01-01T00:00:00Z" in decision.reasons[0].message
    assert engine.expires_at == datetime(2027, 1, 1, tzinfo=UTC)


def test_evaluate_never_raises(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "t", "ALLOW", when={"contains_any": ["x"]}))
    for bogus in (None, "request", 42, object()):
        decision = engine.evaluate(bogus, now=now)  # type: ignore[arg-type]
        assert decision.outcome is Outcome.DENY
        assert decision.codes == ("POLICY_ERROR",)
    bad_now = engine.evaluate(request_factory("t"), now="yesterday")  # type: ignore[arg-type]
    assert bad_now.codes == ("POLICY_ERROR",)


def test_internal_error_is_policy_error_deny(engine_for, make_rule, request_factory, now, monkeypatch):
    engine = engine_for(make_rule("ALLOW_ALL", "*", "ALLOW", when={"contains_any": ["a"]}))

    def boom(*args, **kwargs):
        raise RuntimeError("secret-value-123 leaked?")

    monkeypatch.setattr("agent_security.core.policy.engine.searchable_values", boom)
    decision = engine.evaluate(request_factory("t", {"a": "a"}), now=now)
    assert decision.outcome is Outcome.DENY
    assert decision.codes == ("POLICY_ERROR",)
    assert "secret-value-123" not in decision.reasons[0].message


class _Exploding(dict):  # a hostile mapping whose values() raises
    def values(self):  # type: ignore[override]
        raise ValueError("nope")


def test_hostile_tool_args_fail_closed(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("OK", "t", "ALLOW", when={"not_contains": ["x"]}))
    request = ActionRequest.model_construct(agent=AgentInfo(agent_id="a", environment="prod"),
                                            action=Action.model_construct(tool_name="t", type="tool_call",
                                                                          tool_args=_Exploding(a=1),
                                                                          tool_identity=None),
                                            context=request_factory().context)
    assert engine.evaluate(request, now=now).codes == ("POLICY_ERROR",)


def test_searchable_values_order_and_types(request_factory):
    import uuid
    from decimal import Decimal

    req = request_factory("t", {"a": "one", "b": [2, {"c": True}, None, 1.5], "d": b"bytes",
                                "e": Decimal("3.10"), "f": uuid.UUID(int=1), "g": {"k": "v"}},
                          user_input="hello")
    values, truncated = searchable_values(req)
    assert values == ["hello", "one", "2", "true", "1.5", "bytes", "3.10", str(uuid.UUID(int=1)), "v"]
    assert truncated is False
    opaque, truncated = searchable_values(request_factory("t", {"a": object()}))
    assert truncated is True and opaque == []


def test_too_deep_or_opaque_args_make_keyword_rules_fail_closed(engine_for, make_rule, request_factory, now):
    deep: object = "clean"
    for _ in range(MAX_SEARCH_DEPTH + 5):
        deep = [deep]
    engine = engine_for(make_rule("DENY_KW", "t", "DENY", when={"contains_any": ["export"]}),
                        make_rule("ALLOW_CLEAN", "u", "ALLOW", when={"not_contains": ["export"]}),
                        default="REQUIRE_HUMAN")
    assert engine.evaluate(request_factory("t", {"a": deep}), now=now).codes == (
        "DENY_KW", "POLICY_CONDITION_INDETERMINATE")
    assert engine.evaluate(request_factory("u", {"a": deep}), now=now).codes == ("DEFAULT_REQUIRE_HUMAN",)
    assert engine.evaluate(request_factory("u", {"a": object()}), now=now).codes == ("DEFAULT_REQUIRE_HUMAN",)
    # a definite hit in the searchable part still decides normally
    assert engine.evaluate(request_factory("t", {"a": deep, "b": "EXPORT"}), now=now).codes == ("DENY_KW",)
    assert engine.evaluate(request_factory("u", {"a": "fine"}), now=now).codes == ("ALLOW_CLEAN",)


def test_cyclic_args_do_not_hang(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "t", "DENY", when={"contains_any": ["zzz"]}))
    cyclic: dict[str, object] = {"a": "x"}
    cyclic["self"] = cyclic
    request = request_factory("t")
    request = request.model_copy(update={"action": request.action.model_copy(update={"tool_args": cyclic})})
    assert engine.evaluate(request, now=now).codes == ("R", "POLICY_CONDITION_INDETERMINATE")


def test_engine_is_immutable(engine_for, make_rule):
    engine = engine_for(make_rule("R", "t"))
    with pytest.raises(AttributeError):
        engine.bundle = None  # type: ignore[misc]
    with pytest.raises(AttributeError):
        engine.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        PolicyEngine({"version": "1"})  # type: ignore[arg-type]


def test_swap_on_reload_keeps_old_engine_on_failure(build_bundle, make_rule, request_factory, now):
    from agent_security.core.errors import PolicyLoadError

    current = PolicyEngine(load_policy(build_bundle(make_rule("R", "t")), now=now))
    bad = build_bundle(make_rule("R", "t"), make_rule("R", "u"))
    with pytest.raises(PolicyLoadError):
        current = PolicyEngine(load_policy(bad, now=now))
    assert current.evaluate(request_factory("t"), now=now).codes == ("R",)
    current = PolicyEngine.from_source(build_bundle(make_rule("NEW", "t")), now=now)
    assert current.evaluate(request_factory("t"), now=now).codes == ("NEW",)


def test_index_respects_order_across_exact_and_glob(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("G1", "send_*", environment="dev"),
                        make_rule("E1", "send_email"),
                        make_rule("G2", "*"),
                        make_rule("E2", "send_email"))
    assert engine.evaluate(request_factory("send_email", environment="dev"), now=now).codes == ("G1",)
    assert engine.evaluate(request_factory("SEND_EMAIL", environment="prod"), now=now).codes == ("E1",)
    assert engine.evaluate(request_factory("other"), now=now).codes == ("G2",)


def test_many_rules_and_cache_bound(engine_for, make_rule, request_factory, now):
    rules = [make_rule(f"R{i}", f"tool_{i}", environment="prod" if i % 2 else "*") for i in range(1000)]
    engine = engine_for(*rules)
    assert engine.evaluate(request_factory("tool_999", environment="prod"), now=now).codes == ("R999",)
    assert engine.evaluate(request_factory("tool_999", environment="dev"), now=now).codes == (
        "DEFAULT_ALLOW",)
    for i in range(5000):  # distinct names: the look-up memo stays bounded
        engine.evaluate(request_factory(f"unknown_{i}"), now=now)
    assert len(engine._cache) <= 4096
    assert engine.evaluate(request_factory("tool_998"), now=now).codes == ("R998",)


def test_thread_safety(engine_for, make_rule, request_factory, now):
    engine = engine_for(*(make_rule(f"R{i}", f"t{i}", when={"contains_any": [f"k{i}"]}) for i in range(50)))
    errors: list[str] = []

    def worker(offset: int) -> None:
        for i in range(300):
            n = (i + offset) % 60
            decision = engine.evaluate(request_factory(f"t{n}", {"q": f"k{n}"}), now=now)
            expected = f"R{n}" if n < 50 else "DEFAULT_ALLOW"
            if decision.codes[0] != expected:
                errors.append(f"{n}: {decision.codes}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_default_policy_bundle_is_safe(request_factory):
    start = datetime(2026, 6, 1, tzinfo=UTC)
    bundle = default_policy_bundle(now=start)
    assert bundle.defaults.outcome is Outcome.DENY
    assert bundle.expires_at_dt == start + timedelta(days=365)
    engine = PolicyEngine(bundle)
    assert engine.evaluate(request_factory("delete_everything", environment="dev"), now=start).codes == (
        "DEFAULT_DENY",)
    assert engine.evaluate(request_factory("query_customer_db", {"q": "dump"}), now=start).codes == (
        "DENY_BULK_EXPORT",)
    email = engine.evaluate(request_factory("send_email"), now=start)
    assert (email.outcome, email.approver_role) == (Outcome.REQUIRE_APPROVAL, "security")
    assert default_policy_bundle().expires_at_dt > datetime.now(UTC)
