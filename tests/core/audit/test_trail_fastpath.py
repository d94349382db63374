"""The trail's field-by-field hash equals the reference canonical form, whatever ``data`` holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core.audit import AuditTrail, event_hash
from agent_security.core.models import AuditEvent, Outcome, Reason

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**50), max_value=2**50), st.text(max_size=10),
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda c: st.one_of(st.lists(c, max_size=3), st.tuples(c, c), st.dictionaries(st.text(max_size=5), c, max_size=3)),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(data=st.dictionaries(st.text(max_size=6), json_values, max_size=4), text=st.text(max_size=20),
       outcome=st.sampled_from([None, *Outcome]))
def test_trail_hash_matches_reference(data: dict, text: str, outcome: Outcome | None) -> None:  # type: ignore[type-arg]
    out: list[AuditEvent] = []
    trail = AuditTrail(out.append)
    ts = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    event = AuditEvent(timestamp=ts, agent_id=text, outcome=outcome, data=data,
                       reasons=(Reason(code=text, message=text),))
    chained = trail.record(event)
    assert chained.hash == event_hash(chained)
    assert chained.timestamp == ts.astimezone(UTC)


class _Text(str):
    pass


class _Number(int):
    pass


# Flat data as the pipeline writes it, and what must not be confused with it: every key or value that a
# kept result could be mistaken for (1 and 1.0 for True, 0 for False, a str subclass for its str, ...).
_hostile_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=6) | st.sampled_from(
    ["", '"', "\\", "\x00\x1f\n", "\x7f", "\u2028", "é", "\U0001f600", "\ud800", "a\udfffb", "true", "null"])
_flat_values = st.one_of(
    st.none(), st.booleans(), st.sampled_from([0, 1, 1.0, 0.0, -0.0, 2**60]), _hostile_text,
    _hostile_text.map(_Text), st.sampled_from([_Number(1), _Number(0)]), st.lists(st.booleans(), max_size=2),
    st.dictionaries(st.sampled_from(["b", "a"]), st.booleans(), max_size=2))
_flat_keys = st.sampled_from(["phase", "action_type", "session_id", "would_block", "a", "b"]) | _hostile_text
_flat_data = st.dictionaries(_flat_keys | _flat_keys.map(_Text), _flat_values, max_size=4)


def _reference_json(data: object) -> tuple[object, str] | type[Exception]:
    from agent_security.core import jcs

    try:
        prepared = jcs.prepare(data)
        return prepared, jcs.write(prepared).decode()
    except Exception as exc:
        return type(exc)


def _shape(value: object) -> object:
    """``value`` with the exact type of every member and the order of every dict's keys."""
    if isinstance(value, dict):
        return ("dict", [(type(k), k, _shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_shape(v) for v in value])
    return (type(value), value)


@settings(max_examples=400, deadline=None)
@given(st.lists(_flat_data, min_size=1, max_size=6))
def test_kept_data_json_is_the_prepared_form(datas: list[dict[str, object]]) -> None:
    """``_data_json`` (kept per flat data) returns exactly ``jcs.prepare`` and its text for any sequence of
    data, the same data twice or data that differs only in a type (True / 1 / 1.0, a str subclass), and
    raises what the reference raises; the dict it returns is the caller's own."""
    from agent_security.core.audit import trail

    def twins(data: dict[str, object]) -> list[dict[str, object]]:
        """``data`` member by member equal, with other types: str subclasses for its str values, 1 and 0
        for True and False, str subclasses for its keys."""
        swap: dict[object, object] = {True: 1, False: 0}
        values = {k: _Text(v) if type(v) is str else swap[v] if type(v) is bool else v for k, v in data.items()}
        keys = {_Text(k) if type(k) is str else k: v for k, v in data.items()}
        return [values, keys]

    trail._DATA_MEMO.clear()
    for data in [*datas, *datas, *[t for d in datas for t in twins(d)], *reversed(datas)]:
        expected = _reference_json(data)
        if isinstance(expected, type):
            try:
                trail._data_json(data)
            except Exception as exc:
                assert type(exc) is expected
            else:
                raise AssertionError(f"{data!r}: the reference raises {expected.__name__}")
            continue
        got = trail._data_json(data)
        assert _shape(got[0]) == _shape(expected[0]) and got[1] == expected[1]
        got[0]["mutated"] = True  # the caller's copy: the next result is unaffected
    assert len(trail._DATA_MEMO) <= trail._DATA_MEMO_SIZE


def test_kept_data_json_tells_true_from_one_and_str_from_subclass() -> None:
    from agent_security.core.audit import trail

    trail._DATA_MEMO.clear()
    assert trail._data_json({"a": True}) == ({"a": True}, '{"a":true}')
    assert trail._data_json({"a": 1}) == ({"a": 1}, '{"a":1}')  # 1 == True, but not kept: not confused
    assert trail._data_json({"a": True, "b": None})[1] == '{"a":true,"b":null}'
    assert trail._data_json({"b": None, "a": True})[1] == '{"a":true,"b":null}'
    assert trail._data_json({"a": False})[1] == '{"a":false}' and trail._data_json({"a": 0})[1] == '{"a":0}'
    kept = trail._data_json({"z": "x", "k": "v"})
    sub = trail._data_json({"z": _Text("x"), "k": "v"})
    assert sub == kept and type(sub[0]["z"]) is _Text and list(sub[0]) == ["k", "z"]
    assert trail._data_json({"long": "x" * (trail._DATA_MEMO_CHARS + 1)})[1].startswith('{"long":"xx')
    assert len(trail._DATA_MEMO) == 5  # {"a": True}, {"a": True, "b": None}, its reverse, False, z/k
