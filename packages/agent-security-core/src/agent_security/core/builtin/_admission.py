"""One store call per check for the kill switch, the rate limiter and the session context together.

Each of the three contributes a *part* to a check's admission: the kill switch its flags (the global key
and the agent's key), the rate limiter its windows, the session context its counter. The first of them
whose ``before_check`` runs in a check (the kill switch, which runs first) *leads*: it finds the other two
on the same host (``host.get_plugin(name)``, the instance they are registered with) and, when they use
the same store object, sends every part in one atomic :meth:`Store.admit
<agent_security.core.store.Store.admit>`. The store reads the flags, then admits every window and the
counter, all or nothing.

The leader keeps each member's answer for the check in the check's ``ctx.scratch`` (gone with the check),
and returns its own; when the pipeline calls the rate limiter and the session context next, they return
theirs without touching the store. So a refusal is still reported by the plugin it belongs to, with its
reason code and ``plugin_source``, and the pipeline's contract is unchanged. A member that the leader
could not include (another store, another host, no host at all in a unit test) admits its part alone:
the same answers, one call each. When every part is admitted, each member says what that means for it
(the session context registers its reservation); when one is refused, only the member it belongs to is
asked, with the verdict on its own part.

* Nothing is admitted when a kill flag is set or any limit refuses. A call refused by the session limit
  consumes no rate budget either.
* Rate windows are recorded at admission: a call admitted here and denied later (by another plugin
  between the three, or by the policy) still counts against the rate limits, as attempts always did.
  The session counter is a reservation, released by the session context's ``notify`` unless the final
  decision is ALLOW (the leader registers it, so it is released even if the check ended before the
  session context's own hook ran).
* ``StoreFull`` (the memory store has no room for a new window) makes the leader fall back to admitting
  alone, so each member reports it as it always did; any other store error is a DENY
  ``STORE_UNAVAILABLE`` from the leader.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

from agent_security.core.errors import StoreError, StoreFull
from agent_security.core.models import ActionRequest, PluginResult
from agent_security.core.store import AdmissionVerdict, CounterLimit, Store, WindowLimit

__all__ = ["MEMBERS", "Member", "Part", "admit"]

MEMBERS = ("kill_switch", "rate_limiter", "session_context")
"""The plugin names that take part, in the order they run in a check."""


class Part(NamedTuple):
    """What one member needs admitted for a request."""

    flags: tuple[str, ...] = ()
    windows: tuple[WindowLimit, ...] = ()
    counters: tuple[CounterLimit, ...] = ()


class Member(Protocol):
    """A plugin taking part in the admission (the three built-ins)."""

    name: str

    @property
    def store(self) -> Store: ...

    def _host_of(self, ctx: Any) -> Any: ...

    def _store_failure(self) -> PluginResult: ...

    def _part(self, request: ActionRequest) -> Part | None:
        """This member's part for ``request`` (``None``: nothing to admit)."""
        ...

    def _admitted(self, request: ActionRequest, part: Part) -> PluginResult | None:
        """This member's answer when every part was admitted (registers its reservations)."""
        ...

    def _refused(self, request: ActionRequest, part: Part, verdict: AdmissionVerdict) -> PluginResult | None:
        """This member's answer when its own part was refused (``verdict``: the verdict on its part)."""
        ...

    def _alone_full(self) -> PluginResult:
        """The answer when the store has no room for this member's state (``StoreFull``) alone."""
        ...


_SCRATCH_KEY = "admission"
"""Where the leader keeps, in the check's ``ctx.scratch``, the answers of the members that have not run."""


def _take(member: Member, ctx: Any) -> tuple[bool, PluginResult | None]:
    scratch = getattr(ctx, "scratch", None)
    answers = scratch.get(_SCRATCH_KEY) if isinstance(scratch, dict) else None
    if not answers or id(member) not in answers:
        return False, None
    return True, answers.pop(id(member))


def _partners(leader: Member, ctx: Any, store: Store) -> list[Member]:
    host = leader._host_of(ctx)
    if host is None:
        return []
    get = getattr(host, "get_plugin", None)
    if get is None:
        return []
    found: list[Member] = []
    for name in MEMBERS:
        if name == leader.name:
            continue
        other = get(name)
        if other is None or other is leader or not hasattr(other, "_part") or not hasattr(other, "_admitted"):
            continue
        if getattr(other, "store_bound", False) and other.store is store:
            found.append(other)
    return found


