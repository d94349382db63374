"""The trail's canonical writer, part of the core's speed code (:mod:`agent_security.core._speedups`).

The reference canonical form is :func:`agent_security.core.audit.chain.canonical_dict` written by RFC 8785
(``model_dump`` then a key-sorted dump: several times the cost of the rest of recording an event). This
module writes the same bytes member by member, with one encoder per field chosen from the field's type
annotation when the model is first seen (so a field added to the model is written with no edit here), and
splits them around the chained members (``prev_hash``, ``sequence``) so that the trail can prepare an
event's bytes before it takes its lock and, under the lock, only join in the link and hash.

Whatever an encoder does not take exactly (a float or a non-ASCII key in ``data``, an integer outside
±2**53, a value of an unexpected type, a lone surrogate, a model with custom serialisers) raises, and the
event goes through the reference form instead. A property test holds :func:`prepare`'s bytes equal to
``rfc8785.dumps(canonical_dict(event))``.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, TypeAdapter

from agent_security.core import jcs
from agent_security.core.audit.chain import (
    CHAINED_FIELDS,
    canonical_dict,
    format_timestamp,
    layout,
    normalised,
    utc,
)
from agent_security.core.models import AuditEvent

__all__ = ["Prepared", "chained_bytes", "prepare", "prepare_reference"]

_SAFE_INT = 2**53 - 1
_encode_string = jcs.encode_string


class Prepared(NamedTuple):
    """An event's canonical bytes without its link: ``pieces[0] + prev_hash + pieces[1] + sequence +
    pieces[2]`` (:func:`chained_bytes`), and ``update``, the normalised values its chained copy carries
    (UTC timestamp, ``data`` in its JSON form)."""

    pieces: tuple[bytes, ...]
    update: dict[str, Any]


def chained_bytes(prepared: Prepared, prev_hash: str, sequence: int) -> bytes:
    """The canonical bytes of the prepared event linked as ``sequence`` after ``prev_hash``."""
    if type(sequence) is not int or not 0 <= sequence <= _SAFE_INT:
        raise ValueError(f"sequence {sequence!r} cannot be written canonically")
    head, middle, tail = prepared.pieces
    return b"".join((head, _encode_string(prev_hash).encode(), middle, str(sequence).encode(), tail))


# -- the writer, generated from the model's fields ----------------------------------------------------
#
# Each field's value is written by one expression chosen from its type annotation (``{v}`` stands for the
# value); the expressions of one model are joined into one generated function, so that writing an event
# costs one Python call instead of one per field. Every expression raises when the value is not exactly
# what it expects (``_bad()``), and the event then takes the reference form.


class _Unwritable(Exception):
    """The value needs the reference form."""


def _bad() -> str:
    raise _Unwritable


_second: tuple[datetime, datetime, str] | None = None
"""The second of the last UTC timestamp written: its first instant, the next second's, and its text."""
_DIGITS3 = tuple(f"{n:03d}" for n in range(1000))
_SECOND = timedelta(seconds=1)


def _timestamp(ts: Any) -> str:
    """:func:`format_timestamp` between quotes. Events come many per second: the text up to the seconds
    is formatted once per second."""
    global _second
    if ts.tzinfo is not UTC or type(ts) is not datetime:
        return f'"{format_timestamp(ts)}"'  # AttributeError for what is no datetime
    cached = _second  # one tuple, read and replaced atomically: thread-safe
    if cached is not None and cached[0] <= ts < cached[1]:
        prefix = cached[2]
    else:
        start = ts.replace(microsecond=0)
        prefix = start.isoformat()[:-6]  # drop "+00:00"
        try:
            _second = (start, start + _SECOND, prefix)
        except OverflowError:  # the last second of year 9999
            pass
    micro = ts.microsecond
    return f'"{prefix}.{_DIGITS3[micro // 1000]}{_DIGITS3[micro % 1000]}Z"'


