"""Running a command under a :class:`SandboxProfile`: bubblewrap namespaces, resource limits, a timeout,
a cleared environment, a private filesystem view and no network.

The command runs as::

    prlimit --as --cpu --nproc --fsize --nofile --core -- bwrap <view> -- <command>

* **Filesystem**: only ``/usr`` (and the ``/bin``, ``/lib`` links into it), the few ``/etc`` files the
  dynamic linker and name lookups need, a fresh ``/proc``, a minimal ``/dev`` and an empty ``/tmp`` are
  there, read-only except ``/tmp``; the profile's ``read_paths`` are bound read-only, its ``allowed_paths``
  and ``write_paths`` read-write, its ``denied_paths`` hidden (an empty directory or ``/dev/null`` over
  them). Nothing else of the machine exists inside.
* **Namespaces**: user, PID, IPC, UTS, cgroup and network (``--unshare-all``); the network stays shared
  only for a profile with ``network_enabled = true`` (then the URL rules of the profile are *not*
  enforced at the socket: :meth:`SandboxManager.check_constraints` is what judges hosts). All
  capabilities dropped, a new session (no terminal injection), killed with its parent.
* **Identity**: a caller running as root runs the command as ``nobody`` (65534): a sandboxed tool never
  runs as root, and the process limit holds (the kernel does not count root's processes).
* **Limits**: address space (``memory_limit_mb``), CPU seconds (``cpu_limit``), processes
  (``max_processes`` more than the sandbox user runs already: the kernel counts all of them), file
  size (``max_file_size_mb``), 256 open files, no core dumps; the wall-clock ``timeout_s`` kills the
  whole process tree; output beyond ``max_output_bytes`` is dropped (reported).
* **Environment**: cleared; ``PATH``, ``HOME=/tmp`` and ``LANG`` set, plus the caller's variables that
  ``allowed_env_vars`` names.

Without a working ``bwrap`` (the Debian package ``bubblewrap``), the second backend runs the command
under ``unshare`` namespaces and Landlock (:mod:`agent_security.containment.landlock`);
``AGENT_SECURITY_SANDBOX_BACKEND`` picks one. Where neither works (or ``prlimit`` is missing),
:func:`run_sandboxed` raises :class:`SandboxUnavailable` and runs nothing: it never runs a command
unconfined.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from agent_security.containment.errors import SandboxUnavailable
from agent_security.containment.landlock import build_landlock_argv, landlock_abi, python_for_helper
from agent_security.containment.profiles import SandboxProfile
from agent_security.core.paths import PathError, resolve_path

__all__ = ["SandboxResult", "SandboxUnavailable", "backend_status", "build_argv", "run_sandboxed"]

NOBODY = 65534
MAX_ARGV_CHARS = 128 * 1024
_SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
)
_NET_ETC_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/ssl", "/etc/ca-certificates", "/etc/gai.conf")
_PROBE_LOCK = threading.Lock()
_probe: tuple[bool, str, str] | None = None
BACKENDS = ("bubblewrap", "landlock")
BACKEND_VARIABLE = "AGENT_SECURITY_SANDBOX_BACKEND"
"""Set to ``bubblewrap`` or ``landlock`` to use only that backend (default: bubblewrap, else landlock)."""


@dataclass(frozen=True)
class SandboxResult:
    """What a sandboxed run gave. The original's fields (``success``, ``output``, ``error``,
    ``execution_time_ms``, ``sandbox_type``, ``resource_usage``) and the process's own."""

    success: bool
    exit_code: int | None
    stdout: str
    stderr: str
    execution_time_ms: float
    sandbox_type: str = "process"
    backend: str = "bubblewrap"
    timed_out: bool = False
    output_truncated: bool = False
    error: str | None = None
    resource_usage: Mapping[str, float] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.stdout


def backend_status() -> tuple[bool, str]:
    """``(True, "bubblewrap <path>")`` (or ``"landlock ..."``) when a sandbox can be built here, else
    ``(False, why)``. Probed once per process by running ``true`` in an empty sandbox."""
    ok, why, _ = _status()
    return ok, why


def _status() -> tuple[bool, str, str]:
    global _probe
    with _PROBE_LOCK:
        if _probe is None:
            _probe = _run_probe()
        return _probe


def _run_probe() -> tuple[bool, str, str]:
    forced = os.environ.get(BACKEND_VARIABLE, "").strip().lower()
    if forced and forced not in BACKENDS:
        return False, f"{BACKEND_VARIABLE}={forced!r} is not one of {', '.join(BACKENDS)}", ""
    if shutil.which("prlimit") is None:
        return False, "prlimit (util-linux) is not installed", ""
    reasons = []
    for name in (forced,) if forced else BACKENDS:
        ok, why = _probe_bwrap() if name == "bubblewrap" else _probe_landlock()
        if ok:
            return True, why, name
        reasons.append(why)
    return False, "; ".join(reasons), ""


def _probe_bwrap() -> tuple[bool, str]:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False, "bubblewrap (bwrap) is not installed (Debian package: bubblewrap)"
    return _try([bwrap, *_base_view(network=False), "--", "/usr/bin/true"], {}, f"bubblewrap {bwrap}", "bwrap")