_KIND_OFFSET = {"flag": 0, "window": 1, "counter": 2}


def _slice(verdict: AdmissionVerdict, flags: int, windows: int, counters: int, part: Part) -> AdmissionVerdict:
    """The verdict on one member's part, from the verdict on all parts (offsets into each sequence)."""
    nf, nw, nc = len(part.flags), len(part.windows), len(part.counters)
    refused = index = None
    if verdict.refused is not None and verdict.refused_index is not None:
        start, size = ((flags, nf), (windows, nw), (counters, nc))[_KIND_OFFSET[verdict.refused]]
        if start <= verdict.refused_index < start + size:
            refused, index = verdict.refused, verdict.refused_index - start
    return AdmissionVerdict(
        verdict.admitted,
        verdict.flags[flags : flags + nf],
        verdict.windows[windows : windows + nw],
        verdict.counters[counters : counters + nc],
        refused,
        index,
    )


def _alone(member: Member, request: ActionRequest, store: Store, part: Part) -> PluginResult | None:
    try:
        verdict = store.admit(part.flags, part.windows, part.counters)
    except StoreFull:
        return member._alone_full()
    except StoreError:
        return member._store_failure()
    if verdict.admitted:
        return member._admitted(request, part)
    return member._refused(request, part, verdict)


def admit(member: Member, request: ActionRequest, ctx: Any, store: Store) -> PluginResult | None:
    """``member``'s answer for this check: kept by the check's leader, else admitted now (leading the
    other members when they share ``store``)."""
    kept, answer = _take(member, ctx)
    if kept:
        return answer
    part = member._part(request)
    partners = _partners(member, ctx, store)
    members: list[tuple[Member, Part]] = [] if part is None else [(member, part)]
    for other in partners:
        other_part = other._part(request)
        if other_part is not None:
            members.append((other, other_part))
    if not members:
        if partners:
            _keep(ctx, dict.fromkeys(map(id, partners)))
        return None
    if len(members) == 1 and members[0][0] is member:
        answers_alone: dict[int, PluginResult | None] = dict.fromkeys(map(id, partners))
        if answers_alone:
            _keep(ctx, answers_alone)
        return _alone(member, request, store, members[0][1])
    flags: list[str] = []
    windows: list[WindowLimit] = []
    counters: list[CounterLimit] = []
    for _, p in members:
        flags.extend(p.flags)
        windows.extend(p.windows)
        counters.extend(p.counters)
    try:
        verdict = store.admit(flags, windows, counters)
    except StoreFull:  # each member alone reports it as its own
        return None if part is None else _alone(member, request, store, part)
    except StoreError:
        return member._store_failure()
    answers: dict[int, PluginResult | None] = dict.fromkeys(map(id, partners))
    mine: PluginResult | None = None
    if verdict.admitted:
        for who, p in members:
            result = who._admitted(request, p)
            if who is member:
                mine = result
            else:
                answers[id(who)] = result
    else:  # only the member whose part was refused has something to say
        who, p, sliced = _refused_member(members, verdict)
        result = who._refused(request, p, sliced)
        if who is member:
            mine = result
        else:
            answers[id(who)] = result
    _keep(ctx, answers)
    return mine


def _refused_member(
    members: list[tuple[Member, Part]], verdict: AdmissionVerdict
) -> tuple[Member, Part, AdmissionVerdict]:
    """The member whose part holds the refused flag, window or counter, with the verdict on its part."""
    f = w = c = 0
    for who, p in members:
        sliced = _slice(verdict, f, w, c, p)
        if sliced.refused is not None:
            return who, p, sliced
        f, w, c = f + len(p.flags), w + len(p.windows), c + len(p.counters)
    raise AssertionError("a refused admission names no part")  # the store names what it refused


def _keep(ctx: Any, answers: dict[int, PluginResult | None]) -> None:
    scratch = getattr(ctx, "scratch", None)
    if isinstance(scratch, dict):  # without one (a hand-made context), the members admit alone
        scratch[_SCRATCH_KEY] = answers
