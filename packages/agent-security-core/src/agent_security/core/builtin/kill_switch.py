"""Kill switch: stop one agent, or every agent, before any other check runs.

Reason codes (messages as in Agent-SPM):

* ``GLOBAL_KILL_SWITCH``: the global reason, or ``All agents are disabled via global kill switch``;
* ``AGENT_KILL_SWITCH``: the reason given to :meth:`KillSwitch.kill` (default ``Agent <id> disabled``),
  or ``Agent <id> is disabled via kill switch`` when the stored reason is empty.

State lives in the plugin's :class:`~agent_security.core.store.Store` (see
:mod:`agent_security.core.builtin._base` for which store), one key per killed agent plus one global key,
so a shared store makes a kill fleet-wide at once: every check reads the store, nothing is cached.
Every change is published on the store channel :data:`KILL_SWITCH_CHANNEL` as
``{"op": ..., "agent_id": ..., "reason": ...}`` (the guardian and other processes subscribe to it); a kill
or revive of one agent, and a global kill, write the flag and publish in one store call
(:meth:`Store.set_and_publish <agent_security.core.store.Store.set_and_publish>`: one transaction on
Redis). :meth:`KillSwitch.watch` hands a process the whole state after every change and after every
reconnection of its store's subscription (a lost message is made up by reading the state again); the
check itself never depends on it.

**Fail closed on start.** ``load_state`` (a callable returning the saved :class:`KillSwitchState`) runs in
the constructor. If it raises or returns something that does not validate, the switch starts **globally
killed** with a reason naming the failure (never with nothing killed, which was Agent-SPM's behaviour):
an operator inspects the state file and calls :meth:`KillSwitch.revive_all`. ``load_error`` keeps the
exception type for diagnostics.

``on_state_change(state)`` is called after every local change, once the change is in effect (use it to
persist with :func:`save_state_file`). An exception from it propagates to the caller of the mutator, so a
persistence failure is never silent; the kill itself has already taken effect.

**Audited.** Once registered (``bind_host``), every change is also an audit event through
``host.record_event``: ``kill_switch.kill`` and ``kill_switch.revive`` (``agent_id`` set, ``data``
``{"reason": ...}`` / ``{}``), ``kill_switch.kill_all`` (``{"reason": ...}``), ``kill_switch.revive_all``
(``{"agents_revived": n}``) and ``kill_switch.load`` (``{"global_kill": bool, "killed_agents": n}``). The
reason is the operator's text (at most 1,000 characters), the same text every denial carries. A trail
that refuses the event raises to the caller of the mutator, like a persistence failure.

**The check** reads both flags in one store call; with the rate limiter and the session context on the
same store, that one call also admits their windows and counter
(:mod:`agent_security.core.builtin._admission`). A store that fails is a DENY ``STORE_UNAVAILABLE``.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError

from agent_security.core.builtin import _admission
from agent_security.core.builtin._admission import Part
from agent_security.core.builtin._base import StoreBound, key_part
from agent_security.core.builtin._kill_switch_state import MAX_KILLED_AGENTS as MAX_KILLED_AGENTS
from agent_security.core.builtin._kill_switch_state import MAX_REASON_CHARS, KillSwitchState
from agent_security.core.context import CheckContext
from agent_security.core.files import read_bounded
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import ActionRequest, Decision, PluginResult
from agent_security.core.normalize import canonical_agent_id
from agent_security.core.store import AdmissionVerdict, Store

__all__ = [
    "KILL_SWITCH_CHANNEL",
    "KillSwitch",
    "KillSwitchState",
    "kill_switch",
    "load_state_file",
    "save_state_file",
]

KILL_SWITCH_CHANNEL = "kill_switch"
MAX_STATE_FILE_BYTES = 16 * 1024 * 1024
_PREFIX = "kill_switch:"
_AGENT_PREFIX = _PREFIX + "agent:"
_GLOBAL_KEY = _PREFIX + "global"


def _agent_key(agent_id: str) -> str:
    """The agent's flag; the id in its canonical form, so that a kill holds for every spelling of it."""
    canonical = canonical_agent_id(agent_id)
    if not canonical:
        raise ValueError(f"not an agent id: {agent_id!r} has no visible character")
    return _AGENT_PREFIX + key_part(canonical)


