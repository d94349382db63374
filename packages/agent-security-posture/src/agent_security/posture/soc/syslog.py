"""Syslog (RFC 5424) messages for audit events, and senders over UDP (RFC 5426), TCP and TLS (RFC 5425).

A message is ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG``: the event's kind is the MSGID
(at most 32 printable ASCII characters), the structured data ``[agentsec@<PEN> ...]`` carries the agent,
tool, outcome, event id and sequence (``"``, ``\\`` and ``]`` escaped in values, control characters
replaced), and MSG is the event as JSON (or its CEF line), preceded by the UTF-8 BOM. The default private
enterprise number is 32473, the one RFC 5612 reserves for documentation: set your own.

Over TCP and TLS each message is framed by octet counting (``LEN SP MSG``, RFC 6587 / RFC 5425), so a
newline inside a message can never split it. Over UDP one datagram holds one message, cut to
``max_udp_bytes`` (2048 by default, RFC 5426's safe size).

``open_sender("syslog://host:514")`` (UDP), ``syslog+tcp://host:6514``, ``syslog+tls://host:6514?ca=
/path/ca.pem`` (``cert=`` and ``key=`` for a client certificate); a TLS server is always verified (its
certificate against ``ca`` or the system store, its name against the host).
"""

from __future__ import annotations

import functools
import os
import re
import socket
import ssl
from datetime import UTC
from typing import Literal, cast
from urllib.parse import parse_qs, urlsplit

from agent_security.core.models import AuditEvent
from agent_security.posture.soc.cef import to_cef
from agent_security.posture.soc.severity import syslog_severity

__all__ = ["SyslogSender", "format_syslog", "open_sender"]

Transport = Literal["udp", "tcp", "tls"]
FACILITY_LOG_AUDIT = 13
_BOM = "\ufeff"
_PRINTABLE = re.compile(r"[^\x21-\x7e]")
_SD_TABLE = str.maketrans(
    dict.fromkeys([*range(0x20), 0x7F], " ") | {ord("\\"): "\\\\", ord('"'): '\\"', ord("]"): "\\]"}
)
"""An SD-PARAM value: ``"``, ``\\`` and ``]`` escaped (RFC 5424 6.3.3), control characters spaces."""
MAX_TCP_BYTES = 64 * 1024


def _token(value: str, limit: int) -> str:
    """A header field: printable ASCII without spaces, at most ``limit`` characters, ``-`` when empty."""
    value = _PRINTABLE.sub("_", value)[:limit]
    return value or "-"


@functools.lru_cache(maxsize=1)
def _hostname() -> str:
    return socket.gethostname()


def _sd_value(value: str) -> str:
    return value[:1024].translate(_SD_TABLE)


def format_syslog(
    event: AuditEvent,
    *,
    hostname: str | None = None,
    app_name: str = "agent-security",
    procid: str | None = None,
    facility: int = FACILITY_LOG_AUDIT,
    enterprise: int = 32473,
    payload: Literal["json", "cef"] = "json",
) -> str:
    """One RFC 5424 message (no trailing newline)."""
    if not 0 <= facility <= 23:
        raise ValueError("the syslog facility is 0-23")
    pri = facility * 8 + syslog_severity(event)
    when = event.timestamp if event.timestamp.tzinfo else event.timestamp.replace(tzinfo=UTC)
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}Z"
    host = _token(hostname if hostname is not None else _hostname(), 255)
    params = [
        ("kind", event.kind),
        ("agent", event.agent_id),
        ("tool", event.tool_name),
        ("outcome", event.outcome.value if event.outcome is not None else None),
        ("reason", ",".join(r.code for r in event.reasons) or None),
        ("event", event.event_id),
        ("request", event.request_id),
        ("seq", str(event.sequence)),
    ]
    sd = "[agentsec@{} {}]".format(
        int(enterprise), " ".join(f'{k}="{_sd_value(v)}"' for k, v in params if v is not None)
    )
    body = to_cef(event) if payload == "cef" else event.model_dump_json()
    header = (
        f"<{pri}>1 {stamp} {host} {_token(app_name, 48)} {_token(procid or str(os.getpid()), 128)} "
        f"{_token(event.kind, 32)}"
    )
    return f"{header} {sd} {_BOM}{body}"


