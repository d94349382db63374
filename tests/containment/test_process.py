"""SandboxManager.run: a real bubblewrap sandbox on this machine (make system-deps installs bubblewrap)."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent_security.containment import SandboxManager, SandboxUnavailable
from agent_security.containment import process as process_module


@pytest.fixture
def bwrap(system_program: Callable[[str], str]) -> str:
    path = system_program("bwrap")
    ok, why = process_module.backend_status()
    assert ok, why
    return path


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the sandbox's user (nobody, when the suite runs as root) may reach and write."""
    path = Path(tempfile.mkdtemp(prefix="as-sandbox-", dir="/tmp"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run(command: list[str] | str, **profile: object) -> process_module.SandboxResult:
    return SandboxManager().run(command, {"timeout_s": 20, **profile})


def test_private_view_cleared_environment_and_no_root(
    bwrap: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "s3cret")
    monkeypatch.setenv("APP_MODE", "demo")
    (shared_dir / "in.txt").write_text("hello")
    result = run(
        "ls /; cat in.txt; echo; env; id -u; "
        "test -e /work && echo work-visible; test -e /root && echo root-visible; true",
        read_paths=[str(shared_dir)],
        workdir=str(shared_dir),
        allowed_env_vars=["APP_*"],
    )
    assert result.success, result.stderr
    lines = result.stdout.splitlines()
    assert set(lines[: lines.index("hello")]) <= {
        "bin",
        "dev",
        "etc",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "proc",
        "sbin",
        "tmp",
        "usr",
    }
    assert "hello" in lines and "APP_MODE=demo" in lines
    assert "s3cret" not in result.stdout and "work-visible" not in lines and "root-visible" not in lines
    assert "0" not in lines  # never root inside
    assert result.backend == "bubblewrap" and result.sandbox_type == "process"
    assert result.resource_usage["max_rss_kb"] > 0


def test_write_paths_are_writable_read_paths_are_not_denied_paths_are_hidden(bwrap: str, shared_dir: Path) -> None:
    out, data = shared_dir / "out", shared_dir / "data"
    out.mkdir()
    data.mkdir()
    (data / "secret").mkdir()
    (data / "secret" / "key").write_text("k")
    (data / "public.txt").write_text("p\n")
    (data / "public.txt").chmod(0o666)  # writable by anyone: only the read-only mount stops a write
    for d in (out, data, data / "secret"):
        d.chmod(0o777)
    result = run(
        f"echo made > {out}/new.txt && cat {data}/public.txt && "
        f"(echo x > {data}/public.txt 2>/dev/null && echo wrote-read-only || echo read-only) && "
        f"(cat {data}/secret/key 2>/dev/null || echo secret-hidden)",
        read_paths=[str(data)],
        write_paths=[str(out)],
        denied_paths=[str(data / "secret")],
    )
    assert result.success, result.stderr
    assert result.stdout.split() == ["p", "read-only", "secret-hidden"]
    assert (out / "new.txt").read_text() == "made\n"
    assert (data / "public.txt").read_text() == "p\n"


def test_no_network(bwrap: str) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 2); print('connected')"
        with socket.create_connection(("127.0.0.1", port), 2):
            pass  # reachable from here
        result = run(["python3", "-c", probe])
    assert not result.success and "connected" not in result.stdout
    assert "Error" in result.stderr  # ConnectionRefusedError / OSError: network unreachable


def test_timeout_kills_the_whole_tree(bwrap: str) -> None:
    result = run("sleep 60 & sleep 60; echo never", timeout_s=0.5)
    assert result.timed_out and not result.success
    assert result.error == "Sandbox execution timeout after 0.5s"
    assert "never" not in result.stdout


def test_resource_limits(bwrap: str, shared_dir: Path) -> None:
    memory = run(["python3", "-c", "b = bytearray(512 * 1024 * 1024); print('allocated')"], memory_limit_mb=128)
    assert not memory.success and "MemoryError" in memory.stderr
    cpu = run(["python3", "-c", "while True: pass"], cpu_limit=1, timeout_s=30)
    assert not cpu.success and not cpu.timed_out and cpu.exit_code is not None and cpu.exit_code != 0
    big = run(f"head -c 3000000 /dev/zero > {shared_dir}/big", write_paths=[str(shared_dir)], max_file_size_mb=1)
    assert not big.success
    assert (shared_dir / "big").stat().st_size <= 1024 * 1024
    forks = run("for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done; wait", max_processes=4)
    assert "fork" in forks.stderr.lower() or "resource temporarily unavailable" in forks.stderr.lower()


def test_output_is_bounded_and_stdin_is_passed(bwrap: str) -> None:
    result = run("head -c 3000000 /dev/zero | tr '\\0' 'a'", max_output_bytes=4096)
    assert result.success and result.output_truncated and len(result.stdout) == 4096
    echoed = SandboxManager().run(["cat"], {"timeout_s": 20}, stdin=b"from stdin")
    assert echoed.stdout == "from stdin"


def test_registered_profile_by_name(bwrap: str) -> None:
    manager = SandboxManager()
    manager.register_sandbox("shell", {"timeout_s": 20})
    assert manager.run(["echo", "ok"], "shell").stdout == "ok\n"
    with pytest.raises(KeyError):
        manager.run(["true"], "no-such-profile")


def test_refuses_rather_than_run_unconfined(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    monkeypatch.setattr(process_module, "_probe", None)
    monkeypatch.setattr(process_module.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        SandboxManager().run(["touch", str(marker)], {})
    assert not marker.exists()
    monkeypatch.setattr(process_module, "_probe", None)
    for kind in ("container", "wasm", "none"):
        with pytest.raises(SandboxUnavailable, match='only "process" profiles'):
            SandboxManager().run(["touch", str(marker)], {"type": kind})
    assert not marker.exists()


def test_a_sandbox_that_cannot_be_built_refuses(monkeypatch: pytest.MonkeyPatch, shared_dir: Path) -> None:
    fake = shared_dir / "bwrap"  # a bwrap that fails as it does without user namespaces
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(process_module, "_probe", None)
    real_which = shutil.which
    monkeypatch.setattr(process_module.shutil, "which", lambda name: str(fake) if name == "bwrap" else real_which(name))
    with pytest.raises(SandboxUnavailable, match="No permissions"):
        SandboxManager().run(["true"], {})
    monkeypatch.setattr(process_module, "_probe", None)


def test_malformed_commands(bwrap: str) -> None:
    for bad in ([], [""], ["a\x00b"], ["x" * (200 * 1024)]):
        with pytest.raises(ValueError):
            SandboxManager().run(bad, {})
