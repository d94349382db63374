"""Change control: whether a change ticket allows this call.

:class:`ChangeControl` checks, in order: the id against ``ticket_pattern`` (whole id, compiled once, ids
of at most 128 characters), the ticket as the ticket system reports it (a :class:`TicketValidator`: Jira,
ServiceNow, or any function returning a :class:`TicketInfo`), its status against ``required_statuses``,
its approval, its change window (``starts_at`` / ``expires_at``; ``require_expiry`` refuses a ticket
without an end) and its scope (the ticket must name the agent, the tool and/or the environment, as whole
words of its summary, description, labels or components). Tickets fetched are cached for
``cache_ttl_s`` (at most ``cache_size`` of them); a failed lookup is never cached and is a denial
(``TICKET_ERROR``). Without a validator no ticket is valid (``TICKET_UNVERIFIABLE``): the original
accepted any id then.
"""

from __future__ import annotations

import inspect
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from agent_security.containment.config import ScopeField
from agent_security.containment.errors import TicketLookupError

__all__ = [
    "ChangeControl",
    "ScopeField",
    "TicketCheck",
    "TicketInfo",
    "TicketLookupError",
    "TicketValidator",
    "normalize_status",
]

MAX_TICKET_ID = 128


@dataclass(frozen=True)
class TicketInfo:
    """A ticket as its system reports it. ``statuses``: every name its status goes by (ServiceNow's
    display value and its number); ``approved``: the ticket system's approval field, when it has one."""

    ticket_id: str
    status: str
    title: str = ""
    assignee: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    approved: bool | None = None
    starts_at: datetime | None = None
    expires_at: datetime | None = None
    scope_text: str = ""
    """What the scope check searches: summary, description, labels, components, configuration items."""
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class TicketCheck:
    """The verdict: ``valid``, the reason ``code`` (``TICKET_VALID``, ``TICKET_INVALID``,
    ``TICKET_NOT_FOUND``, ``TICKET_EXPIRED``, ``TICKET_NOT_STARTED``, ``TICKET_OUT_OF_SCOPE``,
    ``TICKET_ERROR``, ``TICKET_UNVERIFIABLE``), a message and the ticket when one was found."""

    valid: bool
    code: str
    message: str
    ticket: TicketInfo | None = None
    cached: bool = False


@runtime_checkable
class TicketValidator(Protocol):
    """Looks a ticket up: ``None`` when it does not exist; raises :class:`TicketLookupError` when the
    system cannot be asked."""

    def fetch(self, ticket_id: str) -> TicketInfo | None: ...

    async def afetch(self, ticket_id: str) -> TicketInfo | None: ...


LookupFunction = Callable[[str], "TicketInfo | Awaitable[TicketInfo | None] | None"]


def normalize_status(status: str) -> str:
    """``"In Progress"``, ``"in-progress"`` and ``"IN_PROGRESS"`` are one status."""
    return re.sub(r"[\s\-]+", "_", status.strip()).casefold()


class _FunctionValidator:
    """A plain lookup function (the original's ``validateTicket``) as a validator."""

    def __init__(self, fn: LookupFunction) -> None:
        self._fn = fn

    def fetch(self, ticket_id: str) -> TicketInfo | None:
        result = self._fn(ticket_id)
        if inspect.isawaitable(result):
            close = getattr(result, "close", None)
            if callable(close):
                close()  # never awaited: closed, not left to warn
            raise TicketLookupError("the lookup function is async: use avalidate")
        return _as_info(result)

    async def afetch(self, ticket_id: str) -> TicketInfo | None:
        result = self._fn(ticket_id)
        if inspect.isawaitable(result):
            result = await result
        return _as_info(result)


def _as_info(result: Any) -> TicketInfo | None:
    if result is None or isinstance(result, TicketInfo):
        return result
    raise TicketLookupError(f"the lookup function returned a {type(result).__name__}, not a TicketInfo")


