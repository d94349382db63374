"""Building the request a check decides about, from the caller's fields, within documented bounds.

Everything here comes from outside: tool arguments are deep-copied and bounded
(:func:`~agent_security.core.arguments.freeze_json`), identifier-like fields are bounded in length and
lists in items, and every field is type-checked by the request model. A field with the wrong type or size
is :class:`InvalidRequest`, which the pipeline decides as DENY ``INVALID_REQUEST`` (and audits); only a
keyword the API does not have is a ``TypeError`` (a programming mistake).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from agent_security.core._speedups import assemble, evolve, remember
from agent_security.core.arguments import MAX_STRING, InputTooLarge, InvalidArguments, freeze_json
from agent_security.core.models import Action, ActionRequest, AgentInfo, Decision, PluginResult, RequestContext
from agent_security.core.normalize import canonical_agent_id

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "MAX_ID_CHARS",
    "MAX_LIST_ITEMS",
    "MAX_TOOL_NAME",
    "REQUEST_FIELDS",
    "InvalidRequest",
    "RequestDefaults",
    "build_request",
    "placeholder_request",
    "request_or_denial",
]

MAX_TOOL_NAME = 256
MAX_ID_CHARS = 1024
"""Longest identifier-like request field (agent id, session id, environment, a label, a role, ...)."""
MAX_LIST_ITEMS = 1024
"""Most items in a list-like request field (data labels, roles, delegation chain, ...)."""


class InvalidRequest(InvalidArguments):
    """A request field of the wrong type or beyond its bounds (decided as DENY ``INVALID_REQUEST``)."""


class RequestDefaults:
    """What a request gets when the caller leaves a field out."""

    __slots__ = ("environment", "owner")

    def __init__(self, environment: str, owner: str) -> None:
        self.environment = environment
        self.owner = owner


def _identifier(name: str, value: Any, limit: int = MAX_ID_CHARS) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise InputTooLarge(f"{name} is longer than {limit} characters")


def _listed(name: str, value: Any) -> tuple[Any, ...] | None:
    """A list-like field as a tuple of at most :data:`MAX_LIST_ITEMS` + 1 items (the model refuses more)."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise InvalidRequest(f"{name} must be a list of strings, not {type(value).__name__}")
    items = tuple(itertools.islice(value, MAX_LIST_ITEMS + 1))
    if len(items) > MAX_LIST_ITEMS:
        raise InputTooLarge(f"{name} has more than {MAX_LIST_ITEMS} items")
    for item in items:
        _identifier(f"an item of {name}", item)
    return items


def _frozen_mapping(name: str, value: Any) -> Any:
    if value is None or not isinstance(value, Mapping):
        return value  # a model instance, or a wrong type the model refuses
    try:
        return freeze_json(value)
    except InvalidArguments as exc:
        raise InvalidRequest(f"{name}: {exc}") from exc


# Where each optional field of the caller goes: (part, name in the part, how it is read).
_TEXT, _LIST, _MAPPING, _VALUE = "text", "list", "mapping", "value"
_FIELDS: dict[str, tuple[str, str, str]] = {
    "agent_name": ("agent", "name", _TEXT),
    "environment": ("agent", "environment", _TEXT),
    "owner": ("agent", "owner", _TEXT),
    "agent_type": ("agent", "agent_type", _TEXT),
    "trust_level": ("agent", "trust_level", _TEXT),
    "roles": ("agent", "roles", _LIST),
    "capabilities": ("agent", "capabilities", _LIST),
    "max_delegation_depth": ("agent", "max_delegation_depth", _VALUE),
    "attestation": ("agent", "attestation", _MAPPING),
    "action_type": ("action", "type", _TEXT),
    "tool_identity": ("action", "tool_identity", _MAPPING),
    "user_input": ("context", "user_input", _TEXT),
    "session_id": ("context", "session_id", _TEXT),
    "trace_id": ("context", "trace_id", _TEXT),
    "parent_agent_id": ("context", "parent_agent_id", _TEXT),
    "data_labels": ("context", "data_labels", _LIST),
    "risk_hints": ("context", "risk_hints", _LIST),
    "delegation_chain": ("context", "delegation_chain", _LIST),
    "context": ("context", "extra", _MAPPING),
}
REQUEST_FIELDS = frozenset({"tool_name", "agent_id", "tool_args", *_FIELDS})
"""Every field :func:`build_request` (and ``check_tool_call``) takes."""
_DEFAULTED = frozenset({"name", "environment", "owner", "type"})
"""Fields whose empty value means "the default" (Agent-SPM's ``name || agentId``)."""


