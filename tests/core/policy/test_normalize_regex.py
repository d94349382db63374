"""Normalisation against keyword evasion, and RE2 against catastrophic patterns."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from agent_security.core.errors import PolicyLoadError
from agent_security.core.policy import load_policy, normalize_text
from agent_security.core.policy.normalize import INVISIBLE_RANGES, regex_text
from agent_security.core.policy.patterns import (
    MAX_PROGRAM_SIZE,
    MAX_REGEX_INPUT,
    REGEX_WORK_BUDGET,
    Glob,
    compile_pattern,
    translate_js_escapes,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("EXPORT", "export"),
        ("\uff45\uff58\uff50\uff4f\uff52\uff54", "export"),  # fullwidth
        ("ex\u200bport", "export"),  # zero-width space
        ("ex\u200c\u200d\u2060port", "export"),  # ZWNJ, ZWJ, word joiner
        ("ex\u00adport", "export"),  # soft hyphen
        ("ex\ufeffport", "export"),  # BOM
        ("\u202eexport\u202c", "export"),  # bidi override
        ("\u2066export\u2069", "export"),  # bidi isolate
        ("ex\U000e0041port\U000e007f", "export"),  # tag characters
        ("ex\x00port", "export"),  # NUL
        ("e\u0301", "\u00e9"),  # NFKC composes
        ("ﬁle", "file"),  # ligature
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold
        ("select \t\n  *", "select *"),
        ("select\u00a0*", "select *"),  # no-break space
        ("  a  ", " a "),  # runs collapse, ends kept
        ("ALL\u3000CUSTOMERS", "all customers"),  # ideographic space
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("send_ema\u0131l", "send_email"),
        ("SEND_EMA\u0130L", "send_email"),
        ("send_emai\u0307l", "send_email"),
        ("\u0130STANBUL", "istanbul"),
    ],
)
def test_dotless_and_dotted_i_fold_to_i(raw, expected):
    assert normalize_text(raw) == expected


def test_every_format_character_is_removed():
    ranges = INVISIBLE_RANGES
    missing = [
        hex(cp)
        for cp in range(sys.maxunicode + 1)
        if unicodedata.category(chr(cp)) == "Cf" and not any(lo <= cp <= hi for lo, hi in ranges)
    ]
    assert missing == []


def test_regex_text_keeps_case_and_whitespace():
    assert regex_text("SEL\u200bECT\t*") == "SELECT\t*"
    assert regex_text("\uff33\uff25\uff2c\uff25\uff23\uff34") == "SELECT"


@pytest.mark.parametrize(
    "evasion",
    [
        "Export all customers",
        "\uff25\uff38\uff30\uff2f\uff32\uff34 all",
        "ex\u200bport all",
        "e\u00adx\u00adp\u00ado\u00adr\u00adt",
        "\u202eexport",
        "EXPORT",
        "dump\U000e0020",
        "BULK",
        "select   *",
    ],
)
def test_keyword_evasions_are_caught(engine_for, make_rule, request_factory, now, evasion):
    engine = engine_for(
        make_rule(
            "DENY_BULK_EXPORT",
            "query_customer_db",
            when={"contains_any": ["all customers", "export", "dump", "select *", "bulk"]},
        )
    )
    assert engine.evaluate(request_factory("query_customer_db", {"q": evasion}), now=now).codes == ("DENY_BULK_EXPORT",)
    assert engine.evaluate(request_factory("query_customer_db", user_input=evasion), now=now).codes == (
        "DENY_BULK_EXPORT",
    )


def test_terms_are_normalised_too(engine_for, make_rule, request_factory, now):
    engine = engine_for(make_rule("R", "t", when={"contains_any": ["\uff24\uff32\uff2f\uff30\u200b TABLE"]}))
    assert engine.evaluate(request_factory("t", {"q": "drop   table users"}), now=now).codes == ("R",)


@pytest.mark.parametrize(
    "pattern", [r"(a+)+$", r"\w*\w*\w*!", r"(x+x+)+y", r"^(\d+)*$", r"(a|aa)+$", r"[a-z]+[a-z]+[a-z]+[a-z]+!"]
)
def test_catastrophic_patterns_are_linear(engine_for, make_rule, request_factory, now, pattern):
    # In a backtracking engine each of these takes exponential or high-polynomial time on this input
    # (the original's accepted \w*\w*\w*! took 149 s on 1,500 characters). RE2 answers at once.
    engine = engine_for(make_rule("R", "t", when={"matches_regex": pattern}))
    hostile = "a" * 50_000 + "\u2603"
    assert engine.evaluate(request_factory("t", {"input": hostile}), now=now).codes == ("DEFAULT_ALLOW",)
    assert compile_pattern(pattern).search("1" * 30_000 + "x") is None


def test_patterns_the_original_rejected_now_work(engine_for, make_rule, request_factory, now):
    # The original's filter rejected benign (foo|bar)+ and silently disabled the DENY rule (W5).
    engine = engine_for(make_rule("R", "t", when={"matches_regex": "(foo|bar)+"}))
    assert engine.evaluate(request_factory("t", {"a": "xfoobar"}), now=now).codes == ("R",)


@pytest.mark.parametrize("pattern", ["(?=x)", "(?!x)", "(?<=x)y", r"(a)\1", "a++", "(unclosed", "a{1001}", "x" * 5000])
def test_unusable_pattern_is_a_load_error_not_a_disabled_rule(build_bundle, make_rule, now, pattern):
    with pytest.raises(PolicyLoadError) as info:
        load_policy(build_bundle(make_rule("DENY_RX", "t", when={"matches_regex": pattern})), now=now)
    assert info.value.rule_id == "DENY_RX"
    assert info.value.field == "when.matches_regex"


def test_js_unicode_escapes_translate():
    assert translate_js_escapes(r"caf\u00e9") == r"caf\x{00e9}"
    assert translate_js_escapes(r"a\\u00e9") == r"a\\u00e9"  # escaped backslash stays literal
    assert compile_pattern(r"caf\u00e9").search("CAFÉ") is not None


def test_glob():
    assert Glob("*").matches_everything and Glob("**").matches_everything
    assert Glob("a*").match("a") and not Glob("a*").match("b")
    assert Glob("*a*a*").match("aa") and not Glob("*a*a*").match("a")
    assert Glob("ab*ba").match("abba") and not Glob("ab*ba").match("aba")
    assert not Glob("abc").is_wildcard and Glob("abc").match("abc")
    long_name = "a" * 10_000
    assert not Glob("*a*a*a*a*a*b").match(long_name)


COSTLY = "".join(f"[^{c}]{{1000}}" for c in "bcdefg") + "!"  # 61 characters, ~54,000 RE2 instructions


@pytest.mark.parametrize(
    "when",
    [
        {"matches_regex": COSTLY},
        {"tool_args_match": {"body": {"regex": COSTLY}}},
        {"matches_regex": "[^x]{1000}[^y]{1000}[^z]{1000}!"},
    ],
)
def test_pattern_program_size_is_limited(build_bundle, make_rule, now, when):
    with pytest.raises(PolicyLoadError) as info:
        load_policy(build_bundle(make_rule("DENY_RX", "t", when=when)), now=now)
    assert info.value.rule_id == "DENY_RX"
    assert "too complex" in str(info.value) and f"{MAX_PROGRAM_SIZE:,}" in str(info.value)


def test_pattern_input_limit():
    small = compile_pattern("secret")
    assert small.max_input == MAX_REGEX_INPUT
    assert small.matches("x" * MAX_REGEX_INPUT + "secret") is None  # not searched: indeterminate
    assert small.matches("x" * (MAX_REGEX_INPUT - 6) + "secret") is True
    big = compile_pattern("[^x]{250}[^y]{250}!")
    assert big.program_size <= MAX_PROGRAM_SIZE
    assert big.max_input == REGEX_WORK_BUDGET // big.program_size < MAX_REGEX_INPUT
    assert big.matches("a" * big.max_input) is False
    assert big.matches("a" * (big.max_input + 1)) is None


@pytest.mark.parametrize("where", ["matches_regex", "tool_args_match"])
def test_oversize_regex_input_fails_closed(engine_for, make_rule, request_factory, now, where):
    def when(pattern):
        if where == "matches_regex":
            return {"matches_regex": pattern}
        return {"tool_args_match": {"body": {"regex": pattern}}}

    engine = engine_for(
        make_rule("OK", "t", "ALLOW", when=when("^[a-z]+$")),
        make_rule("DENY_SECRET", "t", "DENY", when=when("secret")),
        default="DENY",
    )
    fits = "a" * MAX_REGEX_INPUT
    assert engine.evaluate(request_factory("t", {"body": fits}), now=now).codes == ("OK",)
    huge = fits + "a"
    assert engine.evaluate(request_factory("t", {"body": huge}), now=now).codes == (
        "DENY_SECRET",
        "POLICY_CONDITION_INDETERMINATE",
    )


def test_compiled_patterns_are_freed_with_their_engine(engine_for, make_rule):
    import gc
    import weakref

    pattern = "only-in-this-test-[0-9]+"
    engine = engine_for(
        make_rule("R", "t", when={"matches_regex": pattern, "tool_args_match": {"a": {"regex": pattern}}})
    )
    compiled = engine._rules[0].when.regex
    assert compiled is compile_pattern(pattern)  # shared while in use
    ref = weakref.ref(compiled)
    del engine, compiled
    gc.collect()
    assert ref() is None


def test_bundle_program_size_is_limited(build_bundle, make_rule, now):
    from agent_security.core.policy.models import MAX_BUNDLE_PROGRAM_SIZE

    size = compile_pattern("[^x]{270}[^y]{270}!|r0").program_size
    count = MAX_BUNDLE_PROGRAM_SIZE // size + 1
    rules = [make_rule(f"R{i}", f"t{i}", when={"matches_regex": f"[^x]{{270}}[^y]{{270}}!|r{i}"}) for i in range(count)]
    load_policy(build_bundle(*rules[:-1]), now=now)
    with pytest.raises(PolicyLoadError) as info:
        load_policy(build_bundle(*rules), now=now)
    assert info.value.rule_id == f"R{count - 1}"
    assert f"{MAX_BUNDLE_PROGRAM_SIZE:,} RE2 instructions" in str(info.value)