_cached_agent_key = functools.lru_cache(maxsize=4096)(_agent_key)
""":func:`_agent_key` memoised for exact strings (bounded, as key_part): read on every check."""


@functools.lru_cache(maxsize=4096)
def _cached_part(agent_id: str) -> Part:
    """The flags a check of ``agent_id`` reads (the global key and the agent's), for exact strings."""
    return Part(flags=(_GLOBAL_KEY, _cached_agent_key(agent_id)))


def _reason(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def load_state_file(path: str | os.PathLike[str], *, missing_ok: bool = False) -> KillSwitchState:
    """Read a state file written by :func:`save_state_file`.

    A missing file raises ``FileNotFoundError`` unless ``missing_ok`` (then: nothing killed). Use
    ``missing_ok=True`` only where a missing file is legitimate (the first start); a deleted state file
    must not silently revive every agent.
    """
    try:
        data = read_bounded(path, MAX_STATE_FILE_BYTES, what="kill switch state file")
    except FileNotFoundError:
        if missing_ok:
            return KillSwitchState(killed_agents={}, global_kill=False, global_reason="")
        raise
    return KillSwitchState.model_validate_json(data)


def save_state_file(state: KillSwitchState, path: str | os.PathLike[str]) -> None:
    """Write ``state`` as JSON atomically (temporary file, fsync, rename)."""
    p = Path(path)
    data = state.model_dump_json(indent=2).encode()
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent or Path())
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class KillSwitch(StoreBound):
    """The kill-switch plugin. Build it with :func:`kill_switch`."""

    name = "kill_switch"
    priority = 10
    fail_open = False

    def __init__(
        self,
        store: Store | None = None,
        on_state_change: Callable[[KillSwitchState], None] | None = None,
        load_state: Callable[[], KillSwitchState | Mapping[str, Any] | None] | None = None,
    ) -> None:
        super().__init__(store)
        self._on_state_change = on_state_change
        self.load_error: str | None = None
        if load_state is not None:
            try:
                loaded = load_state()
                if loaded is not None:
                    self.load_state(loaded, notify=False)
            except Exception as exc:  # fail closed: W25
                self.load_error = type(exc).__name__
                self._set_global(
                    True,
                    f"Kill switch state could not be loaded ({self.load_error}); "
                    "all agents are disabled until an operator revives them",
                )

    # -- the check ----------------------------------------------------------------------------
    @hookimpl(tryfirst=True)
    def agent_security_before_check(self, request: ActionRequest, ctx: CheckContext) -> PluginResult | None:
        store = self._store if self._bound else self._store_for(ctx.store)
        return _admission.admit(self, request, ctx, store)

    def _part(self, request: ActionRequest) -> Part:
        agent_id = request.agent.agent_id
        if type(agent_id) is str:
            return _cached_part(agent_id)
        return Part(flags=(_GLOBAL_KEY, _agent_key(agent_id)))

    def _admitted(self, request: ActionRequest, part: Part) -> PluginResult | None:
        return None

    def _refused(self, request: ActionRequest, part: Part, verdict: AdmissionVerdict) -> PluginResult | None:
        if verdict.refused != "flag":
            return None
        glob, reason_obj = verdict.flags
        return self._killed(request.agent.agent_id, glob, reason_obj)

    def _alone_full(self) -> PluginResult:
        return self._store_failure()

    def decide(self, agent_id: str, *, store: Store | None = None) -> Decision | None:
        """The DENY for ``agent_id`` if it is killed (globally or individually), else ``None``."""
        st = self._store if store is None else store
        glob, reason_obj = st.get_many(
            (_GLOBAL_KEY, _cached_agent_key(agent_id) if type(agent_id) is str else _agent_key(agent_id))
        )
        if glob is None and reason_obj is None:
            return None
        return self._killed(agent_id, glob, reason_obj).decision

    def _killed(self, agent_id: str, glob: Any, reason_obj: Any) -> PluginResult:
        """The DENY for a global kill (``glob``, the stored global entry) or else an agent kill (``reason_obj``,
        the stored reason), memoised by what determines it."""
        name = self.name
        if glob is not None:
            reason = str(glob.get("reason", "")) if isinstance(glob, dict) else ""
            return self._denial(
                ("global", name, reason) if type(reason) is str else None,
                lambda: Decision.deny(
                    "GLOBAL_KILL_SWITCH", reason or "All agents are disabled via global kill switch", plugin_source=name
                ),
            )
        exact = type(agent_id) is str and type(reason_obj) is str
        return self._denial(
            ("agent", name, agent_id, reason_obj) if exact else None,
            lambda: Decision.deny(
                "AGENT_KILL_SWITCH",
                str(reason_obj) or f"Agent {agent_id} is disabled via kill switch",
                plugin_source=name,
            ),
        )

    # -- mutators ----------------------------------------------------------------------------
    def kill(self, agent_id: str, reason: str | None = None) -> None:
        """Disable one agent. ``reason`` becomes the DENY message (default ``Agent <id> disabled``)."""
        text = _reason(reason) or _reason(f"Agent {agent_id} disabled")
        agent_id = canonical_agent_id(agent_id)
        message = {"op": "kill", "agent_id": agent_id, "reason": text}
        published = self._write(_agent_key(agent_id), text, message)
        self._changed(message, {"reason": text}, agent_id, published=published)

    def revive(self, agent_id: str) -> None:
        """Re-enable one agent (a global kill, if any, stays in force)."""
        agent_id = canonical_agent_id(agent_id)
        message = {"op": "revive", "agent_id": agent_id, "reason": None}
        published = self._write(_agent_key(agent_id), None, message)
        self._changed(message, {}, agent_id, published=published)

    def kill_all(self, reason: str | None = None) -> None:
        """Disable every agent."""
        text = _reason(reason)
        message = {"op": "kill_all", "agent_id": None, "reason": text}
        published = self._write(_GLOBAL_KEY, {"reason": text}, message)
        self._changed(message, {"reason": text}, published=published)

    def revive_all(self) -> None:
        """Lift the global kill **and** every per-agent kill."""
        self._set_global(False, "")
        revived = self._store.delete_prefix(_AGENT_PREFIX)
        self._changed({"op": "revive_all", "agent_id": None, "reason": None}, {"agents_revived": revived})

    def _write(self, key: str, value: Any, message: dict[str, Any]) -> bool:
        """Write ``key`` (``None``: delete) and publish ``message`` together; ``False`` when the write took
        effect but the message could not be sent (:meth:`_changed` then publishes it again)."""
        store = self._store
        try:
            store.set_and_publish(key, value, KILL_SWITCH_CHANNEL, message)
            return True
        except Exception:
            store.set(key, value)  # the flag must hold (or this raises); the message is retried after
            return False

    def _set_global(self, on: bool, reason: str) -> None:
        if on:
            self._store.set(_GLOBAL_KEY, {"reason": reason})
        else:
            self._store.delete(_GLOBAL_KEY)

    def _changed(
        self,
        message: dict[str, Any],
        facts: dict[str, Any],
        agent_id: str | None = None,
        *,
        notify: bool = True,
        published: bool = False,
    ) -> None:
        """Publish a change (unless ``published``), persist it (``on_state_change``) and audit it (the host's
        trail): every step is attempted, and the first failure is raised once all of them ran."""
        failure: BaseException | None = None
        if not published:
            try:
                self._store.publish(KILL_SWITCH_CHANNEL, message)
            except Exception as exc:
                failure = exc
        if notify and self._on_state_change is not None:
            try:
                self._on_state_change(self.get_state())
            except Exception as exc:
                failure = failure or exc
        host = self._host
        if host is not None:
            try:
                host.record_event(f"kill_switch.{message['op']}", facts, agent_id=agent_id)
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def watch(self, callback: Callable[[KillSwitchState], None]) -> Callable[[], None]:
        """Call ``callback(state)`` with the whole state after every change made by any process sharing the
        store, and after the store's subscription reconnects (messages may have been lost meanwhile).
        Runs on the store's subscriber thread; returns the function that stops watching. A state that
        cannot be read is skipped (the next message or reconnection reads it again)."""

        def changed(channel: str, message: Any) -> None:
            try:
                state = self.get_state()
            except Exception:
                return
            callback(state)

        return self._store.subscribe(KILL_SWITCH_CHANNEL, changed)

    # -- queries ------------------------------------------------------------------------------
    def is_killed(self, agent_id: str) -> bool:
        return self.decide(agent_id) is not None

    def is_globally_killed(self) -> bool:
        return self._store.get(_GLOBAL_KEY) is not None

    def get_killed_agents(self) -> list[str]:
        """Individually killed agent ids (sorted)."""
        return sorted(self.get_state().killed_agents)

    def get_state(self) -> KillSwitchState:
        return self._read_state(self._store)

    @staticmethod
    def _read_state(store: Store) -> KillSwitchState:
        agents = {unquote(k[len(_AGENT_PREFIX) :]): str(v) for k, v in store.scan(_AGENT_PREFIX).items()}
        glob = store.get(_GLOBAL_KEY)
        reason = str(glob.get("reason", "")) if isinstance(glob, dict) else ""
        return KillSwitchState(killed_agents=agents, global_kill=glob is not None, global_reason=reason)

    # -- persistence --------------------------------------------------------------------------
    def load_state(self, state: KillSwitchState | Mapping[str, Any], *, notify: bool = True) -> None:
        """Replace the whole state with ``state`` (validated first; on error nothing changes)."""
        try:
            new = state if isinstance(state, KillSwitchState) else KillSwitchState.model_validate(state)
        except ValidationError as exc:
            raise ValueError(f"invalid kill switch state: {exc.errors()[0]['msg']}") from None
        wanted = {_agent_key(a): _reason(r) for a, r in new.killed_agents.items()}
        # Kill before reviving, so that no moment has fewer kills than both the old and new state.
        if new.global_kill:
            self._set_global(True, _reason(new.global_reason))
        for key, reason in wanted.items():
            self._store.set(key, reason)
        for key in self._store.scan(_AGENT_PREFIX):
            if key not in wanted:
                self._store.delete(key)
        if not new.global_kill:
            self._set_global(False, "")
        self._changed(
            {"op": "load", "agent_id": None, "reason": None},
            {"global_kill": new.global_kill, "killed_agents": len(wanted)},
            notify=notify,
        )

    def save_state(self, path: str | os.PathLike[str] | None = None) -> KillSwitchState:
        """The current state; also written atomically to ``path`` when given."""
        state = self.get_state()
        if path is not None:
            save_state_file(state, path)
        return state

    def _migrate(self, old: Store, new: Store) -> None:
        # Kills made before registration are carried over (merged: never fewer kills than either side).
        state = self._read_state(old)
        for agent, reason in state.killed_agents.items():
            new.set(_agent_key(agent), reason)
        if state.global_kill:
            new.set(_GLOBAL_KEY, {"reason": state.global_reason})

    def __repr__(self) -> str:
        return f"KillSwitch(global_kill={self.is_globally_killed()}, killed={len(self.get_killed_agents())})"


def kill_switch(
    store: Store | None = None,
    on_state_change: Callable[[KillSwitchState], None] | None = None,
    load_state: Callable[[], KillSwitchState | Mapping[str, Any] | None] | None = None,
) -> KillSwitch:
    """Create a :class:`KillSwitch` plugin (see the module documentation)."""
    return KillSwitch(store=store, on_state_change=on_state_change, load_state=load_state)
