"""Building core models from values the core has already checked, without a second validation.

The pipeline builds a request, an audit event and a result for every check. Where every value is
already known to have the field's type (it was validated on the way in, or the core made it), running
pydantic's validator again only costs time. :func:`trusted` makes the instance the way
``Model.model_construct`` does (``__dict__`` and ``__pydantic_fields_set__``), minus its per-field Python
loop: the caller passes **every** field, in declaration order, and the set of fields a validating
constructor would have marked as set.

The set of fields may be a :class:`FieldsSet` shared by every instance built with the same fields (see
there): one set per model instead of one per instance.

Only for the frozen core models listed in :data:`TRUSTED_MODELS` (no validators that change values
other than ``AuditEvent.data``'s dict conversion, no private attributes, no post-init); a test builds
each one both ways and compares them. Never call it with values that came from outside unchecked: input
from callers and plugins goes through pydantic (or an explicit type check that rejects the same things).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from agent_security.core.models import (
    Action,
    ActionRequest,
    AgentInfo,
    AuditEvent,
    CheckResult,
    Decision,
    Reason,
    RequestContext,
)

__all__ = ["TRUSTED_MODELS", "FieldsSet", "field_values", "py_trusted", "trusted", "trusted_copy"]

M = TypeVar("M", bound=BaseModel)

TRUSTED_MODELS: tuple[type[BaseModel], ...] = (
    Action, ActionRequest, AgentInfo, AuditEvent, CheckResult, Decision, Reason, RequestContext)

_setattr = object.__setattr__


def _check_preconditions() -> None:
    for cls in TRUSTED_MODELS:
        if cls.__pydantic_post_init__ or cls.__private_attributes__ or cls.__pydantic_root_model__:
            raise TypeError(f"{cls.__name__} cannot be built by agent_security.core._fast.trusted")
        if cls.model_config.get("extra") == "allow":
            raise TypeError(f"{cls.__name__} allows extra fields")


_check_preconditions()


def _slot_setter(name: str) -> Callable[[Any, Any], None]:
    """The setter of one of BaseModel's slots, called directly (faster than ``object.__setattr__``)."""
    descriptor = BaseModel.__dict__.get(name)
    setter = getattr(descriptor, "__set__", None)
    if setter is None:  # a pydantic without these slots: take the generic way
        return functools.partial(_setattr_name, name=name)
    return cast(Callable[[Any, Any], None], setter)


def _setattr_name(obj: Any, value: Any, *, name: str) -> None:
    _setattr(obj, name, value)


_set_dict = _slot_setter("__dict__")
_set_fields_set = _slot_setter("__pydantic_fields_set__")
_set_extra = _slot_setter("__pydantic_extra__")
_set_private = _slot_setter("__pydantic_private__")
_new = object.__new__


_EXACT_MODELS = frozenset(TRUSTED_MODELS)


class _Attributes(Mapping[str, Any]):
    """A model's fields read as attributes (:func:`field_values` of anything but a core model)."""

    __slots__ = ("_model",)

    def __init__(self, model: object) -> None:
        self._model = model

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self._model, name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(type(self._model).model_fields)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(type(self._model).model_fields)  # type: ignore[attr-defined]


def field_values(model: BaseModel) -> Mapping[str, Any]:
    """``model``'s field values by name, for reading several at once: the instance ``__dict__`` of exactly
    one of :data:`TRUSTED_MODELS` (each field is there), else a view reading attributes (a subclass may
    compute one). Each attribute read of a pydantic model takes CPython's slow path (``BaseModel``
    defines ``__getattr__``: ~370 instructions); a read of ``__dict__`` and then a dict lookup per field
    costs a fifth of that from the third field on."""
    if type(model) in _EXACT_MODELS:
        return model.__dict__
    return _Attributes(model)


def _unchangeable(self: FieldsSet, *args: Any, **kwargs: Any) -> Any:
    raise TypeError("this set of fields is shared by many model instances and cannot be changed")


class FieldsSet(set[str]):
    """A ``model_fields_set`` that many instances share: the core's models are frozen, so pydantic never
    changes an instance's set in place (``model_copy`` and ``copy`` take a copy first, and a copy of this
    is a plain ``set``), and every method that would change it raises :class:`TypeError` instead of
    changing every instance at once. A set built per instance costs an allocation (about 1 µs and 700
    bytes for an audit event's 18 fields) on every check and for as long as the event is kept."""

    __slots__ = ()

    add = discard = remove = pop = clear = update = _unchangeable
    intersection_update = difference_update = symmetric_difference_update = _unchangeable
    __ior__ = __iand__ = __isub__ = __ixor__ = _unchangeable

    def __copy__(self) -> set[str]:
        return set(self)

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (and deep-copies) as the plain set it stands for
        return set, (list(self),)


def py_trusted(cls: type[M], values: dict[str, Any], fields_set: set[str]) -> M:
    """An instance of ``cls`` holding ``values`` (every field, in declaration order), unvalidated.

    :func:`trusted` is this function, or in the compiled wheel the same function written in C
    (``_fastc.pyx``: ~150 ns a model instead of ~400)."""
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


trusted = py_trusted


def trusted_copy(obj: M, update: dict[str, Any], updated: frozenset[str] | None = None) -> M:
    """``obj.model_copy(update=update)`` for a :data:`TRUSTED_MODELS` instance (shallow, unvalidated).

    ``updated`` may pass ``frozenset(update)`` precomputed."""
    values = obj.__dict__.copy()
    values.update(update)
    return trusted(type(obj), values, obj.__pydantic_fields_set__ | (updated or update.keys()))