@dataclass
class ChangeControl:
    """Validates change tickets (see the module documentation). Thread-safe; ``validate`` for
    synchronous code, ``avalidate`` for asyncio (same cache)."""

    validator: TicketValidator | LookupFunction | None = None
    provider: str = "custom"
    required_statuses: tuple[str, ...] = ("approved", "in_progress")
    ticket_pattern: str | None = None
    scope: tuple[ScopeField, ...] = ()
    require_expiry: bool = False
    cache_ttl_s: float = 60.0
    cache_size: int = 1024
    clock: Callable[[], float] = time.monotonic
    _pattern: re.Pattern[str] | None = field(init=False, default=None, repr=False)
    _statuses: frozenset[str] = field(init=False, default=frozenset(), repr=False)
    _cache: OrderedDict[str, tuple[float, TicketInfo]] = field(init=False, default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)
    _lookup: TicketValidator | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if self.ticket_pattern is not None:
            if len(self.ticket_pattern) > 256:
                raise ValueError("ticket_pattern is longer than 256 characters")
            self._pattern = re.compile(self.ticket_pattern)
        if not self.required_statuses:
            raise ValueError("required_statuses is empty: no ticket could ever be valid")
        self._statuses = frozenset(normalize_status(s) for s in self.required_statuses)
        bad = set(self.scope) - {"agent", "tool", "environment"}
        if bad:
            raise ValueError(f"scope names {sorted(bad)}; allowed: agent, tool, environment")
        if not (0 <= self.cache_ttl_s <= 86_400) or not (0 <= self.cache_size <= 1_000_000):
            raise ValueError("cache_ttl_s must be in [0, 86400] and cache_size in [0, 1000000]")
        if self.validator is None:
            self._lookup = None
        elif isinstance(self.validator, TicketValidator):
            self._lookup = self.validator
        elif callable(self.validator):
            self._lookup = _FunctionValidator(self.validator)
        else:
            raise TypeError("validator must be a TicketValidator or a function returning a TicketInfo")

    # ---- public ---------------------------------------------------------------------------------------
    def validate(
        self,
        ticket_id: str,
        *,
        agent_id: str | None = None,
        tool_name: str | None = None,
        environment: str | None = None,
        now: datetime | None = None,
    ) -> TicketCheck:
        early = self._precheck(ticket_id)
        if early is not None:
            return early
        tid = ticket_id.strip()
        cached = self._cached(tid)
        if cached is None:
            assert self._lookup is not None
            try:
                info = self._lookup.fetch(tid)
            except Exception as exc:
                return _error(tid, exc)
            self._store(tid, info)
        else:
            info = cached
        return self._judge(tid, info, cached is not None, agent_id, tool_name, environment, now)

    async def avalidate(
        self,
        ticket_id: str,
        *,
        agent_id: str | None = None,
        tool_name: str | None = None,
        environment: str | None = None,
        now: datetime | None = None,
    ) -> TicketCheck:
        early = self._precheck(ticket_id)
        if early is not None:
            return early
        tid = ticket_id.strip()
        cached = self._cached(tid)
        if cached is None:
            assert self._lookup is not None
            try:
                info = await self._lookup.afetch(tid)
            except Exception as exc:
                return _error(tid, exc)
            self._store(tid, info)
        else:
            info = cached
        return self._judge(tid, info, cached is not None, agent_id, tool_name, environment, now)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # ---- steps ----------------------------------------------------------------------------------------
    def _precheck(self, ticket_id: object) -> TicketCheck | None:
        if not isinstance(ticket_id, str) or not ticket_id.strip():
            return TicketCheck(False, "TICKET_INVALID", "No ticket id given")
        tid = ticket_id.strip()
        if len(tid) > MAX_TICKET_ID or not tid.isprintable():
            return TicketCheck(False, "TICKET_INVALID", "The ticket id is too long or holds control characters")
        if self._pattern is not None and self._pattern.fullmatch(tid) is None:
            return TicketCheck(False, "TICKET_INVALID", f'Ticket "{tid}" does not match the ticket pattern')
        if self._lookup is None:
            return TicketCheck(
                False, "TICKET_UNVERIFIABLE", f'Ticket "{tid}" cannot be verified: no ticket validator is configured'
            )
        return None

    def _cached(self, tid: str) -> TicketInfo | None:
        if self.cache_ttl_s <= 0 or self.cache_size <= 0:
            return None
        with self._lock:
            entry = self._cache.get(tid)
            if entry is None:
                return None
            if self.clock() - entry[0] >= self.cache_ttl_s:
                del self._cache[tid]
                return None
            self._cache.move_to_end(tid)
            return entry[1]

    def _store(self, tid: str, info: TicketInfo | None) -> None:
        if info is None or self.cache_ttl_s <= 0 or self.cache_size <= 0:
            return  # a ticket not found is asked again next time: it may be created meanwhile
        with self._lock:
            self._cache[tid] = (self.clock(), info)
            self._cache.move_to_end(tid)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _judge(
        self,
        tid: str,
        info: TicketInfo | None,
        cached: bool,
        agent_id: str | None,
        tool_name: str | None,
        environment: str | None,
        now: datetime | None,
    ) -> TicketCheck:
        if info is None:
            return TicketCheck(False, "TICKET_NOT_FOUND", f'Ticket "{tid}" does not exist in {self.provider}')

        def deny(code: str, message: str) -> TicketCheck:
            return TicketCheck(False, code, message, info, cached)

        names = {normalize_status(s) for s in (info.status, *info.statuses) if s}
        if not names & self._statuses:
            wanted = ", ".join(self.required_statuses)
            shown = info.status or "without status"
            return deny("TICKET_INVALID", f'Ticket "{tid}" is {shown!r}, not one of: {wanted}')
        if info.approved is False:
            return deny("TICKET_INVALID", f'Ticket "{tid}" is not approved')
        moment = now or datetime.now(UTC)
        if info.starts_at is not None and moment < info.starts_at:
            return deny("TICKET_NOT_STARTED", f'Ticket "{tid}" change window opens at {info.starts_at.isoformat()}')
        if info.expires_at is not None and moment >= info.expires_at:
            return deny("TICKET_EXPIRED", f'Ticket "{tid}" expired at {info.expires_at.isoformat()}')
        if info.expires_at is None and self.require_expiry:
            return deny("TICKET_INVALID", f'Ticket "{tid}" has no end date and one is required')
        wanted_scope = {"agent": agent_id, "tool": tool_name, "environment": environment}
        for name in self.scope:
            value = wanted_scope[name]
            if not value or not _names(info.scope_text, value):
                shown = (value or "?")[:128]
                return deny("TICKET_OUT_OF_SCOPE", f'Ticket "{tid}" does not name the {name} "{shown}"')
        return TicketCheck(True, "TICKET_VALID", f"Ticket {tid} validated ({self.provider})", info, cached)


def _names(text: str, value: str) -> bool:
    """Whether ``text`` names ``value`` as a whole word (``deploy`` is not named by ``deploy_all``)."""
    pattern = r"(?<![\w.\-])" + re.escape(value.casefold()) + r"(?![\w\-]|\.\w)"
    return re.search(pattern, text.casefold()) is not None


def _error(tid: str, exc: Exception) -> TicketCheck:
    detail = str(exc)[:200] if isinstance(exc, TicketLookupError) else type(exc).__name__
    return TicketCheck(False, "TICKET_ERROR", f'Ticket "{tid}" could not be checked: {detail}')


def scope_text(parts: Iterable[Any]) -> str:
    """Join the searchable parts of a ticket (strings, lists of strings, ``{"name": ...}`` items)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, dict):
            for key in ("name", "value", "display_value", "key"):
                if isinstance(part.get(key), str):
                    out.append(part[key])
        elif isinstance(part, list | tuple):
            out.append(scope_text(part))
    return "\n".join(out)[:100_000]
