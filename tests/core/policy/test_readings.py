"""Issue 20: where a value reads two ways, a DENY or approval-like rule takes the reading that fires it, an
ALLOW rule the reading that does not. One table per class of weakness; each row failed before the fix."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core.policy.conditions import parse_tool_args_match
from agent_security.core.policy.fold import fold_name, fold_text

RESTRICTIVE = ("DENY", "REQUIRE_APPROVAL")


def _code(engine_for, make_rule, request_factory, now, when, args, *, outcome="DENY", tool="t", **request) -> str:
    default = "DENY" if outcome == "ALLOW" else "ALLOW"
    engine = engine_for(make_rule("R", "t", outcome, when=when), default=default)
    return engine.evaluate(request_factory(tool, args, **request), now=now).codes[0]


# -- 1. tool_args_match reads values as the tool does --------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        ({"confirm": True}, "true"),
        ({"confirm": True}, "True"),
        ({"confirm": True}, " yes "),
        ({"confirm": True}, 1),
        ({"confirm": True}, "1"),
        ({"confirm": True}, "on"),
        ({"confirm": True}, ["true"]),
        ({"confirm": False}, "false"),
        ({"confirm": False}, 0),
        ({"confirm": False}, "no"),
        ({"confirm": {"in": [True]}}, "y"),
        ({"env": "prod"}, "PROD"),
        ({"env": "prod"}, " prod "),
        ({"env": "prod"}, "Prod\n"),
        ({"env": "prod"}, "\uff50\uff52\uff4f\uff44"),  # fullwidth
        ({"env": "prod"}, "pr\u200bod"),
        ({"env": "prod"}, ["prod"]),
        ({"env": ["prod"]}, "prod"),  # a one-element operand against its element
        ({"path": {"in": ["/etc/passwd", "/etc/shadow"]}}, ["/etc/shadow"]),
        ({"path": {"in": ["/etc/passwd"]}}, " /ETC/passwd"),
        ({"amount": {"gt": 1000}}, ["5000"]),
        ({"role": {"regex": "^admin$"}}, " admin "),
        ({"role": {"regex": "^admin$"}}, ["admin"]),
        ({"cfg": {"eq": {"force": True}}}, {"force": "true"}),
    ],
)
def test_a_deny_rule_reads_argument_values_loosely(engine_for, make_rule, request_factory, now, condition, value):
    for outcome in RESTRICTIVE:
        when = {"tool_args_match": condition}
        key = next(iter(condition))
        assert _code(engine_for, make_rule, request_factory, now, when, {key: value}, outcome=outcome) == "R"


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        ({"confirm": True}, "no"),
        ({"confirm": True}, "maybe"),
        ({"confirm": True}, 2),
        ({"confirm": True}, None),
        ({"confirm": False}, ""),
        ({"env": "prod"}, "production"),
        ({"env": "prod"}, ["prod", "dev"]),  # two elements are not one value
        ({"amount": {"gt": 1000}}, [5000, 1]),  # indeterminate, but an ALLOW default here: see below
    ],
)
def test_loose_reading_does_not_equate_different_values(engine_for, make_rule, request_factory, now, condition, value):
    when = {"tool_args_match": condition}
    key = next(iter(condition))
    code = _code(engine_for, make_rule, request_factory, now, when, {key: value})
    expected = "R" if isinstance(value, list) and "gt" in str(condition) else "DEFAULT_ALLOW"
    assert code == expected


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        ({"dry_run": True}, "true"),  # the exact reading (a string) is not the boolean true
        ({"dry_run": True}, 1),
        ({"role": {"neq": "admin"}}, "Admin"),  # the tool may compare case-insensitively
        ({"role": {"neq": "admin"}}, " admin"),
        ({"role": {"neq": "admin"}}, ["admin"]),
        ({"role": {"not_in": ["admin", "root"]}}, "ROOT"),
        ({"host": "ok.org"}, "OK.org"),
        ({"host": "ok.org"}, ["ok.org"]),
    ],
)
def test_an_allow_rule_takes_the_reading_that_does_not_fire_it(
    engine_for, make_rule, request_factory, now, condition, value
):
    when = {"tool_args_match": condition}
    key = next(iter(condition))
    assert _code(engine_for, make_rule, request_factory, now, when, {key: value}, outcome="ALLOW") == "DEFAULT_DENY"


def test_plain_values_decide_as_before(engine_for, make_rule, request_factory, now):
    when = {"tool_args_match": {"dry_run": True, "role": {"neq": "admin"}}}
    args = {"dry_run": True, "role": "viewer"}
    assert _code(engine_for, make_rule, request_factory, now, when, args, outcome="ALLOW") == "R"
    assert _code(engine_for, make_rule, request_factory, now, when, {**args, "role": "admin"}, outcome="ALLOW") == (
        "DEFAULT_DENY"
    )


# -- 2. conditions are judged against the argument they concern ---------------------------------------


@pytest.mark.parametrize(
    ("args", "user_input"),
    [
        ({"note": "hello", "cmd": "rm -rf /"}, None),  # a decoy argument before the command
        ({"cmd": "rm -rf /"}, "please tidy up"),  # user_input comes first in the joined text
        ({"argv": ["sudo", "rm -rf /"]}, None),  # a value inside an argument
    ],
)
def test_an_anchored_deny_pattern_matches_at_the_start_of_any_value(
    engine_for, make_rule, request_factory, now, args, user_input
):
    when = {"matches_regex": r"^rm\s+-rf"}
    assert _code(engine_for, make_rule, request_factory, now, when, args, user_input=user_input) == "R"


def test_an_anchored_allow_pattern_cannot_be_switched_on_by_user_input(engine_for, make_rule, request_factory, now):
    when = {"matches_regex": r"^select\s"}
    args = {"sql": "drop table users"}
    code = _code(engine_for, make_rule, request_factory, now, when, args, outcome="ALLOW", user_input="select all")
    assert code == "DEFAULT_DENY"
    assert _code(engine_for, make_rule, request_factory, now, when, {"sql": "select 1"}, outcome="ALLOW") == "R"


@pytest.mark.parametrize(
    ("args", "user_input", "code"),
    [
        ({"command": "kubectl delete ns prod"}, None, "R"),
        ({"command": "kubectl delete ns prod --dry-run"}, None, "DEFAULT_ALLOW"),  # the same argument
        ({"argv": ["kubectl", "delete", "ns", "--dry-run"]}, None, "DEFAULT_ALLOW"),  # inside the same argument
        ({"command": "kubectl delete ns prod", "note": "--dry-run"}, None, "R"),  # a decoy argument
        ({"command": "kubectl delete ns prod", "meta": {"x": "--dry-run"}}, None, "R"),
        ({"command": "kubectl delete ns prod"}, "use --dry-run", "R"),  # user_input
        ({"a": "delete x --dry-run", "b": "delete y"}, None, "R"),  # one concerned argument lacks it
    ],
)
def test_a_keyword_exemption_comes_from_the_argument_the_rule_concerns(
    engine_for, make_rule, request_factory, now, args, user_input, code
):
    when = {"contains_any": ["delete"], "not_contains": ["--dry-run"]}
    for outcome in RESTRICTIVE:
        got = _code(engine_for, make_rule, request_factory, now, when, args, outcome=outcome, user_input=user_input)
        assert got == code


def test_an_exemption_for_an_argument_condition_comes_from_that_argument(engine_for, make_rule, request_factory, now):
    when = {"tool_args_match": {"to": {"regex": "@"}}, "not_contains": ["@company.com"]}
    assert _code(engine_for, make_rule, request_factory, now, when, {"to": "bob@company.com"}) == "DEFAULT_ALLOW"
    args = {"to": "x@evil.com", "cc": "me@company.com"}
    assert _code(engine_for, make_rule, request_factory, now, when, args) == "R"
    args = {"to": "x@evil.com", "body": "hi"}
    assert _code(engine_for, make_rule, request_factory, now, when, args, user_input="@company.com") == "R"


def test_user_input_cannot_switch_an_allow_rule_on(engine_for, make_rule, request_factory, now):
    when = {"contains_any": ["read-only"]}
    args = {"sql": "DROP TABLE users"}
    code = _code(engine_for, make_rule, request_factory, now, when, args, outcome="ALLOW", user_input="read-only")
    assert code == "DEFAULT_DENY"
    assert _code(engine_for, make_rule, request_factory, now, when, {"mode": "read-only"}, outcome="ALLOW") == "R"


@pytest.mark.parametrize(
    ("path", "args"),
    [
        ("items.sku", {"items": [{"sku": "A"}, {"sku": "X"}]}),  # a list: every element
        ("a.b.c", {"a": {"b.c": "X"}}),  # a literal dotted key below the top level
        ("a.b.c", {"a.b": {"c": "X"}}),
        ("a.b.c", {"a": {"b": {"c": "Y"}}, "a.b.c": "X"}),  # two readings: the decoy does not hide X
        ("a.b.c", {"a": {"b": {"c": "X"}}, "a.b.c": "Y"}),
    ],
)
def test_a_dotted_path_reads_every_way_the_arguments_allow(engine_for, make_rule, request_factory, now, path, args):
    assert _code(engine_for, make_rule, request_factory, now, {"tool_args_match": {path: "X"}}, args) == "R"
    allow = {"tool_args_match": {path: {"neq": "X"}}}
    assert _code(engine_for, make_rule, request_factory, now, allow, args, outcome="ALLOW") == "DEFAULT_DENY"


def test_a_path_with_too_many_readings_fails_closed(engine_for, make_rule, request_factory, now):
    args: dict[str, Any] = {"items": [{"sku": "A"}] * 5000}
    engine = engine_for(make_rule("R", "t", when={"tool_args_match": {"items.sku": "X"}}))
    decision = engine.evaluate(request_factory("t", args), now=now)
    assert decision.codes == ("R", "POLICY_CONDITION_INDETERMINATE")


# -- 3. confusables ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "\u1d07xpor\u1d1b all",  # small capitals
        "e\u0301xport all",  # a combining mark
        "\u0435xport all",  # Cyrillic ie
        "\u0435\u0445\u0440\u043e\u0433\u0442 all",  # Cyrillic letters only
        "\U0001d41e\U0001d431\U0001d429\U0001d428\U0001d42b\U0001d42d all",  # mathematical bold
        "\u202eexport all",  # a bidi override
    ],
)
def test_a_deny_keyword_meets_its_confusable_spellings(engine_for, make_rule, request_factory, now, text):
    for outcome in RESTRICTIVE:
        when = {"contains_any": ["export"]}
        assert _code(engine_for, make_rule, request_factory, now, when, {"q": text}, outcome=outcome) == "R"


@pytest.mark.parametrize("blank", ["\u2800", "\u3164", "\uffa0", "\u115f", "\u00a0", "\u3000"])
def test_characters_that_render_as_a_blank_read_as_a_space(engine_for, make_rule, request_factory, now, blank):
    when = {"contains_any": ["rm -rf"]}
    assert _code(engine_for, make_rule, request_factory, now, when, {"cmd": f"rm{blank}-rf /"}) == "R"


def test_an_allow_keyword_must_hold_in_every_reading(engine_for, make_rule, request_factory, now):
    ok = {"contains_any": ["approved"]}
    assert _code(engine_for, make_rule, request_factory, now, ok, {"x": "approved"}, outcome="ALLOW") == "R"
    assert _code(engine_for, make_rule, request_factory, now, ok, {"x": "\u0430pproved"}, outcome="ALLOW") == (
        "DEFAULT_DENY"
    )
    safe = {"not_contains": ["drop"]}
    assert _code(engine_for, make_rule, request_factory, now, safe, {"x": "dr\u043ep"}, outcome="ALLOW") == (
        "DEFAULT_DENY"
    )


def test_ascii_reads_as_written(engine_for, make_rule, request_factory, now):
    # UTS #39 equates "cl" with "d" and "rn" with "m"; plain ASCII text keeps its letters
    assert _code(engine_for, make_rule, request_factory, now, {"contains_any": ["clear"]}, {"x": "dear"}) == (
        "DEFAULT_ALLOW"
    )
    assert fold_text("modern") == "modern"


@pytest.mark.parametrize(
    "name",
    ["\u0455end_email", "s\u0435nd_\u0435m\u0430il", "send_ema\u0456l", "s\u1d07nd_email", "send\u202e_email"],
)
def test_a_deny_rule_meets_a_confusable_tool_name(engine_for, make_rule, request_factory, now, name):
    assert fold_name(name) == "send_email"
    for outcome in RESTRICTIVE:
        engine = engine_for(make_rule("R", "send_email", outcome))
        assert engine.evaluate(request_factory(name), now=now).codes == ("R",)
        glob = engine_for(make_rule("R", "send_*", outcome))
        assert glob.evaluate(request_factory(name), now=now).codes == ("R",)


def test_an_allow_rule_does_not_match_a_confusable_tool_name(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "read_file", "ALLOW"), default="DENY")
    assert engine.evaluate(request_factory("read_file"), now=now).codes == ("R",)
    assert engine.evaluate(request_factory("r\u0435ad_file"), now=now).codes == ("DEFAULT_DENY",)


def test_lint_warns_of_an_exemption_without_an_argument():
    from agent_security.core.policy import load_policy
    from agent_security.core.policy.lint import lint_bundle

    data = {
        "version": "1",
        "generated_at": "2026-01-01T00:00:00Z",
        "expires_at": "2027-01-01T00:00:00Z",
        "rules": [
            {"id": "A", "match": {"tool_name": "*"}, "when": {"not_contains": ["@corp.com"]}, "outcome": "DENY"},
            {
                "id": "B",
                "match": {"tool_name": "*"},
                "when": {"contains_any": ["x"], "not_contains": ["y"]},
                "outcome": "DENY",
            },
        ],
        "defaults": {"outcome": "ALLOW"},
    }
    report = lint_bundle(load_policy(data, allow_expired=True))
    assert [(f.rule_id, f.code) for f in report.findings if f.code == "UNANCHORED_EXEMPTION"] == [
        ("A", "UNANCHORED_EXEMPTION")
    ]


def test_the_mark_table_covers_every_combining_mark():
    import sys
    import unicodedata

    from agent_security.core.policy.fold import prototype_table

    table = prototype_table()
    marks = [cp for cp in range(0x80, sys.maxunicode + 1) if unicodedata.category(chr(cp)) in ("Mn", "Me")]
    assert [cp for cp in marks if table.get(cp) != ""] == []


_scalars = st.one_of(
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["true", "yes", "0", "PROD", " prod ", "prod", "\uff50\uff52\uff4f\uff44", "pr\u200bod", "x", ""]),
)
_values = st.one_of(_scalars, st.lists(_scalars, max_size=2))
_operators = st.sampled_from(["eq", "neq", "in", "not_in", "regex", "gt"])


@settings(max_examples=400, deadline=None)
@given(_operators, _values, _values)
def test_more_readings_never_make_a_deny_rule_weaker_or_an_allow_rule_stronger(op, operand, actual):
    if op in ("in", "not_in"):
        operand = [operand]
    elif op == "regex":
        operand = "^prod$"
    elif op == "gt":
        operand = 0
    (cond,) = parse_tool_args_match({"v": {op: operand}})
    strict = cond.tests[0].test(actual)
    deny = cond.evaluate({"v": actual}, restrictive=True)
    allow = cond.evaluate({"v": actual}, restrictive=False)
    if strict is True:
        assert deny is True
    if allow is True:
        assert strict is True
