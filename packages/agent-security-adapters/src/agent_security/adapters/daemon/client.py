"""The hook's client: ask the daemon, or say why not (the caller then checks in-process).

Standard library only, and only its cheapest parts (``_socket``, ``binascii``, ``_json`` through
:mod:`.protocol`; not ``socket``, ``json``, ``base64``, ``hashlib``, ``dataclasses`` or ``typing``, each of
which costs milliseconds): importing it costs about one millisecond, where the core costs hundreds.
:func:`ask_daemon` never raises and never returns a
pass of its own making: it returns the daemon's answer only when the daemon is the user's own (directory,
socket and peer uid checked), fresh (:mod:`.freshness`), in time and well-formed; in every other case it
returns ``None`` with the reason, and the caller answers in-process.

``AGENT_SECURITY_DAEMON=off`` skips the daemon; ``AGENT_SECURITY_DAEMON_TIMEOUT`` (seconds, default 2) is
the whole round trip's deadline, well under the hosts' hook timeouts (Claude Code and Cursor: 10 s or
more as installed), so a slow daemon still leaves time for the in-process check.
"""

from __future__ import annotations

import _socket
import binascii
import os
import sys
import time

from agent_security.adapters.daemon.freshness import ConfigUnresolved, client_identity, selection_key
from agent_security.adapters.daemon.paths import (
    DaemonPaths,
    UnsafeDirectory,
    check_private_dir,
    check_socket,
    daemon_paths,
)
from agent_security.adapters.daemon.protocol import (
    MAX_ANSWER,
    MAX_REQUEST,
    PROTOCOL_VERSION,
    ProtocolError,
    recv_message,
    send_message,
)
from agent_security.adapters.hooks.answer import EXIT_BLOCK, HookAnswer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from socket import socket
    from typing import Any

__all__ = ["DEFAULT_TIMEOUT_S", "DaemonReply", "ask_daemon", "client_timeout", "peer_uid", "request_daemon"]

DEFAULT_TIMEOUT_S = 2.0
MODE_ENV = "AGENT_SECURITY_DAEMON"
TIMEOUT_ENV = "AGENT_SECURITY_DAEMON_TIMEOUT"
_PEERCRED_SIZE = 12  # struct ucred: pid, uid, gid (three C ints)


class DaemonReply:
    """The daemon's answer, or ``None`` and why there is none: ``status`` is ``ok``, ``off``, ``config``,
    ``down``, ``unsafe``, ``mismatch``, ``changed``, ``timeout``, ``malformed``, ``refused`` or ``error``."""

    __slots__ = ("answer", "detail", "identity", "paths", "status")

    def __init__(
        self,
        answer: HookAnswer | None,
        status: str,
        detail: str = "",
        paths: DaemonPaths | None = None,
        identity: dict[str, Any] | None = None,
    ) -> None:
        self.answer, self.status, self.detail = answer, status, detail
        self.paths, self.identity = paths, identity or {}

    def __repr__(self) -> str:
        return f"DaemonReply(status={self.status!r}, detail={self.detail!r}, answer={self.answer!r})"


def client_timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if 0 < value <= 60 else DEFAULT_TIMEOUT_S


def peer_uid(sock: socket | _socket.socket) -> int | None:
    """The uid of the process at the other end of a unix socket (Linux ``SO_PEERCRED``), else ``None``."""
    option = getattr(_socket, "SO_PEERCRED", None)
    if option is None:
        return None
    cred = sock.getsockopt(_socket.SOL_SOCKET, option, _PEERCRED_SIZE)
    return int.from_bytes(cred[4:8], sys.byteorder, signed=True)


def request_daemon(paths: DaemonPaths, message: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One request to the daemon at ``paths``, checked to be the user's own; raises on any failure."""
    check_private_dir(paths.directory)
    check_socket(paths.socket)
    deadline = time.monotonic() + timeout
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(paths.socket)
        uid = peer_uid(sock)
        if uid is not None and uid != os.geteuid():
            raise UnsafeDirectory(f"the daemon runs as uid {uid}, not as this user ({os.geteuid()})")
        send_message(sock, message, limit=MAX_REQUEST, deadline=deadline)  # type: ignore[arg-type]
        return recv_message(sock, limit=MAX_ANSWER, deadline=deadline)  # type: ignore[arg-type]
    finally:
        sock.close()


def _answer_of(data: object) -> HookAnswer | None:
    """The daemon's answer when it is well-formed and one a hook may give (exit 0 or 2), else ``None``."""
    if not isinstance(data, dict):
        return None
    stdout, stderr, code = data.get("stdout"), data.get("stderr"), data.get("exit_code")
    if not isinstance(stdout, str) or not isinstance(stderr, str) or type(code) is not int:
        return None
    if code not in (0, EXIT_BLOCK):
        return None
    return HookAnswer(stdout=stdout, stderr=stderr, exit_code=code)


def ask_daemon(host: str, raw: bytes, *, config_path: str | None = None, timeout: float | None = None) -> DaemonReply:
    """The daemon's answer to one hook call, or ``None`` with the reason. Never raises."""
    if os.environ.get(MODE_ENV, "").strip().lower() == "off":
        return DaemonReply(None, "off", f"{MODE_ENV}=off")
    try:
        identity = client_identity(config_path)
    except ConfigUnresolved as exc:
        return DaemonReply(None, "config", str(exc))
    except Exception as exc:
        return DaemonReply(None, "error", f"{type(exc).__name__}: {exc}")
    paths = daemon_paths(selection_key(identity))
    reply = DaemonReply(None, "error", paths=paths, identity=identity)
    message = {
        "v": PROTOCOL_VERSION,
        "op": "hook",
        "host": host,
        "raw": binascii.b2a_base64(raw, newline=False).decode("ascii"),
        "identity": identity,
    }
    try:
        data = request_daemon(paths, message, client_timeout() if timeout is None else timeout)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        reply.status, reply.detail = "down", str(exc)
        return reply
    except UnsafeDirectory as exc:
        reply.status, reply.detail = "unsafe", str(exc)
        return reply
    except TimeoutError as exc:
        reply.status, reply.detail = "timeout", str(exc) or "no answer in time"
        return reply
    except ProtocolError as exc:
        reply.status, reply.detail = "malformed", str(exc)
        return reply
    except Exception as exc:  # OSError (reset, broken pipe), anything else: check in-process
        reply.status, reply.detail = "error", f"{type(exc).__name__}: {exc}"
        return reply
    status = data.get("status")
    if status == "ok":
        answer = _answer_of(data.get("answer"))
        if answer is None:
            reply.status, reply.detail = "malformed", "the daemon's answer is not a hook answer"
            return reply
        reply.answer, reply.status = answer, "ok"
        return reply
    reply.status = status if status in ("mismatch", "changed", "refused") else "malformed"
    detail = data.get("detail")
    reply.detail = detail if isinstance(detail, str) else ""
    return reply
