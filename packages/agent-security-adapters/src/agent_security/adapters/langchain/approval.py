"""Approval through a LangGraph ``interrupt``: the resolver plugin that hands a reviewer's answer back to
the pipeline, and the parsing of that answer. Imports no framework.

How one approval-like call goes (the middleware drives it):

1. The check runs with a :class:`Slot` set for this call. When the decision is approval-like and no other
   resolver answers first, :class:`InterruptResolver` *defers*: it answers "not approved" with
   :data:`DEFERRED_MESSAGE` (audited as such) and marks the slot.
2. The middleware raises a LangGraph ``interrupt`` carrying the call, the reasons and the request hash.
3. On resume, the call is checked again with the reviewer's answer in the slot, as a
   :class:`~agent_security.core.Resolution` bound to the request hash the reviewer saw: the pipeline's own
   resolve phase records it (``APPROVED`` or ``REJECTED``), refuses it for any other request
   (``APPROVAL_MISMATCH``) and claims its nonce (single use).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from agent_security.core import AgentSecurity, Decision, Resolution, hookimpl

__all__ = [
    "DEFERRED_MESSAGE",
    "RESOLVER_NAME",
    "InterruptResolver",
    "PendingCalls",
    "Slot",
    "parse_answer",
    "resolver_for",
]

RESOLVER_NAME = "langgraph-interrupt"
DEFERRED_MESSAGE = "Awaiting human review through a LangGraph interrupt"
MAX_MESSAGE_CHARS = 500
MAX_PENDING = 4096

_SLOT: ContextVar[Slot | None] = ContextVar("agent_security_langgraph_slot", default=None)

_APPROVE = frozenset({"approve", "approved", "accept", "allow", "yes", "y"})
_REJECT = frozenset({"reject", "rejected", "deny", "denied", "no", "n"})


@dataclass
class Slot:
    """One call's exchange with :class:`InterruptResolver` (set in a context variable around the check)."""

    answer: Resolution | None = None
    deferred: Decision | None = None
    request_hash: str = ""


@dataclass
class PendingCalls:
    """Calls interrupted for review, by (thread, tool call id) → the request hash shown to the reviewer.

    Lets the resumed call take the reviewer's answer before checking again, so one approval costs two
    checks, not three. Bounded; losing an entry (another process resumes) costs one extra check only."""

    limit: int = MAX_PENDING
    _items: OrderedDict[tuple[str, str], tuple[str, Any]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, key: tuple[str, str], entry: tuple[str, Any]) -> None:
        with self._lock:
            self._items[key] = entry
            self._items.move_to_end(key)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def pop(self, key: tuple[str, str]) -> tuple[str, Any] | None:
        with self._lock:
            return self._items.pop(key, None)


class InterruptResolver:
    """Resolve phase plugin: answers only for calls the middleware is checking (a :class:`Slot` is set).

    Runs after every other resolver plugin and before the application's own callbacks."""

    name = RESOLVER_NAME
    fail_open = False
    priority = 999_999

    @hookimpl
    def agent_security_resolve(self, request: Any, decision: Decision, ctx: Any) -> Resolution | None:
        slot = _SLOT.get()
        if slot is None:
            return None
        if slot.answer is not None:
            return slot.answer
        slot.deferred = decision
        slot.request_hash = str(getattr(ctx, "request_hash", ""))
        return Resolution(approved=False, message=DEFERRED_MESSAGE, resolver=RESOLVER_NAME)


_REGISTER_LOCK = threading.Lock()


def resolver_for(security: AgentSecurity) -> InterruptResolver:
    """The instance's :class:`InterruptResolver`, registered on first use (one per ``AgentSecurity``)."""
    with _REGISTER_LOCK:
        existing = security.get_plugin(RESOLVER_NAME)
        if isinstance(existing, InterruptResolver):
            return existing
        resolver = InterruptResolver()
        security.register_plugin(resolver, name=RESOLVER_NAME)
        return resolver


def set_slot(slot: Slot | None) -> Any:
    return _SLOT.set(slot)


def reset_slot(token: Any) -> None:
    _SLOT.reset(token)


def parse_answer(answer: Any, request_hash: str) -> Resolution:
    """The reviewer's resume value as a :class:`Resolution` bound to ``request_hash``.

    Accepted: ``True``/``False``; ``"approve"``/``"reject"`` (and synonyms); a mapping with ``type``
    (``approve``/``reject``, as HITL decisions) or ``approved`` (bool), optional ``message`` and
    ``reviewer``; HITL's ``{"decisions": [one decision]}``; a :class:`Resolution`. Anything else, and an
    ``edit``, is a rejection (an edited call must be proposed again by the model and checked anew)."""
    if isinstance(answer, Resolution):
        return answer
    approved: bool | None = None
    message = ""
    reviewer: str | None = None
    if isinstance(answer, bool):
        approved = answer
    elif isinstance(answer, str):
        word = answer.strip().lower()
        approved = True if word in _APPROVE else False if word in _REJECT else None
    elif isinstance(answer, dict):
        decisions = answer.get("decisions")
        if isinstance(decisions, list) and len(decisions) == 1 and isinstance(decisions[0], dict):
            answer = decisions[0]
        kind = answer.get("type")
        flag = answer.get("approved")
        if isinstance(flag, bool):
            approved = flag
        elif isinstance(kind, str):
            word = kind.strip().lower()
            approved = True if word in _APPROVE else False if word in _REJECT else None
        if isinstance(answer.get("message"), str):
            message = answer["message"][:MAX_MESSAGE_CHARS]
        if isinstance(answer.get("reviewer"), str):
            reviewer = answer["reviewer"][:128]
    resolver = RESOLVER_NAME if reviewer is None else f"{RESOLVER_NAME}:{reviewer}"
    if approved is None:
        return Resolution(
            approved=False,
            message=f"Unrecognised review answer ({type(answer).__name__}): treated as a rejection",
            request_hash=request_hash or None,
            resolver=resolver,
        )
    return Resolution(approved=approved, message=message, request_hash=request_hash or None, resolver=resolver)