class _Namespace:
    """The helpers a generated writer calls, each under a name of its own."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {
            "_enc": _encode_string,
            "_bad": _bad,
            "_SAFE": _SAFE_INT,
            "_timestamp": _timestamp,
            "_json": jcs.write,
            "_prepare": jcs.prepare,
            "_datetime": datetime,
        }

    def add(self, value: Any) -> str:
        name = f"_h{len(self.values)}"
        self.values[name] = value
        return name


def _expression(annotation: Any, ns: _Namespace) -> str:
    """The expression that writes a value of type ``annotation`` (``{v}`` is the value)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(rest) < len(args):
            return f'("null" if {{v}} is None else {_expression(rest[0], ns)})'
        return _adapter(annotation, ns)
    if annotation is str or (origin is Literal and all(type(a) is str for a in args)):
        return "_enc({v})"  # TypeError for anything but a str
    if annotation is bool:
        return '("true" if {v} is True else "false" if {v} is False else _bad())'
    if annotation is int:
        return "(str({v}) if type({v}) is int and -_SAFE <= {v} <= _SAFE else _bad())"
    if annotation is datetime:
        return "_timestamp({v})"
    if annotation is Any:
        return "_json(_prepare({v})).decode()"
    if (
        isinstance(annotation, type)
        and issubclass(annotation, enum.Enum)
        and all(type(m.value) is str for m in annotation)
    ):
        # a member of a str-based enumeration is its value's text already
        value = "{v}" if issubclass(annotation, str) else "{v}.value"
        return f"(_enc({value}) if type({{v}}) is {ns.add(annotation)} else _bad())"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"{ns.add(_model(annotation))}({{v}})"
    if (origin is tuple and len(args) == 2 and args[1] is Ellipsis) or (origin is list and len(args) == 1):
        item = _expression(args[0], ns).replace("{v}", "_x")
        container = "tuple" if origin is tuple else "list"
        return f'("[" + ",".join([{item} for _x in {{v}}]) + "]" if type({{v}}) is {container} else _bad())'
    if origin is not None and any(a is Any for a in args):  # Mapping[str, Any], dict[str, Any]
        return "_json(_prepare({v})).decode()"
    return _adapter(annotation, ns)


def _adapter(annotation: Any, ns: _Namespace) -> str:
    """Any other type: pydantic's JSON form of the value, then RFC 8785 (the reference for that field)."""
    return f"{ns.add(_adapter_writer(annotation))}({{v}})"


def _custom_serialisation(model: type[BaseModel]) -> bool:
    decorators = model.__pydantic_decorators__
    return bool(decorators.field_serializers or decorators.model_serializers or model.model_computed_fields)


def _members(
    model: type[BaseModel],
    names: Iterable[str],
    ns: _Namespace,
    source: str,
    prepared: Iterable[str] = (),
    normalised: Iterable[str] = (),
) -> str:
    """``"name":value,...`` of ``names`` as f-string text, each value written from ``source[name]``, or
    from ``u[name]`` for the ``normalised`` ones; the ``prepared`` fields (among them) hold free-form JSON
    already through :func:`jcs.prepare`."""
    fields = model.model_fields
    parts = []
    for name in names:
        value = f'{"u" if name in normalised else source}["{name}"]'
        expression = "_json({v}).decode()" if name in prepared else _expression(fields[name].annotation, ns)
        parts.append(
            _encode_string(name).replace("{", "{{").replace("}", "}}") + ":{" + expression.replace("{v}", value) + "}"
        )
    return ",".join(parts)


def _compile(name: str, source: str, ns: _Namespace) -> Callable[..., Any]:
    namespace = dict(ns.values)
    exec(compile(source, f"<audit canonical writer {name}>", "exec"), namespace)  # noqa: S102 - our own text
    return typing.cast(Callable[..., Any], namespace[name])


