"""Rule matching: names, globs, identity fields, keyword/label/regex conditions, first match, defaults."""

from __future__ import annotations

import pytest

from agent_security.core.models import Outcome


def test_first_match_wins_and_reason(engine_for, make_rule, request_factory, now):
    engine = engine_for(
        make_rule("FIRST", "t", "REQUIRE_APPROVAL", approver_role="boss"), make_rule("SECOND", "t", "DENY")
    )
    decision = engine.evaluate(request_factory("t"), now=now)
    assert decision.outcome is Outcome.REQUIRE_APPROVAL
    assert [(r.code, r.message) for r in decision.reasons] == [("FIRST", "rule FIRST")]
    assert decision.approver_role == "boss"
    assert decision.constraints is None


@pytest.mark.parametrize("default", ["ALLOW", "DENY", "REQUIRE_APPROVAL", "STEP_UP", "REQUIRE_TICKET", "REQUIRE_HUMAN"])
def test_default_decision(engine_for, make_rule, request_factory, now, default):
    engine = engine_for(make_rule("R", "other"), default=default)
    decision = engine.evaluate(request_factory("t"), now=now)
    assert decision.outcome.value == default
    assert decision.codes == (f"DEFAULT_{default}",)
    assert decision.reasons[0].message == f"No specific rule matched; applying default policy ({default})"


def test_constraints_copied(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "t", "ALLOW", constraints={"max_rows": 100, "cols": ["a"]}))
    decision = engine.evaluate(request_factory("t"), now=now)
    assert decision.constraints == {"max_rows": 100, "cols": ["a"]}


@pytest.mark.parametrize(
    ("pattern", "tool", "hit"),
    [
        ("send_email", "send_email", True),
        ("send_email", "Send_Email", True),  # W9: case no longer evades
        ("SEND_EMAIL", "send_email", True),
        ("send_email", "send_email2", False),
        ("send_email", "\uff53\uff45\uff4e\uff44_\uff45\uff4d\uff41\uff49\uff4c", True),  # fullwidth
        ("send_email", "send\u200b_email", True),  # zero-width
        ("send_email", "send_ema\u0131l", True),  # dotless i: its upper() is "SEND_EMAIL"
        ("send_email", "SEND_EMA\u0130L", True),  # dotted capital I
        ("send_email", "SEND_EMAI\u0307L", True),  # I + combining dot above (NFKC: dotted capital I)
        ("send_ema\u0131l", "SEND_EMAIL", True),  # in the rule too
        ("query_*", "QUER\u0130ES_x", False),
        ("query_*", "QUER\u0130_x", False),
        ("quer\u0131_*", "QUERI_X", True),
        ("*", "anything", True),
        ("query_*", "query_customers", True),
        ("query_*", "query_", True),
        ("query_*", "Query_Orders", True),
        ("query_*", "send_query_x", False),
        ("*_email", "send_email", True),  # suffix globs work (literal in the original)
        ("*_email", "send_sms", False),
        ("db_*_export", "db_customers_export", True),
        ("db_*_export", "db_export", False),
        ("a*b*c", "axxbyyc", True),
        ("a*b*c", "acb", False),
        ("a?c", "abc", False),  # only * is special
        ("a?c", "a?c", True),
        (["trigger_payment", "trigger_refund"], "trigger_refund", True),
        (["trigger_payment", "trigger_refund"], "trigger_x", False),
        (["x", "trigger_*"], "trigger_x", True),  # globs inside lists
        ([], "x", False),
    ],
)
def test_tool_name_matching(engine_for, make_rule, request_factory, now, pattern, tool, hit):
    engine = engine_for(make_rule("R", pattern))
    assert engine.evaluate(request_factory(tool), now=now).codes == (("R",) if hit else ("DEFAULT_ALLOW",))


@pytest.mark.parametrize(
    ("env", "request_env", "hit"),
    [
        ("prod", "prod", True),
        ("prod", "PROD", True),  # W9
        ("prod", "production", False),
        ("*", "whatever", True),
        ("prod*", "production", True),
        (["dev", "staging"], "Staging", True),
        (["dev", "staging"], "prod", False),
    ],
)
def test_environment_matching(engine_for, make_rule, request_factory, now, env, request_env, hit):
    engine = engine_for(make_rule("R", "t", environment=env))
    assert engine.evaluate(request_factory("t", environment=request_env), now=now).codes[0] == (
        "R" if hit else "DEFAULT_ALLOW"
    )


