"""``agent-security serve``: one warm pipeline answering hook calls on a user-only unix socket.

* **The socket is the user's own.** Its directory (:mod:`.paths`) is created 0700 and checked (type,
  owner, mode) before use; the socket is 0600; each connection's peer uid is checked with ``SO_PEERCRED``
  where the platform has it (Linux), and a connection from another uid is closed unanswered.
* **One daemon per socket.** The daemon holds an exclusive ``flock`` on ``<key>.lock`` for its lifetime
  and only then replaces a leftover socket file; a second daemon for the same selection exits at once.
* **Bounded.** Frames are length-prefixed JSON (:mod:`.protocol`) of at most 16 MiB in and 4 MiB out;
  each connection has a deadline (``request_timeout``) for reading, checking and writing; at most
  ``max_clients`` connections are served at once (each on its own thread; the pipeline is thread-safe),
  further ones are closed, and their clients check in-process.
* **Fresh or silent.** Every hook request carries the client's identity (:mod:`.freshness`); a daemon
  whose view differs answers ``mismatch`` or ``changed`` (and then exits), never a decision.
* **Goes away.** SIGTERM, SIGINT, a ``shutdown`` request or ``idle_timeout`` seconds without a request
  stop it gracefully: no new connections, in-flight ones finished, the pipeline and store closed, socket
  and pid file removed.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import os
import select
import signal
import socket
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from agent_security.adapters.daemon.client import peer_uid
from agent_security.adapters.daemon.freshness import client_identity, compare, digest_files, selection_key
from agent_security.adapters.daemon.instance import HookPipeline, build_pipeline, daemon_setting
from agent_security.adapters.daemon.paths import DaemonPaths, daemon_paths, make_private_dir
from agent_security.adapters.daemon.protocol import (
    MAX_ANSWER,
    MAX_REQUEST,
    PROTOCOL_VERSION,
    ProtocolError,
    recv_message,
    send_message,
)
from agent_security.adapters.hooks.answer import HookAnswer

__all__ = ["DEFAULT_IDLE_TIMEOUT_S", "DEFAULT_REQUEST_TIMEOUT_S", "AlreadyServing", "DaemonServer", "serve"]

DEFAULT_IDLE_TIMEOUT_S = 900.0
DEFAULT_REQUEST_TIMEOUT_S = 10.0
DEFAULT_MAX_CLIENTS = 32


class AlreadyServing(Exception):
    """Another daemon holds the lock of this socket."""


class DaemonServer:
    """A bound, locked daemon; :meth:`serve_forever` answers until stopped, then cleans up."""

    def __init__(
        self,
        pipeline: HookPipeline,
        identity: dict[str, Any],
        paths: DaemonPaths,
        lock_fd: int,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
        max_clients: int = DEFAULT_MAX_CLIENTS,
    ) -> None:
        self.pipeline = pipeline
        self.identity = identity
        self.paths = paths
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.files = digest_files(pipeline.files)
        self._lock_fd = lock_fd
        self._slots = threading.BoundedSemaphore(max_clients)
        self._threads: set[threading.Thread] = set()
        self._guard = threading.Lock()
        self._last_request = time.monotonic()
        self._stop = threading.Event()
        self.stop_reason = ""
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        # a leftover of a daemon that died: we hold the lock, nobody serves it
        Path(paths.socket).unlink(missing_ok=True)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            self._listener.bind(paths.socket)
        finally:
            os.umask(old)
        Path(paths.socket).chmod(0o600)
        self._listener.listen(64)
        self._listener.setblocking(False)
        _write_private(paths.pid, f"{os.getpid()}\n")

    # -- lifecycle -------------------------------------------------------------------------------------

    def stop(self, reason: str) -> None:
        """Ask the loop to stop (from any thread or a signal handler)."""
        if not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def serve_forever(self) -> str:
        """Answer until stopped; returns why it stopped."""
        try:
            while not self._stop.is_set():
                with self._guard:
                    idle_left = self._last_request + self.idle_timeout - time.monotonic()
                    busy = bool(self._threads)
                if idle_left <= 0 and not busy:
                    self.stop(f"idle for {self.idle_timeout:g} s")
                    break
                listener = self._listener.fileno()
                ready, _, _ = select.select([listener, self._wake_r], [], [], max(idle_left, 0.05))
                if listener in ready:
                    self._accept()
        finally:
            self._close()
        return self.stop_reason

    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        if not self._slots.acquire(blocking=False):
            conn.close()  # too many at once: that client checks in-process
            return
        thread = threading.Thread(target=self._serve_connection, args=(conn,), daemon=True)
        with self._guard:
            self._threads.add(thread)
            self._last_request = time.monotonic()
        thread.start()

    def _close(self) -> None:
        self._listener.close()
        for path in (self.paths.socket, self.paths.pid):
            Path(path).unlink(missing_ok=True)
        deadline = time.monotonic() + self.request_timeout
        with self._guard:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        try:
            self.pipeline.close()
        finally:
            os.close(self._wake_r)
            os.close(self._wake_w)
            os.close(self._lock_fd)  # releases the flock

    # -- one connection ----------------------------------------------------------------------------------

    def _serve_connection(self, conn: socket.socket) -> None:
        try:
            with conn:
                conn.setblocking(True)
                uid = peer_uid(conn)
                if uid is not None and uid != os.geteuid():
                    return  # another user's process: no answer at all
                deadline = time.monotonic() + self.request_timeout
                try:
                    request = recv_message(conn, limit=MAX_REQUEST, deadline=deadline)
                    reply = self.handle(request)
                except ProtocolError as exc:
                    reply = {"status": "refused", "detail": f"malformed request: {exc}"}
                send_message(conn, reply, limit=MAX_ANSWER, deadline=deadline)
        except (OSError, ProtocolError):
            pass  # the client went away or was too slow; it checks in-process
        finally:
            with self._guard:
                self._threads.discard(threading.current_thread())
                self._last_request = time.monotonic()
            self._slots.release()

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """The reply to one well-framed request."""
        if request.get("v") != PROTOCOL_VERSION:
            return {"status": "refused", "detail": f"protocol version {request.get('v')!r} is not {PROTOCOL_VERSION}"}
        op = request.get("op")
        if op == "ping":
            return {"status": "ok", "pid": os.getpid(), "identity": self.identity}
        if op == "shutdown":
            self.stop("asked to shut down")
            return {"status": "ok", "pid": os.getpid()}
        if op != "hook":
            return {"status": "refused", "detail": f"unknown op {op!r}"}
        host, raw, identity = request.get("host"), request.get("raw"), request.get("identity")
        if not isinstance(host, str) or not isinstance(raw, str) or not isinstance(identity, dict):
            return {"status": "refused", "detail": "a hook request needs host, raw and identity"}
        try:
            stdin = base64.b64decode(raw.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return {"status": "refused", "detail": "raw is not base64"}
        verdict, why = compare(self.identity, identity, cwd_matters=self.pipeline.cwd_matters, files=self.files)
        if verdict != "fresh":
            if verdict == "changed":
                self.stop(f"stale: {why}")
            return {"status": verdict, "detail": why}
        from agent_security.adapters.hooks.registry import answer_hook

        answer: HookAnswer = answer_hook(host, stdin, self.pipeline.security)
        return {"status": "ok", "answer": answer.to_json()}


def _write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _lock(paths: DaemonPaths) -> int:
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise AlreadyServing(f"another daemon serves {paths.socket}") from None
    return fd


def open_server(
    config_path: str | None = None,
    *,
    idle_timeout: float | None = None,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
    max_clients: int = DEFAULT_MAX_CLIENTS,
) -> DaemonServer:
    """Lock, build the pipeline, bind. Raises :class:`AlreadyServing`, ``UnsafeDirectory``, or what the core
    raises for a bad config or policy; refuses (``RuntimeError``) when the config says ``daemon = "off"``."""
    identity = client_identity(config_path)
    paths = daemon_paths(selection_key(identity))
    make_private_dir(paths.directory)
    lock_fd = _lock(paths)
    try:
        pipeline = build_pipeline(config_path)
    except BaseException:
        os.close(lock_fd)
        raise
    try:
        section = pipeline.settings_raw.get("adapters")
        if daemon_setting(pipeline.settings_raw) == "off":
            raise RuntimeError('the config says [adapters] daemon = "off"')
        if idle_timeout is None:
            configured = section.get("daemon_idle_timeout_s") if isinstance(section, dict) else None
            idle_timeout = float(configured) if isinstance(configured, (int, float)) else DEFAULT_IDLE_TIMEOUT_S
        return DaemonServer(
            pipeline,
            identity,
            paths,
            lock_fd,
            idle_timeout=idle_timeout,
            request_timeout=request_timeout,
            max_clients=max_clients,
        )
    except BaseException:
        pipeline.close()
        os.close(lock_fd)
        raise


def serve(config_path: str | None = None, **options: Any) -> str:
    """Run a daemon in this process until it stops (signals handled when on the main thread)."""
    server = open_server(config_path, **options)
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            server.stop(f"signal {signal.Signals(signum).name}")

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    return server.serve_forever()
