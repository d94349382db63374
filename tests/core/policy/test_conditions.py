"""tool_args_match: every operator, dotted paths, numeric strings and fail-closed comparisons."""

from __future__ import annotations

import pytest

from agent_security.core.policy.conditions import as_number, js_string, json_equal, parse_tool_args_match


def _hit(engine_for, make_rule, request_factory, now, condition, args, outcome="DENY") -> str:
    engine = engine_for(make_rule("R", "t", outcome, when={"tool_args_match": condition}))
    return engine.evaluate(request_factory("t", args), now=now).codes[0]


@pytest.mark.parametrize(
    ("condition", "args", "hit"),
    [
        ({"amount": {"gt": 1000}}, {"amount": 1500}, True),
        ({"amount": {"gt": 1000}}, {"amount": 1000}, False),
        ({"amount": {"gte": 1000}}, {"amount": 1000}, True),
        ({"amount": {"lt": 10}}, {"amount": 9.99}, True),
        ({"amount": {"lte": 10}}, {"amount": 10.0}, True),
        ({"amount": {"lte": 10}}, {"amount": 10.01}, False),
        ({"amount": {"gt": 1000}}, {"amount": "5000"}, True),  # W11: numeric strings compare as numbers
        ({"amount": {"gt": 1000}}, {"amount": " 5e3 "}, True),
        ({"amount": {"gt": "1000"}}, {"amount": 1001}, True),  # numeric string operand
        ({"amount": {"gt": 1000, "lt": 2000}}, {"amount": 1500}, True),  # operators AND
        ({"amount": {"gt": 1000, "lt": 2000}}, {"amount": 2500}, False),
        ({"amount": {"gt": 1000}}, {}, False),  # missing: not comparable to anything => no match
        ({"currency": "USD"}, {"currency": "USD"}, True),  # literal means eq
        ({"currency": "USD"}, {"currency": "usd"}, True),  # a DENY rule also reads strings loosely (issue 20)
        ({"currency": {"eq": "USD"}}, {"currency": "USD"}, True),
        ({"currency": {"neq": "USD"}}, {"currency": "EUR"}, True),
        ({"currency": {"neq": "USD"}}, {"currency": "USD"}, False),
        ({"currency": {"neq": "USD"}}, {}, True),
        ({"amount": 5000}, {"amount": "5000"}, True),  # number vs numeric string
        ({"amount": 5000}, {"amount": 5000.0}, True),
        ({"flag": True}, {"flag": 1}, True),  # a tool reads 1 as true for a boolean parameter (issue 20)
        ({"flag": 1}, {"flag": True}, True),
        ({"flag": True}, {"flag": True}, True),
        ({"x": None}, {"x": None}, True),
        ({"x": None}, {}, False),
        ({"tags": ["a", "b"]}, {"tags": ["a", "b"]}, True),  # arrays compare by content
        ({"tags": ["a", "b"]}, {"tags": ["b", "a"]}, False),
        ({"obj": {"eq": {"k": 1}}}, {"obj": {"k": 1}}, True),  # nested-object literal via eq
        ({"country": {"in": ["KP", "IR"]}}, {"country": "IR"}, True),
        ({"country": {"in": ["KP", "IR"]}}, {"country": "FR"}, False),
        ({"country": {"not_in": ["KP", "IR"]}}, {"country": "FR"}, True),
        ({"country": {"not_in": ["KP", "IR"]}}, {"country": "KP"}, False),
        ({"code": {"in": [1, 2]}}, {"code": "2"}, True),
        ({"email": {"regex": "@evil\\.com$"}}, {"email": "x@EVIL.com"}, True),  # case-insensitive
        ({"email": {"regex": "@evil\\.com$"}}, {"email": "x@good.com"}, False),
        ({"id": {"regex": "^4\\d+$"}}, {"id": 4123}, True),  # numbers as strings
        ({"customer.address.country": "KP"}, {"customer": {"address": {"country": "KP"}}}, True),
        ({"customer.address.country": "KP"}, {"customer": {"address": "KP"}}, False),
        ({"customer.address.country": "KP"}, {"customer": None}, False),
        ({"items.1.sku": "X"}, {"items": [{"sku": "A"}, {"sku": "X"}]}, True),
        ({"items.5.sku": "X"}, {"items": [{"sku": "X"}]}, False),
        ({"a.b": 1}, {"a.b": 1}, True),  # a literal dotted key is found first
    ],
)
def test_operators(engine_for, make_rule, request_factory, now, condition, args, hit):
    code = _hit(engine_for, make_rule, request_factory, now, condition, args)
    assert code == ("R" if hit else "DEFAULT_ALLOW")