def test_agent_type(engine_for, make_rule, request_factory, now):
    engine = engine_for(
        make_rule("LIST", "a", agent_type=["pr_agent", "ide_agent"]), make_rule("ONE", "b", agent_type="chat_agent")
    )
    assert engine.evaluate(request_factory("a", agent_type="IDE_agent"), now=now).codes == ("LIST",)
    assert engine.evaluate(request_factory("a", agent_type="chat_agent"), now=now).codes == ("DEFAULT_ALLOW",)
    assert engine.evaluate(request_factory("a"), now=now).codes == ("DEFAULT_ALLOW",)  # none => no match
    assert engine.evaluate(request_factory("b", agent_type="chat_agent"), now=now).codes == ("ONE",)


@pytest.mark.parametrize(
    ("level", "hit"),
    [(None, False), ("untrusted", False), ("basic", False), ("verified", True), ("privileged", True), ("system", True)],
)
def test_trust_level_min(engine_for, make_rule, request_factory, now, level, hit):
    engine = engine_for(make_rule("R", "t", trust_level_min="verified"))
    assert engine.evaluate(request_factory("t", trust_level=level), now=now).codes[0] == (
        "R" if hit else "DEFAULT_ALLOW"
    )


def test_agent_roles_any(engine_for, make_rule, request_factory, now):
    engine = engine_for(
        make_rule("R", "t", agent_roles_any=["finance.writer", "admin"]), make_rule("EMPTY", "u", agent_roles_any=[])
    )
    assert engine.evaluate(request_factory("t", roles=("reader", "Finance.Writer")), now=now).codes == ("R",)
    assert engine.evaluate(request_factory("t", roles=("reader",)), now=now).codes == ("DEFAULT_ALLOW",)
    assert engine.evaluate(request_factory("t"), now=now).codes == ("DEFAULT_ALLOW",)
    assert engine.evaluate(request_factory("u"), now=now).codes == ("EMPTY",)  # empty list is ignored


def test_tool_provider(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "t", tool_provider=["mcp", "custom"]))
    assert engine.evaluate(request_factory("t", provider="MCP"), now=now).codes == ("R",)
    assert engine.evaluate(request_factory("t", provider="built-in"), now=now).codes == ("DEFAULT_ALLOW",)
    assert engine.evaluate(request_factory("t"), now=now).codes == ("DEFAULT_ALLOW",)


def test_data_labels_any(engine_for, make_rule, request_factory, now):
    engine = engine_for(
        make_rule("PCI", "send_email", when={"data_labels_any": ["PCI", "PHI"]}),
        make_rule("EMPTY", "other", when={"data_labels_any": []}),
    )
    assert engine.evaluate(request_factory("send_email", data_labels=("internal", "pci")), now=now).codes == ("PCI",)
    assert engine.evaluate(request_factory("send_email", data_labels=("PII",)), now=now).codes == ("DEFAULT_ALLOW",)
    assert engine.evaluate(request_factory("send_email"), now=now).codes == ("DEFAULT_ALLOW",)
    assert engine.evaluate(request_factory("other"), now=now).codes == ("EMPTY",)


def test_contains_any_searches_nested_values_and_user_input(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "t", when={"contains_any": ["export", "SELECT *"]}))

    def code(args=None, user_input=None):
        return engine.evaluate(request_factory("t", args, user_input=user_input), now=now).codes[0]

    assert code({"q": "select   *  from x"}) == "R"  # case and whitespace runs
    assert code({"a": {"b": [{"c": "please EXPORT it"}]}}) == "R"  # any depth
    assert code({"q": "fine"}, user_input="Export all customers") == "R"
    assert code({"export": True}) == "DEFAULT_ALLOW"  # keys are not searched
    assert code({"a": "exp", "b": "ort"}) == "DEFAULT_ALLOW"  # terms never span two values
    assert code({"q": "exported"}) == "R"  # substring semantics, as in the original
    assert code({}) == "DEFAULT_ALLOW"


