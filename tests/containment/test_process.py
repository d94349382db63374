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
from agent_security.containment.landlock import landlock_abi


@pytest.fixture(params=["bubblewrap", "landlock"])
def bwrap(request: pytest.FixtureRequest, system_program: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs under both backends: bubblewrap, and unshare with Landlock (the fallback)."""
    backend = str(request.param)
    if backend == "bubblewrap":
        system_program("bwrap")
    else:
        system_program("unshare")
        if landlock_abi() < 1:
            pytest.skip("this kernel has no Landlock")
    monkeypatch.setenv(process_module.BACKEND_VARIABLE, backend)
    monkeypatch.setattr(process_module, "_probe", None)
    ok, why = process_module.backend_status()
    assert ok, why
    return backend


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


def test_private_view_cleared_environment_and_no_privileges(
    bwrap: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "s3cret")
    monkeypatch.setenv("APP_MODE", "demo")
    granted, other = shared_dir / "granted", shared_dir / "other"
    granted.mkdir()
    other.mkdir()
    (granted / "in.txt").write_text("hello\n")
    (other / "secret.txt").write_text("not for the tool\n")  # world-readable: only the sandbox stops it
    for d in (granted, other):
        d.chmod(0o755)
    result = run(
        f"cat in.txt; env; grep CapEff /proc/self/status; cat {other}/secret.txt; cat /etc/shadow; "
        "ls /root; ls /work; true",
        read_paths=[str(granted)],
        workdir=str(granted),
        allowed_env_vars=["APP_*"],
    )
    assert result.success, result.stderr
    lines = result.stdout.splitlines()
    assert "hello" in lines and "APP_MODE=demo" in lines
    assert "s3cret" not in result.stdout and "not for the tool" not in result.stdout
    assert "CapEff:\t0000000000000000" in lines
    assert result.backend == bwrap and result.sandbox_type == "process"
    assert result.resource_usage["max_rss_kb"] > 0
    if bwrap == "bubblewrap":  # a view with nothing of the machine but /usr and a few /etc files
        listing = run("ls /").stdout.split()
        assert set(listing) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr"}
        assert "uid=0(" not in run("id").stdout  # never root inside
    else:  # the names stay, their contents are refused by the kernel
        assert "Permission denied" in run("ls /").stderr


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
    real_which = shutil.which
    monkeypatch.delenv(process_module.BACKEND_VARIABLE, raising=False)
    monkeypatch.setattr(process_module, "_probe", None)
    monkeypatch.setattr(process_module.shutil, "which", lambda name: None if name == "bwrap" else real_which(name))
    monkeypatch.setattr(process_module, "landlock_abi", lambda: 0)
    with pytest.raises(SandboxUnavailable, match=r"bubblewrap.*not installed.*no Landlock"):
        SandboxManager().run(["touch", str(marker)], {})
    monkeypatch.setattr(process_module, "_probe", None)
    monkeypatch.setattr(process_module.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="prlimit"):
        SandboxManager().run(["touch", str(marker)], {})
    monkeypatch.setattr(process_module, "_probe", None)
    monkeypatch.setenv(process_module.BACKEND_VARIABLE, "chroot")
    with pytest.raises(SandboxUnavailable, match="not one of"):
        SandboxManager().run(["touch", str(marker)], {})
    for kind in ("container", "wasm", "none"):
        with pytest.raises(SandboxUnavailable, match='only "process" profiles'):
            SandboxManager().run(["touch", str(marker)], {"type": kind})
    assert not marker.exists()
    monkeypatch.setattr(process_module, "_probe", None)


def test_a_sandbox_that_cannot_be_built_refuses(monkeypatch: pytest.MonkeyPatch, shared_dir: Path) -> None:
    fake = shared_dir / "bwrap"  # a bwrap that fails as it does without user namespaces
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    real_which = shutil.which
    monkeypatch.setattr(process_module.shutil, "which", lambda name: str(fake) if name == "bwrap" else real_which(name))
    monkeypatch.setenv(process_module.BACKEND_VARIABLE, "bubblewrap")
    monkeypatch.setattr(process_module, "_probe", None)
    with pytest.raises(SandboxUnavailable, match="No permissions"):
        SandboxManager().run(["true"], {})
    # both backends unusable: both reasons, nothing run
    monkeypatch.delenv(process_module.BACKEND_VARIABLE)
    monkeypatch.setattr(process_module, "landlock_abi", lambda: 0)
    monkeypatch.setattr(process_module, "_probe", None)
    with pytest.raises(SandboxUnavailable, match=r"No permissions.*no Landlock"):
        SandboxManager().run(["true"], {})
    monkeypatch.setattr(process_module, "_probe", None)


def test_malformed_commands(bwrap: str) -> None:
    for bad in ([], [""], ["a\x00b"], ["x" * (200 * 1024)]):
        with pytest.raises(ValueError):
            SandboxManager().run(bad, {})
