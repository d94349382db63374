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

    monkeypatch.setattr("agent_security.core.policy.view.searchable_values", boom)
    decision = engine.evaluate(request_factory("t", {"a": "a"}), now=now)
    assert decision.outcome is Outcome.DENY
    assert decision.codes == ("POLICY_ERROR",)
    assert "secret-value-123" not in decision.reasons[0].message


class _Exploding(dict):  # a hostile mapping whose values() raises
    def values(self):  # type: ignore[override]
        raise ValueError("nope")


def test_hostile_tool_args_fail_closed(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("OK", "t", "ALLOW", when={"not_contains": ["x"]}))
    request = ActionRequest.model_construct(
        agent=AgentInfo(agent_id="a", environment="prod"),
        action=Action.model_construct(tool_name="t", type="tool_call", tool_args=_Exploding(a=1), tool_identity=None),
        context=request_factory().context,
    )
    assert engine.evaluate(request, now=now).codes == ("POLICY_ERROR",)


def test_searchable_values_order_and_types(request_factory):
    import uuid
    from decimal import Decimal

    req = request_factory(
        "t",
        {
            "a": "one",
            "b": [2, {"c": True}, None, 1.5],
            "d": b"bytes",
            "e": Decimal("3.10"),
            "f": uuid.UUID(int=1),
            "g": {"k": "v"},
        },
        user_input="hello",
    )
    values, truncated = searchable_values(req)
    assert values == ["hello", "one", "2", "true", "1.5", "bytes", "3.10", str(uuid.UUID(int=1)), "v"]
    assert truncated is False
    opaque, truncated = searchable_values(request_factory("t", {"a": object()}))
    assert truncated is True and opaque == []


def test_too_deep_or_opaque_args_make_keyword_rules_fail_closed(engine_for, make_rule, request_factory, now):
    deep: object = "clean"
    for _ in range(MAX_SEARCH_DEPTH + 5):
        deep = [deep]
    engine = engine_for(
        make_rule("DENY_KW", "t", "DENY", when={"contains_any": ["export"]}),
        make_rule("ALLOW_CLEAN", "u", "ALLOW", when={"not_contains": ["export"]}),
        default="REQUIRE_HUMAN",
    )
    assert engine.evaluate(request_factory("t", {"a": deep}), now=now).codes == (
        "DENY_KW",
        "POLICY_CONDITION_INDETERMINATE",
    )
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
    engine = engine_for(
        make_rule("G1", "send_*", environment="dev"),
        make_rule("E1", "send_email"),
        make_rule("G2", "*"),
        make_rule("E2", "send_email"),
    )
    assert engine.evaluate(request_factory("send_email", environment="dev"), now=now).codes == ("G1",)
    assert engine.evaluate(request_factory("SEND_EMAIL", environment="prod"), now=now).codes == ("E1",)
    assert engine.evaluate(request_factory("other"), now=now).codes == ("G2",)


def test_many_rules_and_cache_bound(engine_for, make_rule, request_factory, now):
    rules = [make_rule(f"R{i}", f"tool_{i}", environment="prod" if i % 2 else "*") for i in range(1000)]
    engine = engine_for(*rules)
    assert engine.evaluate(request_factory("tool_999", environment="prod"), now=now).codes == ("R999",)
    assert engine.evaluate(request_factory("tool_999", environment="dev"), now=now).codes == ("DEFAULT_ALLOW",)
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
        "DEFAULT_DENY",
    )
    assert engine.evaluate(request_factory("query_customer_db", {"q": "dump"}), now=start).codes == (
        "DENY_BULK_EXPORT",
    )
    email = engine.evaluate(request_factory("send_email"), now=start)
    assert (email.outcome, email.approver_role) == (Outcome.REQUIRE_APPROVAL, "security")
    assert default_policy_bundle().expires_at_dt > datetime.now(UTC)


def test_many_globs_use_one_set_and_agree_with_the_reference(engine_for, make_rule, request_factory, now):
    import random

    rng = random.Random(7)
    parts = ["query", "send", "db", "x", "email", "_", "a", ".", "é"]
    patterns = sorted(
        {"*".join(rng.choice(parts) for _ in range(rng.randint(1, 3))) + rng.choice(["*", ""]) for _ in range(60)}
    )
    rules = [
        make_rule(f"G{i}", p if "*" in p else p + "*", environment=rng.choice(["*", "prod", "dev"]))
        for i, p in enumerate(patterns)
    ]
    rules.insert(10, make_rule("EXACT", "send_email"))
    engine = engine_for(*rules)
    assert engine._glob_set is not None
    for _ in range(400):
        name = "".join(rng.choice(parts) for _ in range(rng.randint(0, 4)))
        request = request_factory(name or "n", environment=rng.choice(["prod", "dev", "PROD", "qa"]))
        assert engine.evaluate(request, now=now) == engine._evaluate_unindexed(request, now=now), name


def test_oversized_names_are_not_memoised(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "send_email"))
    huge = "x" * 100_000
    assert engine.evaluate(request_factory(huge, environment=huge), now=now).codes == ("DEFAULT_ALLOW",)
    assert all(len(k[0]) + len(k[1]) <= 512 for k in engine._cache)
    assert engine.evaluate(request_factory(" send_email\t", environment=" prod "), now=now).codes == ("R",)


def test_explain(engine_for, make_rule, request_factory, now):
    engine = engine_for(
        make_rule("ADMINS", "pay", "ALLOW", agent_roles_any=["admin"]),
        make_rule("SMALL", "pay", "ALLOW", when={"tool_args_match": {"amount": {"lt": 100}}}),
        make_rule("PII", "pay", "DENY", when={"data_labels_any": ["PII"]}),
        make_rule("BIG", "pay", "REQUIRE_APPROVAL", when={"tool_args_match": {"amount": {"gte": 100}}}),
        make_rule("LAST", "pay", "DENY"),
        make_rule("OTHER_TOOL", "refund", "DENY"),
        default="DENY",
    )
    decision, traces = engine.explain(request_factory("pay", {"amount": "lots"}), now=now)
    assert decision.codes == ("BIG", "POLICY_CONDITION_INDETERMINATE")
    assert [(t.rule_id, t.result) for t in traces] == [
        ("ADMINS", "skipped"),
        ("SMALL", "skipped"),
        ("PII", "skipped"),
        ("BIG", "applied-indeterminate"),
        ("LAST", "not-reached"),
    ]
    assert traces[0].detail == "match.agent_roles_any does not match"
    assert "indeterminate" in traces[1].detail
    assert traces[2].detail == "when.data_labels_any does not hold"
    assert str(traces[3]) == "BIG (REQUIRE_APPROVAL): applied-indeterminate — when.tool_args_match.amount"
    expired, none = engine.explain(request_factory("pay"), now=datetime(2030, 1, 1, tzinfo=UTC))
    assert expired.codes == ("POLICY_EXPIRED",) and none == []
