"""The Redis store's subscriber: one thread per store reading its channels, reconnecting after a failure.

The thread owns a ``PUBLISH``/``SUBSCRIBE`` connection. A message is handed to the store's ``deliver``
as soon as it arrives (the thread waits on the socket, it does not poll a table). When the connection
fails (Redis restarted, network lost, a health-check ``PING`` unanswered), the thread reconnects with a
growing delay (50 ms to 1 s), subscribes again to every channel, and calls ``resynced()``: messages
published while it was away are lost, so the store tells every subscriber to read the state again.

:meth:`Listener.add` returns once the server has confirmed the subscription (or after ``timeout_s`` when
it is unreachable: the channel is then subscribed on reconnection), so a message published after
``subscribe`` returns reaches the subscriber.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

__all__ = ["Listener"]

_READ_S = 0.05
"""How long one read waits for a message while holding the connection's lock."""
_FIRST_DELAY_S = 0.05
_MAX_DELAY_S = 1.0


class Listener:
    """A subscriber thread (see the module documentation)."""

    def __init__(
        self,
        make_pubsub: Callable[[], Any],
        deliver: Callable[[str, str], None],
        resynced: Callable[[], None],
        timeout_s: float,
    ) -> None:
        self._make = make_pubsub
        self._deliver = deliver
        self._resynced = resynced
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._channels: dict[str, threading.Event] = {}
        self._pubsub: Any = None
        self._lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reconnects = 0
        """Connections made again after a failure (for tests and diagnostics)."""

    def add(self, channel: str) -> None:
        """Subscribe to ``channel`` (physical name) and wait, at most ``timeout_s``, for the confirmation."""
        with self._lock:
            event = self._channels.get(channel)
            if event is None:
                event = self._channels[channel] = threading.Event()
                if self._pubsub is not None:
                    try:
                        self._pubsub.subscribe(channel)
                    except RedisError:
                        self._drop_locked()
            self._start_locked()
        event.wait(self._timeout_s)

    def _start_locked(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="agent-security-redis-subscriber", daemon=True)
            self._thread.start()

    def _drop_locked(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                self._pubsub.close()
        self._pubsub = None
        self._lost = True
        for event in self._channels.values():
            event.clear()

    def _connect(self) -> bool:
        with self._lock:
            try:
                pubsub = self._make()
                if self._channels:
                    pubsub.subscribe(*self._channels)
                else:
                    pubsub.ping()
            except RedisError:
                return False
            self._pubsub = pubsub
            lost, self._lost = self._lost, False
        if lost:
            self.reconnects += 1
            self._resynced()
        return True

    def _run(self) -> None:
        delay = _FIRST_DELAY_S
        while not self._stop.is_set():
            if self._pubsub is None:
                if not self._connect():
                    self._lost = True
                    self._stop.wait(delay)
                    delay = min(delay * 2, _MAX_DELAY_S)
                    continue
                delay = _FIRST_DELAY_S
            with self._lock:
                pubsub = self._pubsub
                if pubsub is None:
                    continue
                try:
                    message = pubsub.get_message(timeout=_READ_S) if pubsub.subscribed else None
                except (RedisError, OSError, ValueError):
                    self._drop_locked()
                    continue
            if message is None:
                if not pubsub.subscribed:
                    self._stop.wait(_READ_S)
                continue
            kind, channel = message.get("type"), message.get("channel")
            if kind == "subscribe":
                event = self._channels.get(channel)
                if event is not None:
                    event.set()
            elif kind == "message" and isinstance(message.get("data"), str):
                self._deliver(channel, message["data"])

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)
        with self._lock:
            if self._pubsub is not None:
                with contextlib.suppress(Exception):
                    self._pubsub.close()
                self._pubsub = None
