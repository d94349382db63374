"""The fast canonical JSON writer is byte-for-byte RFC 8785 (checked against the reference)."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core import jcs

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**60), max_value=2**60),
                    st.floats(allow_nan=False, allow_infinity=False), st.text())
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(st.text(max_size=8), children, max_size=5)), max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(values)
def test_same_bytes_as_the_reference(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except Exception as exc:  # the reference refuses it: so must we
        try:
            jcs.dumps(value)
        except Exception as ours:
            assert type(ours) is type(exc)
            return
        raise AssertionError(f"jcs accepted a value rfc8785 refuses: {value!r}") from None
    assert jcs.dumps(value) == expected


def test_control_characters_and_unicode() -> None:
    value = {"b": "\u0001\u001f\b\f\n\r\t\"\\\u2028é😀", "a": [1, True, None], "é": 1, "\U0001f600": 2}
    assert jcs.dumps(value) == rfc8785.dumps(value)