def _probe_landlock() -> tuple[bool, str]:
    unshare, python = shutil.which("unshare"), python_for_helper()
    if unshare is None or python is None:
        return False, "unshare (util-linux) or a system python3 for the Landlock helper is missing"
    abi = landlock_abi()
    if abi < 1:
        return False, "the kernel has no Landlock (needed without bubblewrap)"
    with _private_tmp() as tmp:
        argv, env = build_landlock_argv(
            ["/usr/bin/true"], unshare=unshare, python=python, read=(), write=(), denied=(), tmp=tmp,
            cwd=tmp, env={}, network=False,
        )  # fmt: skip
        return _try(argv, env, f"landlock ABI {abi} with unshare {unshare}", "unshare with Landlock")


def _try(argv: list[str], env: dict[str, str], description: str, what: str) -> tuple[bool, str]:
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=20, env=env, **_identity())
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"{what} cannot start: {exc}"
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip()[:300]
        return False, f"{what} cannot build a sandbox here (user namespaces disabled?): {why}"
    return True, description


@contextmanager
def _private_tmp() -> Iterator[str]:
    """A fresh temporary directory the sandbox's user owns (the Landlock backend's /tmp and HOME)."""
    path = tempfile.mkdtemp(prefix="agent-security-sandbox-")
    try:
        if os.geteuid() == 0:
            os.chown(path, NOBODY, NOBODY)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _identity() -> dict[str, Any]:
    if os.geteuid() == 0:
        return {"user": NOBODY, "group": NOBODY, "extra_groups": []}
    return {}


def _base_view(*, network: bool) -> list[str]:
    argv = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if network:
        argv.append("--share-net")
    argv += ["--ro-bind", "/usr", "/usr"]
    for d in _SYSTEM_DIRS:
        if Path(d).is_symlink():
            argv += ["--symlink", str(Path(d).readlink()), d]
        elif Path(d).is_dir():
            argv += ["--ro-bind", d, d]
    for f in _ETC_FILES + (_NET_ETC_FILES if network else ()):
        argv += ["--ro-bind-try", f, f]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # noqa: S108 (the sandbox's own empty /tmp)
    return argv


def _roots(paths: tuple[str, ...] | None) -> list[str]:
    out = []
    for p in paths or ():
        try:
            out.append(resolve_path(p).path)
        except PathError:
            continue
    return out


def tasks_of(uid: int) -> int:
    """How many tasks (processes and threads) ``uid`` runs now. The kernel's process limit counts every
    task of the user, so the sandbox's limit is this many plus ``max_processes``."""
    count = 0
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            with (entry / "status").open("rb") as f:
                status = f.read(4096)
        except OSError:
            continue
        uid_line = status.partition(b"\nUid:")[2].split(b"\n", 1)[0].split()
        if uid_line and uid_line[0] == str(uid).encode():
            threads = status.partition(b"\nThreads:")[2].split(b"\n", 1)[0].strip()
            count += int(threads) if threads.isdigit() else 1
    return count


def _limits(profile: SandboxProfile, prlimit: str) -> list[str]:
    limits = [prlimit, "--core=0", "--nofile=256"]
    if profile.memory_limit_mb is not None:
        limits.append(f"--as={profile.memory_limit_mb * 1024 * 1024}")
    if profile.cpu_limit is not None:
        limits.append(f"--cpu={max(1, int(profile.cpu_limit + 0.999))}")
    if profile.max_processes is not None:
        uid = NOBODY if os.geteuid() == 0 else os.getuid()
        limits.append(f"--nproc={tasks_of(uid) + profile.max_processes}")
    if profile.max_file_size_mb is not None:
        limits.append(f"--fsize={profile.max_file_size_mb * 1024 * 1024}")
    return [*limits, "--"]


def _environment(profile: SandboxProfile) -> dict[str, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}  # noqa: S108
    if profile.allowed_env_vars:
        for name, value in os.environ.items():
            if any(fnmatch.fnmatchcase(name, p) for p in profile.allowed_env_vars):
                env[name] = value
    return env


def build_argv(command: Sequence[str] | str, profile: SandboxProfile, bwrap: str, prlimit: str) -> list[str]:
    """The full bubblewrap command line for ``command`` under ``profile`` (see the module documentation)."""
    argv = _command(command)
    view = _base_view(network=profile.network_enabled)
    # a path that does not exist is not bound; one that exists but the sandbox user cannot reach makes
    # bwrap fail (never a silently missing directory)
    binds: list[tuple[str, str]] = [(p, "--ro-bind") for p in _roots(profile.read_paths) if Path(p).exists()]
    writable = _roots(profile.allowed_paths) + _roots(profile.write_paths)
    binds += [(p, "--bind") for p in writable if Path(p).exists()]
    for path, flag in sorted(binds, key=lambda b: (b[0].count("/"), b[1] == "--bind")):
        view += [flag, path, path]
    for path in _roots(profile.denied_paths):
        if Path(path).is_dir():
            view += ["--tmpfs", path, "--remount-ro", path]
        elif Path(path).exists():
            view += ["--ro-bind", "/dev/null", path]
    view.append("--clearenv")
    for name, value in _environment(profile).items():
        view += ["--setenv", name, value]
    workdir = _roots((profile.workdir,)) if profile.workdir else []
    view += ["--chdir", workdir[0] if workdir else "/tmp"]  # noqa: S108
    return [*_limits(profile, prlimit), bwrap, *view, "--", *argv]


