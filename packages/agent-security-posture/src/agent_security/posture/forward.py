"""A forwarder that streams the audit trail to a SIEM and resumes where it stopped.

:class:`Forwarder` reads the trail from a persisted :class:`~agent_security.posture.trail.Position`, sends
each event, and persists the position after every ``save_every`` events and when it stops (at least
once delivery: after a crash, at most ``save_every`` events are sent again, none is skipped).

The state file (JSON, mode 0600, replaced atomically) names the trail it belongs to. On resume the hash
chain proves continuity: the first event read must link (``prev_hash``) to the last one forwarded. A
trail that was truncated, rotated or replaced does not, and forwarding stops with
:class:`ForwardError` instead of silently skipping or repeating events (``--restart`` starts over).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_security.core.models import AuditEvent
from agent_security.posture.trail import Position, TrailReader

__all__ = ["ForwardError", "ForwardState", "Forwarder"]

STATE_VERSION = 1


class ForwardError(Exception):
    """Forwarding cannot continue safely (state unreadable, trail replaced)."""


@dataclass(frozen=True)
class ForwardState:
    trail: str
    position: Position
    forwarded: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "trail": self.trail,
            "position": self.position.as_dict(),
            "forwarded": self.forwarded,
        }

    @classmethod
    def load(cls, path: Path) -> ForwardState | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ForwardError(f"cannot read the forwarding state {path}: {exc}") from exc
        try:
            data = json.loads(raw[:65536])
            if data.get("version") != STATE_VERSION or not isinstance(data.get("trail"), str):
                raise ValueError("not a forwarding state")
            forwarded = data.get("forwarded", 0)
            return cls(
                data["trail"], Position.from_dict(data.get("position")), forwarded if type(forwarded) is int else 0
            )
        except (ValueError, AttributeError) as exc:
            raise ForwardError(
                f"the forwarding state {path} is not valid ({exc}); remove it or pass --restart"
            ) from exc

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".forward-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.as_dict(), fh)
                fh.flush()
                os.fsync(fh.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class Forwarder:
    """Sends the events of ``trail`` after the saved position with ``send`` (see the module doc)."""

    def __init__(
        self,
        trail: str | os.PathLike[str],
        send: Callable[[AuditEvent], None],
        state_path: str | os.PathLike[str],
        *,
        restart: bool = False,
        save_every: int = 100,
    ) -> None:
        self.trail = Path(trail)
        self.reader = TrailReader(self.trail)
        self.send = send
        self.state_path = Path(state_path)
        self.save_every = max(1, save_every)
        key = str(self.trail.resolve())
        state = None if restart else ForwardState.load(self.state_path)
        if state is not None and state.trail != key:
            raise ForwardError(
                f"the forwarding state {self.state_path} belongs to {state.trail}, not {key}; "
                "use another --state file or --restart"
            )
        self.state = state or ForwardState(key, Position())

    @property
    def position(self) -> Position:
        return self.state.position

    def run(self, limit: int | None = None, *, should_stop: Callable[[], bool] | None = None) -> int:
        """Forward what is there now (at most ``limit`` events, until ``should_stop()``); the number sent.
        The position is saved whatever happens: an event is counted only once ``send`` returned."""
        sent = 0
        state = self.state
        first = True
        try:
            for position, event in self.reader.read(state.position):
                if (limit is not None and sent >= limit) or (should_stop is not None and should_stop()):
                    break
                if first and state.position.hash is not None and event.prev_hash != state.position.hash:
                    raise ForwardError(
                        f"{self.trail} does not continue where forwarding stopped (event {event.sequence} "
                        f"does not link to the last forwarded event {state.position.sequence}): the trail was "
                        "truncated, rotated or replaced; check it, then use --restart"
                    )
                first = False
                self.send(event)
                sent += 1
                state = ForwardState(state.trail, position, state.forwarded + 1)
                if sent % self.save_every == 0:
                    state.save(self.state_path)
                    self.state = state
        finally:
            if state is not self.state or not self.state_path.exists():
                state.save(self.state_path)
                self.state = state
        return sent
