"""The hook daemon end to end: a real daemon process on a temp socket, the real launcher as the hook."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon_support import ALLOWED, DEADLINE_S, DENIED, Env

from agent_security.adapters.daemon.protocol import PROTOCOL_VERSION, dumps, loads


def test_daemon_answers_as_the_in_process_check_does(denv: Env) -> None:
    in_process = [denv.hook(p) for p in (ALLOWED, DENIED)]
    daemon = denv.serve()
    served = [denv.hook(p) for p in (ALLOWED, DENIED)]
    for (code_a, body_a, _), (code_b, body_b, _) in zip(in_process, served, strict=True):
        assert code_a == code_b
        assert {k: v for k, v in body_a.items() if k != "pid"} == {k: v for k, v in body_b.items() if k != "pid"}
        assert body_a["pid"] != daemon.pid and body_b["pid"] == daemon.pid
    assert served[0][0] == 0 and served[0][1]["codes"] == ["ALLOW_DEV_STAGING"]
    assert served[1][0] == 2 and served[1][1]["codes"] == ["DENY_BULK_EXPORT"]


def test_a_policy_edit_takes_effect_at_once_and_the_stale_daemon_exits(denv: Env) -> None:
    daemon = denv.serve()
    code, body, _ = denv.hook(ALLOWED)
    assert code == 0 and body["pid"] == daemon.pid
    policy = json.loads(denv.policy.read_text())
    policy["rules"].insert(
        0, {"id": "DENY_EDITED", "match": {"tool_name": "query_database", "environment": "*"}, "outcome": "DENY"}
    )
    denv.policy.write_text(json.dumps(policy))
    code, body, _ = denv.hook(ALLOWED)
    assert code == 2 and body["codes"] == ["DENY_EDITED"] and body["pid"] != daemon.pid
    assert daemon.proc.wait(timeout=DEADLINE_S) == 0
    assert not Path(denv.paths.socket).exists()


def test_a_config_edit_is_stale_too(denv: Env) -> None:
    daemon = denv.serve()
    denv.write_config('daemon = "manual"\ndaemon_idle_timeout_s = 77')
    code, body, _ = denv.hook(ALLOWED)
    assert code == 0 and body["pid"] != daemon.pid
    assert daemon.proc.wait(timeout=DEADLINE_S) == 0


def test_a_killed_daemon_means_an_in_process_check(denv: Env) -> None:
    daemon = denv.serve()
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait(timeout=DEADLINE_S)
    assert Path(denv.paths.socket).exists()  # left behind: connecting is refused
    code, body, _ = denv.hook(DENIED)
    assert code == 2 and body["codes"] == ["DENY_BULK_EXPORT"] and body["pid"] != daemon.pid


class FakeDaemon:
    """A hostile or broken daemon on the real socket path: ``behaviour(conn)`` runs per connection."""

    def __init__(self, path: str, behaviour: object) -> None:
        Path(path).parent.mkdir(mode=0o700, exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.behaviour = behaviour
        self.connections = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                try:
                    self.behaviour(conn)  # type: ignore[operator]
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


def _read_request(conn: socket.socket) -> None:
    size = int.from_bytes(conn.recv(4), "big")
    got = 0
    while got < size:
        chunk = conn.recv(size - got)
        if not chunk:
            return
        got += len(chunk)


def _frame(obj: object) -> bytes:
    data = json.dumps(obj).encode()
    return len(data).to_bytes(4, "big") + data


@pytest.mark.parametrize(
    "reply",
    [
        None,  # killed mid-call: the request is read, the connection closed unanswered
        b'\x00\x00\x00\x05{"a"',  # a short frame
        b"\xff\xff\xff\xff",  # an oversized frame
        _frame([1, 2]),  # not an object
        _frame({"status": "ok", "answer": {"stdout": "", "stderr": "", "exit_code": 1}}),  # exit 1 runs the tool
        _frame({"status": "ok", "answer": {"stdout": "{}", "stderr": ""}}),  # no exit code
        _frame({"status": "whatever"}),
        b"garbage!",
    ],
)
def test_a_broken_daemon_means_an_in_process_check_never_a_pass(denv: Env, reply: bytes | None) -> None:
    def behave(conn: socket.socket) -> None:
        _read_request(conn)
        if reply is not None:
            conn.sendall(reply)

    fake = FakeDaemon(denv.paths.socket, behave)
    try:
        code, body, _ = denv.hook(DENIED)
    finally:
        fake.close()
    assert fake.connections == 1
    assert code == 2 and body["codes"] == ["DENY_BULK_EXPORT"] and body["pid"] != os.getpid()


def test_a_daemon_that_does_not_answer_in_time_means_an_in_process_check(denv: Env) -> None:
    release = threading.Event()

    def hang(conn: socket.socket) -> None:
        _read_request(conn)
        release.wait(DEADLINE_S)

    fake = FakeDaemon(denv.paths.socket, hang)
    try:
        code, body, _ = denv.hook(DENIED, AGENT_SECURITY_DAEMON_TIMEOUT="0.3")
    finally:
        release.set()
        fake.close()
    assert code == 2 and body["codes"] == ["DENY_BULK_EXPORT"]


def _raw_exchange(path: str, payload: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(DEADLINE_S)
        s.connect(path)
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:  # the daemon closed with our bytes unread
            pass
    return b"".join(chunks)


def test_a_hostile_client_is_refused_and_the_daemon_keeps_serving(denv: Env) -> None:
    daemon = denv.serve()
    path = denv.paths.socket
    oversized = _raw_exchange(path, (1 << 30).to_bytes(4, "big") + b"x" * 100)
    assert oversized == b"" or b"exceeds the limit" in oversized
    for payload, detail in [
        (b"\x00\x00\x00\x03abc", "malformed request"),
        (_frame([1]), "malformed request"),
        (_frame({"v": PROTOCOL_VERSION, "op": "nope"}), "unknown op"),
        (_frame({"v": 99, "op": "ping"}), "protocol version"),
        (_frame({"v": PROTOCOL_VERSION, "op": "hook", "host": "test-host", "raw": "!!", "identity": {}}), "base64"),
        (_frame({"v": PROTOCOL_VERSION, "op": "hook", "host": "test-host", "raw": "e30=", "identity": {}}), "another"),
    ]:
        answer = _raw_exchange(path, payload)
        body = loads(answer[4:].decode())
        assert body["status"] in ("refused", "mismatch") and detail in body["detail"], body
    assert b"refused" in _raw_exchange(path, b"\x00\x00")  # a short header
    code, body, _ = denv.hook(ALLOWED)
    assert code == 0 and body["pid"] == daemon.pid


def test_a_socket_directory_of_another_mode_is_refused(denv: Env) -> None:
    daemon = denv.serve()
    directory = Path(denv.paths.directory)
    directory.chmod(0o755)
    try:
        code, body, _ = denv.hook(ALLOWED)
        assert code == 0 and body["pid"] != daemon.pid  # answered, but not by the daemon
        other = denv.start("--idle-timeout", "30")
        assert other.wait(timeout=DEADLINE_S) != 0
        assert other.stderr is not None and b"mode 755" in other.stderr.read()
    finally:
        directory.chmod(0o700)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_socket_directory_of_another_owner_is_refused(denv: Env) -> None:
    daemon = denv.serve()
    directory = Path(denv.paths.directory)
    os.chown(directory, 12345, -1)
    try:
        code, body, _ = denv.hook(ALLOWED)
        assert code == 0 and body["pid"] != daemon.pid
    finally:
        os.chown(directory, 0, -1)


def test_two_daemons_never_serve_one_socket(denv: Env) -> None:
    first, second = denv.start("--idle-timeout", "60"), denv.start("--idle-timeout", "60")
    deadline = time.monotonic() + DEADLINE_S
    while first.poll() is None and second.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    exited, running = (first, second) if first.poll() is not None else (second, first)
    assert exited.returncode == 0 and exited.stderr is not None and b"another daemon serves" in exited.stderr.read()
    while time.monotonic() < deadline:
        reply = denv.ping()
        if reply is not None:
            break
        time.sleep(0.02)
    assert reply is not None and reply["pid"] == running.pid and running.poll() is None


def test_many_clients_at_once(denv: Env) -> None:
    daemon = denv.serve()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: denv.hook(ALLOWED if i % 2 else DENIED), range(16)))
    for i, (code, body, _) in enumerate(results):
        assert body["pid"] == daemon.pid
        assert (code, body["codes"]) == ((0, ["ALLOW_DEV_STAGING"]) if i % 2 else (2, ["DENY_BULK_EXPORT"]))


def test_an_idle_daemon_exits_and_cleans_up(denv: Env) -> None:
    daemon = denv.serve("--idle-timeout", "0.5")
    assert daemon.proc.wait(timeout=DEADLINE_S) == 0
    assert daemon.proc.stderr is not None and b"idle" in daemon.proc.stderr.read()
    assert not Path(denv.paths.socket).exists() and not Path(denv.paths.pid).exists()


def test_sigterm_stops_it_gracefully(denv: Env) -> None:
    daemon = denv.serve()
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=DEADLINE_S) == 0
    assert not Path(denv.paths.socket).exists()


def test_the_first_hook_call_starts_a_daemon_when_the_config_says_auto(denv: Env) -> None:
    denv.write_config('daemon = "auto"\ndaemon_idle_timeout_s = 30')
    code, body, _ = denv.hook(ALLOWED)
    assert code == 0 and body["pid"] != os.getpid()
    deadline = time.monotonic() + DEADLINE_S
    reply = None
    while reply is None and time.monotonic() < deadline:
        reply = denv.ping()
        time.sleep(0.02)
    assert reply is not None
    pid = reply["pid"]
    denv_stop = subprocess.run(
        [sys.executable, "-m", "agent_security.adapters.daemon", "serve", "--stop"],
        env=denv.env,
        cwd=denv.root,
        capture_output=True,
        timeout=DEADLINE_S,
        check=False,
    )
    assert denv_stop.returncode == 0, denv_stop.stderr
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
        raise AssertionError("the started daemon did not stop")


def test_manual_and_off_start_nothing(denv: Env) -> None:
    for setting in ('daemon = "manual"', 'daemon = "off"'):
        denv.write_config(setting)
        code, _, _ = denv.hook(ALLOWED)
        assert code == 0
        assert not Path(denv.paths.socket).exists() and not Path(denv.paths.lock).exists()
    denv.write_config('daemon = "off"')
    refused = denv.start()
    assert refused.wait(timeout=DEADLINE_S) == 1
    assert refused.stderr is not None and b'daemon = "off"' in refused.stderr.read()


def test_oversized_hook_input_is_blocked(denv: Env) -> None:
    code, body, err = denv.hook(b"x" * (10 * 1024 * 1024 + 1))
    assert code == 2 and body == {} and "exceeds" in err


def test_the_json_codec_matches_json() -> None:
    for value in [{"a": [1, 2.5, None, True, False, '\u00e9\ud800\n"\\'], "b": {}}, {}, {"n": -(2**70)}]:
        text = dumps(value)
        assert json.loads(text) == value and loads(text) == value
    for bad in ["{", "{}x", "NaN", "[1,]", "", "  ", '{"a":1}{}', "[" * 100_000]:
        with pytest.raises(Exception, match="JSON"):
            loads(bad)