def _command(command: Sequence[str] | str) -> list[str]:
    argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
    if not argv or not all(isinstance(a, str) for a in argv) or not argv[0]:
        raise ValueError("command must be a non-empty string or a non-empty list of strings")
    if any("\x00" in a for a in argv) or sum(len(a) for a in argv) > MAX_ARGV_CHARS:
        raise ValueError("command holds a NUL byte or is longer than 128 KiB")
    return argv


def run_sandboxed(
    command: Sequence[str] | str,
    profile: SandboxProfile,
    *,
    stdin: bytes | None = None,
    timeout_s: float | None = None,
) -> SandboxResult:
    """Run ``command`` (an argv list, or a string run by ``/bin/sh -c`` inside the sandbox) under
    ``profile``. Raises :class:`SandboxUnavailable` (nothing run) when no sandbox can be built here or
    the profile is not a ``process`` one; ``ValueError`` for a malformed command."""
    if profile.type != "process":
        raise SandboxUnavailable(f'a "{profile.type}" profile cannot be run: only "process" profiles run here')
    argv_in = _command(command)
    ok, why, backend = _status()
    if not ok:
        raise SandboxUnavailable(f"no process sandbox on this machine: {why}; the command was not run")
    limit = min(profile.timeout_s, timeout_s) if timeout_s is not None else profile.timeout_s
    prlimit = shutil.which("prlimit")
    if backend == "bubblewrap":
        bwrap = shutil.which("bwrap")
        if bwrap is None or prlimit is None:
            raise SandboxUnavailable("bwrap or prlimit disappeared; the command was not run")
        argv = build_argv(argv_in, profile, bwrap, prlimit)
        return _execute(argv, {}, stdin, limit, profile.max_output_bytes, backend)
    unshare, python = shutil.which("unshare"), python_for_helper()
    if unshare is None or python is None or prlimit is None:
        raise SandboxUnavailable("unshare, prlimit or python3 disappeared; the command was not run")
    with _private_tmp() as tmp:
        workdir = _roots((profile.workdir,)) if profile.workdir else []
        inner, env = build_landlock_argv(
            argv_in,
            unshare=unshare,
            python=python,
            read=_roots(profile.read_paths),
            write=_roots(profile.allowed_paths) + _roots(profile.write_paths),
            denied=_roots(profile.denied_paths),
            tmp=tmp,
            cwd=workdir[0] if workdir else tmp,
            env=_environment(profile),
            network=profile.network_enabled,
        )
        return _execute([*_limits(profile, prlimit), *inner], env, stdin, limit, profile.max_output_bytes, backend)


def _execute(
    argv: list[str], env: dict[str, str], stdin: bytes | None, timeout_s: float, max_output: int, backend: str
) -> SandboxResult:
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        close_fds=True,
        **_identity(),
    )
    out, err = _Capture(proc.stdout, max_output), _Capture(proc.stderr, max_output)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout_s, kill)
    timer.daemon = True
    timer.start()
    try:
        if stdin is not None and proc.stdin is not None:
            try:
                proc.stdin.write(stdin)
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        timer.cancel()
        try:  # whatever the command left behind in its group
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    out.join(5.0)
    err.join(5.0)
    elapsed_ms = (time.monotonic() - started) * 1000.0
    code = proc.returncode
    error = None
    if timed_out.is_set():
        error = f"Sandbox execution timeout after {timeout_s:g}s"
    elif code != 0:
        error = f"exited with {code}" if code >= 0 else f"killed by signal {-code}"
    return SandboxResult(
        success=code == 0 and not timed_out.is_set(),
        exit_code=code,
        stdout=out.text(),
        stderr=err.text(),
        execution_time_ms=elapsed_ms,
        backend=backend,
        timed_out=timed_out.is_set(),
        output_truncated=out.truncated or err.truncated,
        error=error,
        resource_usage={
            "user_cpu_s": usage.ru_utime,
            "system_cpu_s": usage.ru_stime,
            "max_rss_kb": float(usage.ru_maxrss),
        },
    )


class _Capture:
    """Reads a pipe to its end on a thread, keeping at most ``limit`` bytes."""

    def __init__(self, pipe: IO[bytes] | None, limit: int) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._limit = limit
        self.truncated = False
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[bytes] | None) -> None:
        if pipe is None:
            return
        with pipe:
            while chunk := pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536):
                room = self._limit - self._size
                if room > 0:
                    self._chunks.append(chunk[:room])
                    self._size += min(room, len(chunk))
                if len(chunk) > room:
                    self.truncated = True

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")
