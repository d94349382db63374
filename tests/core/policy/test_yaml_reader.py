"""The YAML reader: libyaml and the pure-Python parser give the same JSON-like data and the same refusals."""

from __future__ import annotations

import json
import platform
import re
import sys
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core.errors import PolicyLoadError
from agent_security.core.policy.yaml_reader import LIBYAML, MAX_DEPTH, read_yaml

PARSERS = [pytest.param(False, id="pure")]
if LIBYAML:
    PARSERS.insert(0, pytest.param(True, id="libyaml"))


def _both(text: str, **options: Any) -> Any:
    """The value read by every available parser, which must agree (type for type)."""
    values = [read_yaml(text, libyaml=c, **options) for c in ([True, False] if LIBYAML else [False])]
    dumped = {json.dumps(v, sort_keys=True) for v in values}
    assert len(dumped) == 1, values
    return values[0]


def _refused(text: str, match: str, **options: Any) -> list[str]:
    messages = []
    for c in [True, False] if LIBYAML else [False]:
        with pytest.raises(PolicyLoadError, match=match) as info:
            read_yaml(text, libyaml=c, **options)
        messages.append(str(info.value))
    return messages


@pytest.mark.skipif(
    not (
        sys.platform == "linux" and platform.machine() in ("x86_64", "aarch64") and sys.implementation.name == "cpython"
    ),
    reason="PyYAML's wheels ship libyaml for these platforms",
)
def test_libyaml_is_used_where_the_wheels_ship_it():
    assert yaml.__with_libyaml__ and LIBYAML


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("", None),
        ("~", None),
        ("null", None),
        ("NULL", None),
        ("true", True),
        ("False", False),
        ("yes", "yes"),
        ("NO", "NO"),
        ("on", "on"),
        ("0022", "0022"),
        ("23:30", "23:30"),
        ("1_000", "1_000"),
        ("0b11", "0b11"),
        ("0o17", 15),
        ("0x1F", 31),
        ("-5", -5),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("-.5", -0.5),
        ("2026-01-01", "2026-01-01"),
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("'0022'", "0022"),
        ('"true"', "true"),
        ("!!str 12", "12"),
        ("! 12", "12"),
        ("!!int 12", 12),
        ("!!float 1", 1.0),
        ("!!bool true", True),
        ("!!null ~", None),
        ("= x", "= x"),
    ],
)
def test_scalars_are_yaml_1_2_core_schema(literal, value):
    loaded = _both(f"v: {literal}\n")["v"]
    assert loaded == value and type(loaded) is type(value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a: !!binary aGVsbG8=\n", "!!binary makes a value that is not JSON"),
        ("a: !!python/object/apply:os.system [echo hi]\n", "not JSON"),
        ("a: !!python/name:os.system ''\n", "not JSON"),
        ("a: !!set {x, y}\n", "!!set makes a value that is not JSON"),
        ("a: !!omap [x: 1]\n", "!!omap"),
        ("a: !!timestamp 2026-01-01\n", "!!timestamp"),
        ("a: !local x\n", "!local"),
        ("a: !!bool yes\n", "'yes' is not a valid !!bool value"),
        ("a: !!int 0022\n", "not a YAML 1.2 integer"),
        ("a: .inf\n", "non-finite"),
        ("a: !!float .nan\n", "non-finite"),
        ("a: " + "9" * 5000 + "\n", "too long"),
        ("a: 1\na: 2\n", r"duplicate key 'a' \(line 2, column 1\)"),
        ("a: {b: 1, b: 1}\n", "duplicate key 'b'"),
        ("1: x\n", "keys must be strings, got int"),
        ("true: x\n", "keys must be strings, got bool"),
        ("? [a]\n: x\n", "keys must be strings, got a collection"),
        ("x: &a [1, 2]\ny: *a\n", "aliases are not allowed"),
        ("base: &b {k: 1}\nm:\n  <<: *b\n", "aliases are not allowed"),
        ("a: 1\n---\nb: 2\n", "more than one document"),
        ("a: [1, 2\n", "YAML parse error"),
        ("a: \x07\n", "YAML parse error"),
    ],
)
def test_refusals(text, match):
    _refused(text, match)


def test_merge_key_is_a_plain_key():
    assert _both("m:\n  <<: {k: 1}\n") == {"m": {"<<": {"k": 1}}}


def test_empty_documents_are_none():
    assert _both("") is None
    assert _both("# only a comment\n") is None
    assert _both("---\n") is None


def test_depth_and_value_limits():
    ok = "a:\n" + "".join("  " * i + "  b:\n" for i in range(MAX_DEPTH - 2)) + "  " * (MAX_DEPTH - 1) + "c: 1\n"
    assert _both(ok)
    deep = "a:\n" + "".join("  " * i + "  b:\n" for i in range(MAX_DEPTH - 1)) + "  " * MAX_DEPTH + "c: 1\n"
    _refused(deep, f"exceeds maximum object depth of {MAX_DEPTH}")
    _refused("[" * 10_000 + "]" * 10_000, "depth")
    assert _both("[1, 2, 3]", max_nodes=4) == [1, 2, 3]
    _refused("[1, 2, 3, 4]", "more than 4 values", max_nodes=4)


def test_errors_name_the_document():
    (message, *_) = _refused("a: 1\na: 2\n", "config file YAML parse error", what="config file")
    assert message.startswith("config file YAML parse error: duplicate key 'a'")


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), max_size=8), inner, max_size=4
        )
    ),
    max_leaves=20,
)


class _Dumper(yaml.SafeDumper):
    """PyYAML's dumper quotes by YAML 1.1 rules, which leave ``0o17`` and ``0E0`` plain (YAML 1.2 numbers):
    quote every string that looks remotely like a number."""


_NUMBERISH = re.compile(r"[-+]?\.?[0-9][0-9a-zA-Z.+-]*|[-+]?\.[a-zA-Z]+")
_Dumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="'" if _NUMBERISH.fullmatch(text) else None
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8, alphabet="abcdefgh_"), JSON, max_size=5), st.booleans())
def test_yaml_dumps_of_json_data_read_back_equal(value, flow):
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=flow, allow_unicode=True)
    assert json.dumps(_both(text), sort_keys=True) == json.dumps(value, sort_keys=True)
    as_json = json.dumps(value, ensure_ascii=False)  # PyYAML reads no surrogate-pair escapes (\ud800\udc00)
    assert json.dumps(_both(as_json), sort_keys=True) == json.dumps(value, sort_keys=True)