@pytest.mark.parametrize(
    ("condition", "args"),
    [
        ({"amount": {"gt": 1000}}, {"amount": "lots"}),
        ({"amount": {"gt": 1000}}, {"amount": [5000]}),
        ({"amount": {"gt": 1000}}, {"amount": True}),
        ({"amount": {"gt": 1000}}, {"amount": None}),
        ({"amount": {"lte": 1000}}, {"amount": float("nan")}),
        ({"amount": {"gt": 1000}}, {"amount": "1e99999"}),
        ({"email": {"regex": "x"}}, {"email": {"nested": "x"}}),
    ],
)
def test_uncomparable_values_fail_closed(engine_for, make_rule, request_factory, now, condition, args):
    deny = _hit(engine_for, make_rule, request_factory, now, condition, args, "DENY")
    approval = _hit(engine_for, make_rule, request_factory, now, condition, args, "REQUIRE_APPROVAL")
    allow = _hit(engine_for, make_rule, request_factory, now, condition, args, "ALLOW")
    assert deny == "R"
    assert approval == "R"
    assert allow == "DEFAULT_ALLOW"


def test_fail_closed_decision_says_so(engine_for, make_rule, request_factory, now):
    engine = engine_for(
        make_rule(
            "R", "t", "REQUIRE_APPROVAL", approver_role="finance", when={"tool_args_match": {"amount": {"gt": 1000}}}
        )
    )
    decision = engine.evaluate(request_factory("t", {"amount": "a lot"}), now=now)
    assert decision.codes == ("R", "POLICY_CONDITION_INDETERMINATE")
    assert decision.approver_role == "finance"
    assert "amount" not in decision.reasons[1].message and "a lot" not in decision.reasons[1].message


def test_indeterminate_and_false_is_false(engine_for, make_rule, request_factory, now):
    # a definite mismatch on another condition wins over an uncomparable value
    code = _hit(
        engine_for,
        make_rule,
        request_factory,
        now,
        {"amount": {"gt": 1000}, "currency": "USD"},
        {"amount": "lots", "currency": "EUR"},
    )
    assert code == "DEFAULT_ALLOW"


def test_later_allow_after_skipped_allow(engine_for, make_rule, request_factory, now):
    engine = engine_for(
        make_rule("SMALL_OK", "pay", "ALLOW", when={"tool_args_match": {"amount": {"lt": 100}}}),
        make_rule("APPROVE", "pay", "REQUIRE_APPROVAL"),
        default="DENY",
    )
    assert engine.evaluate(request_factory("pay", {"amount": 50}), now=now).codes == ("SMALL_OK",)
    assert engine.evaluate(request_factory("pay", {"amount": "fifty"}), now=now).codes == ("APPROVE",)


def test_helpers():
    assert as_number("12.5") == as_number(12.5)
    assert as_number(True) is None
    assert as_number("1_000") is None
    assert as_number("NaN") is None
    assert as_number("x" * 100) is None
    assert js_string(5000.0) == "5000"
    assert js_string(False) == "false"
    assert js_string(None) is None
    assert json_equal({"a": [1, "2"]}, {"a": [1.0, 2]})
    assert not json_equal({"a": 1}, {"b": 1})
    assert not json_equal([1], [True])
    assert len(parse_tool_args_match({"a": 1, "b": {"gt": 2, "lt": 5}})[1].tests) == 2


@pytest.mark.parametrize(
    ("condition", "args"),
    [
        ({"options.force": True}, {"options": {"force": True}, "options.force": False}),
        ({"options.force": True}, {"options": {"force": False}, "options.force": True}),
        ({"payment.amount": {"gt": 1000}}, {"payment": {"amount": 250000}, "payment.amount": 1}),
        ({"items.0.sku": "BANNED"}, {"items": [{"sku": "BANNED"}], "items.0.sku": "ok"}),
        ({"mode": {"neq": "safe"}, "a.b": {"in": [1]}}, {"mode": "x", "a": {"b": 1}, "a.b": 2}),
    ],
)
def test_dotted_path_decoy_key_cannot_hide_the_nested_value(
    engine_for, make_rule, request_factory, now, condition, args
):
    for outcome in ("DENY", "REQUIRE_APPROVAL"):
        assert _hit(engine_for, make_rule, request_factory, now, condition, args, outcome) == "R"


def test_dotted_path_allow_rule_needs_both_values(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("OK", "t", "ALLOW", when={"tool_args_match": {"opts.dry_run": True}}), default="DENY")

    def code(args):
        return engine.evaluate(request_factory("t", args), now=now).codes

    assert code({"opts": {"dry_run": True}}) == ("OK",)
    assert code({"opts.dry_run": True}) == ("OK",)  # a top-level dotted key alone, as in Agent-SPM
    assert code({"opts": {"dry_run": True}, "opts.dry_run": True}) == ("OK",)
    assert code({"opts": {"dry_run": False}, "opts.dry_run": True}) == ("DEFAULT_DENY",)
    assert code({"opts": {"dry_run": True}, "opts.dry_run": False}) == ("DEFAULT_DENY",)


def test_dotted_path_indeterminate_value_fails_closed(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "t", "DENY", when={"tool_args_match": {"a.b": {"gt": 5}}}))
    decision = engine.evaluate(request_factory("t", {"a": {"b": "lots"}, "a.b": 1}), now=now)
    assert decision.codes == ("R", "POLICY_CONDITION_INDETERMINATE")
    decision, traces = engine.explain(request_factory("t", {"a": {"b": 9}, "a.b": 1}), now=now)
    assert decision.codes == ("R",) and traces[0].result == "matched"