@functools.cache
def _model(model: type[BaseModel]) -> Callable[[Any], str]:
    """The writer of a nested model (``Reason``): its fields as an object, members in canonical order."""
    if _custom_serialisation(model):
        return _adapter_writer(model)
    ns = _Namespace()
    names = sorted(n for n, f in model.model_fields.items() if not f.exclude)
    ns.values["_model"] = model
    source = (
        f"def write(m):\n"
        f"    if type(m) is not _model:\n        _bad()\n"
        f"    d = m.__dict__\n"
        f"    return f'{{{{{_members(model, names, ns, 'd')}}}}}'\n"
    )
    return _compile("write", source, ns)


def _adapter_writer(annotation: Any) -> Callable[[Any], str]:
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    return lambda value: jcs.dumps(adapter.dump_python(value, mode="json")).decode()


Writer = Callable[[Mapping[str, Any]], Prepared]


@functools.cache
def _writer(model: type[AuditEvent]) -> Writer | None:
    """The writer of ``model``: from an event's values (``event.__dict__``), its :class:`Prepared` form;
    ``None`` when the model serialises itself (the reference form is used). The generated function
    normalises the datetime and free-form JSON fields (``u``), then writes every member."""
    if _custom_serialisation(model):
        return None
    ns = _Namespace()
    ns.values.update(_utc=utc, _Prepared=Prepared)
    lay = layout(model)
    runs: list[list[str]] = [[]]
    for name in lay.members:
        if name in CHAINED_FIELDS:
            runs.append([])
        else:
            runs[-1].append(name)
    normalised = (*lay.datetimes, *lay.open_json)
    texts = [_members(model, run, ns, "d", lay.open_json, normalised) for run in runs]
    pieces = _piece_texts(texts, ("{{", "}}"))
    update = ", ".join(
        [
            *(f'"{n}": (None if d["{n}"] is None else _utc(d["{n}"]))' for n in lay.datetimes),
            *(f'"{n}": _prepare(d["{n}"])' for n in lay.open_json),
        ]
    )
    written = ", ".join(f"f'{p}'.encode()" for p in pieces)
    source = f"def write(d):\n    u = {{{update}}}\n    return _Prepared(({written},), u)\n"
    return _compile("write", source, ns)


def _piece_texts(runs: list[str], braces: tuple[str, str] = ("{", "}")) -> list[str]:
    """The canonical text around the chained members: ``runs[i]`` is the run of members before the i-th
    chained member (the last one: after the last); ``braces`` open and close the object (doubled for
    f-string text)."""
    out = [braces[0] + runs[0]]
    for i, name in enumerate(CHAINED_FIELDS):
        out[-1] += ("," if runs[i] else "") + f'"{name}":'
        out.append("," + runs[i + 1] if runs[i + 1] else "")
    out[-1] += braces[1]
    return out


def prepare(event: AuditEvent) -> Prepared:
    """The canonical pieces of ``event`` and the normalised values of its chained copy. Raises when the
    event cannot be written canonically at all (as the reference does: RFC 8785 refuses it)."""
    writer = _writer(type(event))
    if writer is not None:
        try:
            return _prepare_fast(event, writer)
        except Exception:  # anything the generated writer does not take exactly
            return prepare_reference(event)
    return prepare_reference(event)


def _prepare_fast(event: AuditEvent, write: Writer) -> Prepared:
    """``write`` raises for anything it does not take exactly (:class:`jcs.NotFast` for a float or a
    non-ASCII key in ``data``; :class:`UnicodeEncodeError` for a lone surrogate: strict UTF-8)."""
    return write(event.__dict__)


def prepare_reference(event: AuditEvent) -> Prepared:
    """:func:`prepare` through the reference form (``canonical_dict``, each member by RFC 8785)."""
    members = canonical_dict(event)
    runs: list[list[str]] = [[]]
    for name in layout(type(event)).members:
        if name in CHAINED_FIELDS:
            runs.append([])
        else:
            runs[-1].append(_encode_string(name) + ":" + jcs.dumps(members[name]).decode())
    texts = _piece_texts([",".join(run) for run in runs])
    return Prepared(tuple(text.encode() for text in texts), normalised(event, members))
