"""``rediss://``: the store over TLS, against a real redis-server listening with a certificate of a test CA."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from _redis_server import free_port
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agent_security.core import AgentSecurity, Decision
from agent_security.core.builtin import kill_switch, rate_limiter
from agent_security.core.errors import StoreUnavailable
from agent_security.core.store import open_store
from agent_security.core.testing import StaticEngine


def _write_pem(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _certificates(directory: Path) -> tuple[str, str, str]:
    """A CA and a server certificate for 127.0.0.1 signed by it: ``(ca.pem, server.pem, server.key)``."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agent-security test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return (
        _write_pem(directory / "ca.pem", ca.public_bytes(pem)),
        _write_pem(directory / "server.pem", cert.public_bytes(pem)),
        _write_pem(
            directory / "server.key",
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        ),
    )


@pytest.fixture
def tls_redis(tmp_path: Path, system_program: Callable[[str], str]) -> Iterator[tuple[int, str]]:
    ca, cert, key = _certificates(tmp_path)
    port = free_port()
    args = [
        system_program("redis-server"),
        "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
        "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no",
        "--save", "", "--appendonly", "no", "--dir", str(tmp_path),
    ]  # fmt: skip
    log = (tmp_path / "redis.log").open("ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    client = redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=ca, socket_timeout=1)
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.RedisError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "redis.log").read_text()
                time.sleep(0.01)  # waiting for the server to listen, not to pass
        yield port, ca
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def test_rediss_verifies_the_server_and_shares_the_state(tls_redis: tuple[int, str]) -> None:
    port, ca = tls_redis
    store = open_store(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}&timeout_s=2")
    engine = StaticEngine(lambda r: Decision.allow("OK"))
    security = AgentSecurity(policy_engine=engine, store=store, plugins=[kill_switch(), rate_limiter(1)])
    first = security.check_tool_call(tool_name="t", agent_id="a")
    second = security.check_tool_call(tool_name="t", agent_id="a")
    assert first.allowed and second.final_decision.reasons[0].code == "RATE_LIMIT_AGENT"
    security.shutdown()
    store.close()
    # Without the CA the server's certificate is refused: the store is unavailable, never unverified.
    untrusted = open_store(f"rediss://127.0.0.1:{port}/0?timeout_s=2")
    with pytest.raises(StoreUnavailable):
        untrusted.get("k")
    untrusted.close()
