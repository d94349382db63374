"""Speed code, kept in one place: nothing else in the project trades clarity for time. Its benchmark is
``benchmarks/bench_pipeline.py`` (the whole check, where these pieces matter), and tests hold each function
equal to its reference (``tests/core/test_speedups.py``, ``tests/core/audit/test_canonical_writer.py``).

* :mod:`.audit_writer` writes an audit event's canonical bytes with a writer generated from the event
  model's fields (the reference form is :func:`agent_security.core.audit.chain.canonical_dict`).

* :mod:`.freeze` copies plain JSON data (tool arguments, plugin annotations) within the bounds of
  :func:`agent_security.core.arguments.freeze_json`, whose general walk is the reference.
* :func:`remember` is the bounded memo every cache of the core uses.
* :func:`assemble` builds one of the core's frozen records from values its builder knows to have their
  fields' types (from validated models, or checked by the builder), without a second validation;
  :func:`evolve` is ``model_copy(update=...)`` without pydantic's generic copy. Both read the model's
  fields from ``model_fields``: a field added to a model needs no edit here.
* :func:`canonical_json_bytes` writes the canonical JSON of a request body (the bytes an approval is
  bound to, see :func:`agent_security.core.resolution.request_hash`) with pydantic-core's serializer
  when that gives the same bytes as the reference ``json.dumps(..., sort_keys=True)``: the usual body (flat
  arguments of plain values), about a third of the reference's time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

import pydantic_core
from pydantic import BaseModel

__all__ = ["assemble", "canonical_json_bytes", "evolve", "remember"]


def remember(cache: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """``cache[key] = value`` in a memo bounded to ``limit`` entries: a full memo is emptied first (the
    memos serve values that come back on nearly every check, so the bound matters, not which entries
    survive it). One dict operation each: safe from any thread."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value


_INT_BOUND = 2**63


def _plain_flat(args: Any) -> bool:
    """Whether pydantic-core writes ``args`` exactly as ``json.dumps(sort_keys=True)`` would once its keys
    are sorted: a dict of ASCII ``str`` keys and ``str``, ``bool``, ``None`` or 64-bit ``int`` values
    (floats, whose shortest forms differ between the two writers, and nested values are not)."""
    if type(args) is not dict:
        return False
    for key, value in args.items():
        if type(key) is not str or not key.isascii():
            return False
        kind = type(value)
        if not (kind is str or value is None or kind is bool or (kind is int and -_INT_BOUND < value < _INT_BOUND)):
            return False
    return True


def reference_json_bytes(body: dict[str, Any]) -> bytes:
    """The canonical JSON bytes by definition: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def canonical_json_bytes(body: dict[str, Any], nested: str) -> bytes:
    """:func:`reference_json_bytes` of ``body``, whose keys are ASCII and already sorted and whose values
    are ``str`` or ``None`` except ``body[nested]`` (the tool arguments)."""
    inner = body[nested]
    if _plain_flat(inner):
        for key, value in body.items():
            if key != nested and value is not None and type(value) is not str:
                return reference_json_bytes(body)
        ordered = body.copy()
        ordered[nested] = {name: inner[name] for name in sorted(inner)}
        try:
            return pydantic_core.to_json(ordered)
        except pydantic_core.PydanticSerializationError:  # a lone surrogate: the reference decides
            pass
    return reference_json_bytes(body)


# --------------------------------------------------------------------------------------------------
# Records whose values are known to have their fields' types
# --------------------------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)
_new = object.__new__
_slots = BaseModel.__dict__  # every model's instance state: its ``__dict__`` and pydantic's three slots
_set_dict = _slots["__dict__"].__set__
_set_fields_set = _slots["__pydantic_fields_set__"].__set__
_set_extra = _slots["__pydantic_extra__"].__set__
_set_private = _slots["__pydantic_private__"].__set__


def _unchangeable(self: Any, *args: Any, **kwargs: Any) -> Any:
    raise TypeError("this set of fields is shared by many records and cannot be changed")


class FieldsSet(set[str]):
    """The ``model_fields_set`` every assembled record of a model shares: the core's records are frozen,
    so pydantic never changes it in place (``model_copy`` copies it first, and a copy is a plain ``set``);
    anything that would change it raises instead."""

    __slots__ = ()

    add = discard = remove = pop = clear = update = _unchangeable
    intersection_update = difference_update = symmetric_difference_update = _unchangeable
    __ior__ = __iand__ = __isub__ = __ixor__ = _unchangeable

    def __copy__(self) -> set[str]:
        return set(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return set, (list(self),)


class _Layout:
    """A model's fields in declaration order with their defaults, derived once from ``model_fields``."""

    __slots__ = ("factories", "fields_sets", "template")

    def __init__(self, cls: type[BaseModel]) -> None:
        if cls.__pydantic_post_init__ or cls.__private_attributes__ or cls.model_config.get("extra") == "allow":
            raise TypeError(f"{cls.__name__} cannot be assembled without its validator")
        self.template: dict[str, Any] = {}
        factories: list[tuple[str, Callable[[], Any]]] = []
        for name, info in cls.model_fields.items():
            factory = info.default_factory
            self.template[name] = None if factory is not None else info.default
            if factory is not None:
                if info.default_factory_takes_validated_data:
                    raise TypeError(f"{cls.__name__}.{name}: a default factory taking the data is not supported")
                factories.append((name, cast(Callable[[], Any], factory)))
        self.factories = tuple(factories)
        self.fields_sets: dict[tuple[str, ...], FieldsSet] = {}


_LAYOUTS: dict[type[BaseModel], _Layout] = {}


def assemble(cls: type[M], values: dict[str, Any]) -> M:
    """``cls(**values)`` without running the validator, for a record whose every value the caller
    knows to have its field's type (it comes from validated models, or the caller checked it): the same
    fields in the same order, defaults filled in, the fields given marked as set. Callers are the records'
    builders (the request, the audit event, the check result); anything from outside goes through the
    validating constructor instead."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = _Layout(cls)
    out = layout.template.copy()
    out.update(values)  # the template's order: the declaration order
    for name, factory in layout.factories:
        if name not in values:
            out[name] = factory()
    given = tuple(values)
    fields_set = layout.fields_sets.get(given)
    if fields_set is None:
        fields_set = FieldsSet(given)
        remember(layout.fields_sets, given, fields_set, 64)
    obj = _new(cls)
    _set_dict(obj, out)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def evolve(obj: M, update: dict[str, Any]) -> M:
    """``obj.model_copy(update=update)`` (shallow, unvalidated, as ``model_copy`` is)."""
    out = obj.__dict__.copy()
    out.update(update)
    new = _new(type(obj))
    _set_dict(new, out)
    _set_fields_set(new, obj.__pydantic_fields_set__ | update.keys())
    _set_extra(new, obj.__pydantic_extra__)
    _set_private(new, obj.__pydantic_private__)
    return new