FW_EVIL = "\uff45\uff56\uff49\uff4c.com"  # fullwidth "evil" + ".com"


@pytest.mark.parametrize(
    ("condition", "args"),
    [
        ({"url": {"regex": r"^https?://([a-z0-9-]+\.)*evil\.com(:|/|$)"}}, {"url": f"https://{FW_EVIL}/x"}),
        ({"url": {"regex": r"^https?://([a-z0-9-]+\.)*evil\.com(:|/|$)"}}, {"url": "https://ev\u200bil.com/x"}),
        ({"url": {"regex": r"^https?://([a-z0-9-]+\.)*evil\.com(:|/|$)"}}, {"url": "https://ev\u00adil.com/x"}),
        ({"host": {"in": ["evil.com"]}}, {"host": FW_EVIL}),
        ({"host": {"in": ["evil.com"]}}, {"host": "evil\u200b.com"}),
        ({"host": "evil.com"}, {"host": "e\u2060vil.com"}),
        ({"host": FW_EVIL}, {"host": "evil.com"}),  # operands are normalised too
        ({"hosts": {"eq": ["a.org", "evil.com"]}}, {"hosts": ["a.org", FW_EVIL]}),
        ({"cfg": {"in": [{"host": "evil.com"}]}}, {"cfg": {"host": "ev\u200bil.com"}}),
        ({"amount": {"gt": 1000}}, {"amount": "\uff15\uff10\uff10\uff10"}),
    ],
)
def test_argument_strings_are_also_compared_normalised(engine_for, make_rule, request_factory, now, condition, args):
    for outcome in ("DENY", "REQUIRE_APPROVAL"):
        engine = engine_for(make_rule("R", "t", outcome, when={"tool_args_match": condition}))
        assert engine.evaluate(request_factory("t", args), now=now).codes == ("R",)


def test_argument_case_fires_a_deny_rule_but_not_an_allow_rule(engine_for, make_rule, request_factory, now):
    # issue 20: a DENY rule reads the value loosely (case folded), an ALLOW rule takes the exact reading
    condition = {"host": {"in": ["evil.com"]}}
    assert _hit(engine_for, make_rule, request_factory, now, condition, {"host": "EVIL.com"}) == "R"
    assert (
        _hit(engine_for, make_rule, request_factory, now, {"host": "ok.org"}, {"host": "OK.org"}, outcome="ALLOW")
        == "DEFAULT_ALLOW"
    )


def test_restrictive_negative_argument_tests_use_the_raw_value(engine_for, make_rule, request_factory, now):
    # "deny unless mode is safe": a fullwidth "safe" is not "safe" to the tool
    engine = engine_for(
        make_rule("R", "t", when={"tool_args_match": {"mode": {"neq": "safe"}}}),
        make_rule("S", "u", when={"tool_args_match": {"host": {"not_in": ["ok.org"]}}}),
    )
    assert engine.evaluate(request_factory("t", {"mode": "safe"}), now=now).codes == ("DEFAULT_ALLOW",)
    assert engine.evaluate(request_factory("t", {"mode": "\uff53\uff41\uff46\uff45"}), now=now).codes == ("R",)
    assert engine.evaluate(request_factory("u", {"host": "ok\u200b.org"}), now=now).codes == ("S",)


@pytest.mark.parametrize(
    ("condition", "good", "evasion"),
    [
        ({"mode": {"neq": "admin"}}, "user", "ad\u200bmin"),
        ({"host": {"not_in": ["evil.com"]}}, "good.com", FW_EVIL),
        ({"host": {"not_in": ["evil.com"]}}, "good.com", "evil.com\u00ad"),
        ({"name": {"regex": "^[a-z.]+$"}}, "ok.org", "ok\u200b.org"),
        ({"amount": {"lt": 100}}, 50, "5\u200b0"),
    ],
)
def test_allow_argument_tests_must_hold_raw_and_normalised(
    engine_for, make_rule, request_factory, now, condition, good, evasion
):
    engine = engine_for(make_rule("OK", "t", "ALLOW", when={"tool_args_match": condition}), default="DENY")
    key = next(iter(condition))
    assert engine.evaluate(request_factory("t", {key: good}), now=now).codes == ("OK",)
    assert engine.evaluate(request_factory("t", {key: evasion}), now=now).codes == ("DEFAULT_DENY",)


def test_large_arguments_are_not_normalised_against_small_operands():
    [cond] = parse_tool_args_match({"tags": {"in": [["a", "b"]]}})
    assert cond.deep_nodes == 3
    big = ["\uff41"] * 100_000
    assert cond.evaluate({"tags": big}, restrictive=True) is False
    assert cond.evaluate({"tags": ["\uff41", "b"]}, restrictive=True) is True
    assert cond.evaluate({"tags": ["\uff41", "b"]}, restrictive=False) is False