class SyslogSender:
    """Sends messages to one syslog server. Not thread-safe: one sender per forwarder."""

    def __init__(
        self,
        host: str,
        port: int,
        transport: Transport = "udp",
        *,
        ca: str | None = None,
        cert: str | None = None,
        key: str | None = None,
        timeout_s: float = 10.0,
        max_udp_bytes: int = 2048,
    ) -> None:
        if transport not in ("udp", "tcp", "tls"):
            raise ValueError(f"unknown syslog transport {transport!r}")
        self.host, self.port, self.transport = host, port, transport
        self.timeout_s = timeout_s
        self.max_udp_bytes = max_udp_bytes
        self._context: ssl.SSLContext | None = None
        if transport == "tls":
            self._context = ssl.create_default_context(cafile=ca)
            self._context.minimum_version = ssl.TLSVersion.TLSv1_2
            if cert:
                self._context.load_cert_chain(cert, key)
        self._sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        if self._sock is not None:
            return self._sock
        if self.transport == "udp":
            family = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0][0]
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.connect((self.host, self.port))
        else:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
            if self._context is not None:
                sock = self._context.wrap_socket(sock, server_hostname=self.host)
        sock.settimeout(self.timeout_s)
        self._sock = sock
        return sock

    def send(self, message: str) -> None:
        """Send one message; raises :class:`OSError` when it could not be handed to the network."""
        data = message.encode("utf-8")
        sock = self._connect()
        try:
            if self.transport == "udp":
                if len(data) > self.max_udp_bytes:  # cut on a character boundary
                    data = data[: self.max_udp_bytes].decode("utf-8", "ignore").encode("utf-8")
                sock.send(data)
            else:
                if len(data) > MAX_TCP_BYTES:
                    data = data[:MAX_TCP_BYTES].decode("utf-8", "ignore").encode("utf-8")
                sock.sendall(str(len(data)).encode() + b" " + data)
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        """Close the connection so that nothing sent is lost: TLS ends with close_notify, then the write
        side is shut and the server's close awaited (at most a second). Closing a socket that still holds
        unread data (TLS 1.3 session tickets) would send a reset, and a reset makes the server's kernel
        drop messages it has not read yet."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        try:
            if self.transport != "udp":
                sock.settimeout(min(1.0, self.timeout_s))
                if isinstance(sock, ssl.SSLSocket):
                    sock = sock.unwrap()
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(4096):
                    pass
        except OSError:  # the server closed first, or did not answer in time: nothing more to do
            pass
        finally:
            sock.close()

    def __enter__(self) -> SyslogSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_sender(url: str, *, timeout_s: float = 10.0) -> SyslogSender:
    """A sender from ``syslog://host:port`` (UDP), ``syslog+tcp://`` or ``syslog+tls://`` (see the module
    documentation); ``?transport=udp|tcp|tls`` works too."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    transports = {"syslog": "udp", "syslog+udp": "udp", "syslog+tcp": "tcp", "syslog+tls": "tls"}
    if scheme not in transports or not parts.hostname:
        raise ValueError(f"not a syslog URL: {url!r} (syslog://host:port, syslog+tcp://..., syslog+tls://...)")
    transport = query.get("transport", transports[scheme])
    if transport not in ("udp", "tcp", "tls"):
        raise ValueError(f"unknown syslog transport {transport!r}")
    port = parts.port or (6514 if transport == "tls" else 514)
    return SyslogSender(
        parts.hostname,
        port,
        cast(Transport, transport),
        ca=query.get("ca"),
        cert=query.get("cert"),
        key=query.get("key"),
        timeout_s=timeout_s,
    )