def build_request(defaults: RequestDefaults, timestamp: datetime, /, **fields: Any) -> ActionRequest:
    """The request for the caller's ``fields`` (see :data:`REQUEST_FIELDS`; arguments deep-copied and
    bounded), stamped ``timestamp``.

    Raises :class:`InvalidRequest` (:class:`~agent_security.core.arguments.InputTooLarge` past a bound,
    :class:`~agent_security.core.arguments.InvalidArguments` for arguments that cannot be represented
    faithfully) for any field the pipeline must refuse, and ``TypeError`` for a field the API does not have.
    """
    unknown = fields.keys() - REQUEST_FIELDS
    if unknown:
        raise TypeError(f"unknown request field(s): {', '.join(sorted(unknown))}")
    tool_name, agent_id = fields.get("tool_name"), fields.get("agent_id")
    for name, value in (("tool_name", tool_name), ("agent_id", agent_id)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"{name} must be a non-empty string")
    _identifier("tool_name", tool_name, MAX_TOOL_NAME)
    _identifier("agent_id", agent_id)
    tool_args = fields.get("tool_args")
    if tool_args is None:
        tool_args = {}
    elif not isinstance(tool_args, Mapping):
        raise InvalidRequest(f"tool_args must be a mapping of argument names to values, not {type(tool_args).__name__}")
    parts: dict[str, dict[str, Any]] = {
        "agent": {"agent_id": agent_id, "name": agent_id, "owner": defaults.owner, "environment": defaults.environment},
        "action": {"type": "tool_call", "tool_name": tool_name, "tool_args": freeze_json(tool_args)},
        "context": {},
    }
    for key, value in fields.items():
        where = _FIELDS.get(key)
        if where is None or value is None:
            continue
        part, name, kind = where
        if kind == _TEXT:
            _identifier(key, value, MAX_STRING if key == "user_input" else MAX_ID_CHARS)
            if not value and name in _DEFAULTED:
                continue
        elif kind == _LIST:
            value = _listed(key, value)
        elif kind == _MAPPING:
            if key == "context":
                if not isinstance(value, Mapping):
                    raise InvalidRequest(f"context must be a mapping, not {type(value).__name__}")
                if not value:
                    continue
            value = _frozen_mapping(key, value)
        parts[part][name] = value
    agent, context = parts["agent"], parts["context"]
    shared_context = "extra" not in context and len(context.get("user_input") or "") <= _SHARED_INPUT
    built = {
        "timestamp": timestamp,
        "agent": _part(AgentInfo, "agent", agent, shared="attestation" not in agent),
        "action": _action(parts["action"]),
        "context": _part(RequestContext, "context", context, shared=shared_context),
    }
    if type(timestamp) is datetime:  # the parts were validated just above; the clock's reading is checked
        return assemble(ActionRequest, built)
    return ActionRequest(**built)


def _action(fields: dict[str, Any]) -> Action:
    """The action: its type and tool name were checked above and its arguments are the bounded copy
    :func:`freeze_json` made, so only a tool identity (a caller's mapping) needs validating."""
    if "tool_identity" in fields:
        return _part(Action, "action", fields, shared=False)
    return assemble(Action, fields)


_SHARED_PARTS: dict[tuple[type, tuple[tuple[str, Any], ...]], Any] = {}
_MAX_SHARED_PARTS = 4096
"""How many distinct agents and request contexts are kept built (most checks repeat the last few)."""
_SHARED_INPUT = 1024
"""A context whose ``user_input`` is longer is built for its own request only."""


def _part(model: type[M], name: str, fields: dict[str, Any], *, shared: bool) -> M:
    """``model`` validated from ``fields``. Parts are frozen values: an agent or a context made of the
    same plain fields is built once and shared by the requests that carry it (bounded)."""
    key = (model, tuple(fields.items())) if shared else None
    if key is not None:
        try:
            known = _SHARED_PARTS.get(key)
        except TypeError:  # a value that is not hashable (a wrong type the model refuses below)
            key, known = None, None
        if known is not None:
            return known  # type: ignore[no-any-return]
    try:
        part = model.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in (name, *error["loc"]))
        raise InvalidRequest(f"invalid request field {where}: {error['msg']}") from exc
    if key is not None:
        remember(_SHARED_PARTS, key, part, _MAX_SHARED_PARTS)
    return part


