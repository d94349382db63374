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

from agent_security.core._speedups import remember
from agent_security.core.arguments import MAX_STRING, InputTooLarge, InvalidArguments, freeze_json
from agent_security.core.models import Action, ActionRequest, AgentAttestation, AgentInfo, RequestContext, ToolIdentity

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "MAX_ID_CHARS",
    "MAX_LIST_ITEMS",
    "MAX_TOOL_NAME",
    "InvalidRequest",
    "RequestDefaults",
    "build_request",
    "placeholder_request",
]

MAX_TOOL_NAME = 256
MAX_ID_CHARS = 1024
"""Longest identifier-like request field (agent id, session id, environment, a label, a role, ...)."""
MAX_LIST_ITEMS = 1024
"""Most items in a list-like request field (data labels, roles, delegation chain, ...)."""

_AGENT_LISTS = ("roles", "capabilities")
_CONTEXT_LISTS = ("data_labels", "risk_hints", "delegation_chain")


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


def build_request(
    defaults: RequestDefaults,
    timestamp: datetime,
    *,
    tool_name: str,
    agent_id: str,
    tool_args: Mapping[str, Any] | None = None,
    agent_name: str | None = None,
    environment: str | None = None,
    owner: str | None = None,
    action_type: str | None = None,
    user_input: str | None = None,
    data_labels: Iterable[str] | None = None,
    risk_hints: Iterable[str] | None = None,
    session_id: str | None = None,
    trace_id: str | None = None,
    parent_agent_id: str | None = None,
    agent_type: str | None = None,
    trust_level: str | None = None,
    roles: Iterable[str] | None = None,
    capabilities: Iterable[str] | None = None,
    max_delegation_depth: int | None = None,
    attestation: Mapping[str, Any] | AgentAttestation | None = None,
    tool_identity: Mapping[str, Any] | ToolIdentity | None = None,
    delegation_chain: Iterable[str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> ActionRequest:
    """The request for these fields (arguments deep-copied and bounded), stamped ``timestamp``.

    Raises :class:`InvalidRequest` (:class:`~agent_security.core.arguments.InputTooLarge` past a
    bound, :class:`~agent_security.core.arguments.InvalidArguments` for arguments that cannot be
    represented faithfully) for any field the pipeline must refuse.
    """
    for name, value in (("tool_name", tool_name), ("agent_id", agent_id)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"{name} must be a non-empty string")
    _identifier("tool_name", tool_name, MAX_TOOL_NAME)
    named: tuple[tuple[str, Any], ...] = (
        ("agent_id", agent_id),
        ("agent_name", agent_name),
        ("environment", environment),
        ("owner", owner),
        ("action_type", action_type),
        ("session_id", session_id),
        ("trace_id", trace_id),
        ("parent_agent_id", parent_agent_id),
        ("agent_type", agent_type),
        ("trust_level", trust_level),
    )
    for name, value in named:
        _identifier(name, value)
    _identifier("user_input", user_input, MAX_STRING)
    if tool_args is None:
        tool_args = {}
    if not isinstance(tool_args, Mapping):
        raise InvalidRequest(f"tool_args must be a mapping of argument names to values, not {type(tool_args).__name__}")
    if context is not None and not isinstance(context, Mapping):
        raise InvalidRequest(f"context must be a mapping, not {type(context).__name__}")

    agent: dict[str, Any] = {
        "agent_id": agent_id,
        "name": agent_name or agent_id,
        "owner": owner or defaults.owner,
        "environment": environment or defaults.environment,
    }
    optional: tuple[tuple[str, Any], ...] = (
        ("agent_type", agent_type),
        ("trust_level", trust_level),
        ("max_delegation_depth", max_delegation_depth),
        ("attestation", _frozen_mapping("attestation", attestation)),
    )
    for key, value in optional:
        if value is not None:
            agent[key] = value
    for key, listed in (("roles", roles), ("capabilities", capabilities)):
        items = _listed(key, listed)
        if items is not None:
            agent[key] = items
    action: dict[str, Any] = {
        "type": action_type or "tool_call",
        "tool_name": tool_name,
        "tool_args": freeze_json(tool_args),
    }
    if tool_identity is not None:
        action["tool_identity"] = _frozen_mapping("tool_identity", tool_identity)
    ctx: dict[str, Any] = {}
    plain: tuple[tuple[str, Any], ...] = (
        ("user_input", user_input),
        ("session_id", session_id),
        ("trace_id", trace_id),
        ("parent_agent_id", parent_agent_id),
    )
    for key, value in plain:
        if value is not None:
            ctx[key] = value
    for key, listed in (
        ("data_labels", data_labels),
        ("risk_hints", risk_hints),
        ("delegation_chain", delegation_chain),
    ):
        items = _listed(key, listed)
        if items is not None:
            ctx[key] = items
    if context:
        ctx["extra"] = _frozen_mapping("context", dict(context))
    return ActionRequest(
        timestamp=timestamp,
        agent=_part(AgentInfo, "agent", agent, shared="attestation" not in agent),
        action=_part(Action, "action", action, shared=False),
        context=_part(RequestContext, "context", ctx, shared=not context and len(user_input or "") <= _SHARED_INPUT),
    )


_SHARED_PARTS: dict[tuple[type, tuple[tuple[str, Any], ...]], Any] = {}
_MAX_SHARED_PARTS = 1024
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


def placeholder_request(params: Mapping[str, Any], defaults: RequestDefaults, timestamp: datetime) -> ActionRequest:
    """A request standing for fields that could not be built, to decide and audit their denial: only
    the tool name, agent id and environment, when they are usable strings (truncated to their bounds)."""

    def text(key: str, fallback: str, limit: int) -> str:
        value = params.get(key)
        return (value if isinstance(value, str) and value.strip() else fallback)[:limit]

    return ActionRequest(
        agent=AgentInfo(
            agent_id=text("agent_id", "unknown", MAX_ID_CHARS),
            environment=text("environment", defaults.environment, MAX_ID_CHARS),
        ),
        action=Action(tool_name=text("tool_name", "unknown", MAX_TOOL_NAME)),
        timestamp=timestamp,
    )