def test_numbers_and_booleans_are_searched_as_strings(engine_for, make_rule, request_factory, now):
    engine = engine_for(
        make_rule("NUM", "t", when={"contains_any": ["5000"]}),
        make_rule("BOOL", "u", when={"contains_any": ["true"]}),
        make_rule("FLOAT", "v", when={"contains_any": ["1.5"]}),
    )
    assert engine.evaluate(request_factory("t", {"amount": 5000}), now=now).codes == ("NUM",)
    assert engine.evaluate(request_factory("t", {"amount": 5000.0}), now=now).codes == ("NUM",)  # JS String()
    assert engine.evaluate(request_factory("u", {"flag": True}), now=now).codes == ("BOOL",)
    assert engine.evaluate(request_factory("v", {"x": [1.5]}), now=now).codes == ("FLOAT",)


def test_not_contains(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("SAFE", "t", "ALLOW", when={"not_contains": ["drop", "delete"]}), default="DENY")
    assert engine.evaluate(request_factory("t", {"q": "select 1"}), now=now).codes == ("SAFE",)
    assert engine.evaluate(request_factory("t", {"q": "DROP table"}), now=now).codes == ("DEFAULT_DENY",)
    assert engine.evaluate(request_factory("t", {"q": "de\u00adlete"}), now=now).codes == ("DEFAULT_DENY",)
    assert engine.evaluate(request_factory("t"), now=now).codes == ("SAFE",)


def test_all_when_conditions_are_anded(engine_for, make_rule, request_factory, now):
    engine = engine_for(
        make_rule(
            "R",
            "t",
            when={"contains_any": ["wire"], "data_labels_any": ["PCI"], "tool_args_match": {"amount": {"gte": 100}}},
        )
    )
    assert engine.evaluate(
        request_factory("t", {"memo": "wire", "amount": 100}, data_labels=("PCI",)), now=now
    ).codes == ("R",)
    assert engine.evaluate(
        request_factory("t", {"memo": "wire", "amount": 99}, data_labels=("PCI",)), now=now
    ).codes == ("DEFAULT_ALLOW",)
    assert engine.evaluate(request_factory("t", {"memo": "wire", "amount": 100}), now=now).codes == ("DEFAULT_ALLOW",)


def test_matches_regex(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "t", when={"matches_regex": r"^SELECT\s+\*"}))
    assert engine.evaluate(request_factory("t", {"sql": "select   * from users"}), now=now).codes == ("R",)
    assert engine.evaluate(request_factory("t", {"sql": "SELECT id FROM users"}), now=now).codes == ("DEFAULT_ALLOW",)
    # user_input comes first in the joined text, as in the original, but an anchored DENY pattern also
    # matches at the start of each value alone (issue 20: user_input cannot switch the rule off)
    assert engine.evaluate(request_factory("t", {"sql": "SELECT * FROM x"}, user_input="hi"), now=now).codes == ("R",)
    # invisible characters and fullwidth forms are removed/folded before the regex runs
    assert engine.evaluate(request_factory("t", {"sql": "SEL\u200bECT * FROM x"}), now=now).codes == ("R",)
    fullwidth = "\uff33\uff25\uff2c\uff25\uff23\uff34 * FROM x"
    assert engine.evaluate(request_factory("t", {"sql": fullwidth}), now=now).codes == ("R",)


def test_regex_on_empty_text(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("EMPTY", "t", when={"matches_regex": "^$"}))
    assert engine.evaluate(request_factory("t"), now=now).codes == ("EMPTY",)
    assert engine.evaluate(request_factory("t", {"a": "x"}), now=now).codes == ("DEFAULT_ALLOW",)


def test_identity_rules_from_readme(engine_for, request_factory, now):
    engine = engine_for(
        {
            "id": "PRIV",
            "description": "",
            "outcome": "ALLOW",
            "match": {
                "tool_name": "trigger_payment",
                "trust_level_min": "privileged",
                "agent_roles_any": ["finance.writer"],
            },
        },
        default="DENY",
    )
    ok = request_factory("trigger_payment", trust_level="privileged", roles=("finance.writer",))
    assert engine.evaluate(ok, now=now).codes == ("PRIV",)
    low = request_factory("trigger_payment", trust_level="verified", roles=("finance.writer",))
    assert engine.evaluate(low, now=now).codes == ("DEFAULT_DENY",)
