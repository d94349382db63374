"""Local syslog servers for the tests: UDP (one datagram per message), TCP and TLS (octet counting), on a
free loopback port, and an RFC 5424 parser that a test reads received messages back with."""

from __future__ import annotations

import datetime as dt
import ipaddress
import queue
import re
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class SyslogServer:
    """Collects every message it receives in :attr:`messages` (a queue of str)."""

    def __init__(self, transport: str, *, certfile: Path | None = None, keyfile: Path | None = None) -> None:
        self.transport = transport
        self.messages: queue.Queue[str] = queue.Queue()
        kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._context: ssl.SSLContext | None = None
        if transport == "tls":
            assert certfile and keyfile
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.load_cert_chain(certfile, keyfile)
        if kind == socket.SOCK_STREAM:
            self.sock.listen(8)
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._serve, daemon=True)]
        self._threads[0].start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                if self.transport == "udp":
                    data, _ = self.sock.recvfrom(65535)
                    self.messages.put(data.decode("utf-8"))
                    continue
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            t = threading.Thread(target=self._connection, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _connection(self, conn: socket.socket) -> None:
        try:
            if self._context is not None:
                conn.settimeout(5)
                conn = self._context.wrap_socket(conn, server_side=True)
            conn.settimeout(0.2)
            buf = b""
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                buf += chunk
                while b" " in buf:
                    size, _, rest = buf.partition(b" ")
                    if len(rest) < int(size):
                        break
                    self.messages.put(rest[: int(size)].decode("utf-8"))
                    buf = rest[int(size) :]
        except (OSError, ssl.SSLError):
            return
        finally:
            conn.close()

    def take(self, n: int, timeout: float = 10.0) -> list[str]:
        return [self.messages.get(timeout=timeout) for _ in range(n)]

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self.sock.close()


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (``cert.pem``, ``key.pem``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * 30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certfile, keyfile


_HEADER = re.compile(r"<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ")


def parse_5424(message: str) -> dict[str, Any]:
    """The parts of an RFC 5424 message with one SD element; SD values unescaped."""
    m = _HEADER.match(message)
    assert m, message[:200]
    pri, stamp, host, app, procid, msgid = m.groups()
    rest = message[m.end() :]
    assert rest.startswith("[")
    i, sd_id = 1, ""
    while rest[i] != " ":
        sd_id += rest[i]
        i += 1
    params: dict[str, str] = {}
    while rest[i] == " ":
        i += 1
        key = ""
        while rest[i] != "=":
            key += rest[i]
            i += 1
        assert rest[i + 1] == '"'
        i += 2
        value = ""
        while rest[i] != '"':
            if rest[i] == "\\":
                assert rest[i + 1] in '"\\]', 'only ", \\ and ] are escaped'
                value += rest[i + 1]
                i += 2
                continue
            assert rest[i] != "]", "an unescaped ] inside a value"
            value += rest[i]
            i += 1
        params[key] = value
        i += 1
    assert rest[i] == "]"
    body = rest[i + 1 :]
    assert body.startswith(" \ufeff")
    return {
        "pri": int(pri),
        "timestamp": stamp,
        "hostname": host,
        "app": app,
        "procid": procid,
        "msgid": msgid,
        "sd_id": sd_id,
        "params": params,
        "msg": body[2:],
    }