_PARTS: tuple[tuple[str, type[Any]], ...] = (("agent", AgentInfo), ("action", Action), ("context", RequestContext))


def revalidated(old: ActionRequest, replacement: ActionRequest) -> ActionRequest:
    """A plugin's replacement for ``old``, validated (``model_copy(update=...)`` skips validation). The
    parts it kept (the same objects as ``old``'s, already validated) are taken as they are; every other
    part is validated again. Raises ``ValidationError`` for a replacement the models refuse."""
    if (
        type(replacement) is not ActionRequest
        or replacement.request_id is not old.request_id
        or replacement.timestamp is not old.timestamp
    ):
        return ActionRequest.model_validate(replacement.model_dump(warnings=False))
    parts: dict[str, Any] = {"request_id": old.request_id, "timestamp": old.timestamp}
    for name, model in _PARTS:
        part = getattr(replacement, name)
        if part is getattr(old, name):
            parts[name] = part
            continue
        known = _VALIDATED_PARTS.get(id(part))
        if known is not None and known[0] is part:  # a plugin handing back the part it built before
            parts[name] = known[1]
            continue
        dumped = part.model_dump(warnings=False) if isinstance(part, BaseModel) else part
        parts[name] = validated = model.model_validate(dumped)
        if type(part) is model:  # frozen: the same object always validates to the same part
            remember(_VALIDATED_PARTS, id(part), (part, validated), _MAX_SHARED_PARTS)
    return assemble(ActionRequest, parts)


def with_identity(request: ActionRequest, result: PluginResult) -> ActionRequest:
    """``request`` with the agent, tool identity and delegation chain an ``identify`` result names (the
    parts it leaves ``None`` kept), for :func:`revalidated` to check like any replacement."""
    agent = result.agent if result.agent is not None else request.agent
    action = request.action
    if result.tool_identity is not None and result.tool_identity is not action.tool_identity:
        action = evolve(action, {"tool_identity": result.tool_identity})
    context = request.context
    if result.delegation_chain is not None and result.delegation_chain != context.delegation_chain:
        context = evolve(context, {"delegation_chain": result.delegation_chain})
    return evolve(request, {"agent": agent, "action": action, "context": context})


_VALIDATED_PARTS: dict[int, tuple[Any, Any]] = {}
"""A replacement part (by identity, kept alive with it) and its validated copy: plugins that remember
what they concluded for an agent hand back the same part on every check."""


def request_or_denial(
    defaults: RequestDefaults, timestamp: datetime, fields: Mapping[str, Any]
) -> tuple[ActionRequest, Decision | None]:
    """The request for the caller's ``fields``, and ``None``; or, for fields it must refuse, a
    :func:`placeholder_request` and the DENY ``INVALID_REQUEST`` they deserve (decided and audited)."""
    try:
        return build_request(defaults, timestamp, **fields), None
    except InvalidArguments as exc:  # hostile or malformed content, not a programming mistake
        return placeholder_request(fields, defaults, timestamp), Decision.deny("INVALID_REQUEST", str(exc))


def placeholder_request(params: Mapping[str, Any], defaults: RequestDefaults, timestamp: datetime) -> ActionRequest:
    """A request standing for fields that could not be built, to decide and audit their denial: only
    the tool name, agent id and environment, when they are usable strings (truncated to their bounds)."""

    def text(key: str, fallback: str, limit: int) -> str:
        value = params.get(key)
        return (value if isinstance(value, str) and value.strip() else fallback)[:limit]

    agent_id = text("agent_id", "unknown", MAX_ID_CHARS)
    return ActionRequest(
        agent=AgentInfo(
            agent_id=agent_id if canonical_agent_id(agent_id) else "unknown",
            environment=text("environment", defaults.environment, MAX_ID_CHARS),
        ),
        action=Action(tool_name=text("tool_name", "unknown", MAX_TOOL_NAME)),
        timestamp=timestamp,
    )
