"""The process sandbox without bubblewrap: ``unshare`` (util-linux) namespaces and Landlock.

Where ``bwrap`` is missing or cannot run, a command runs as::

    prlimit <limits> -- unshare --user --map-root-user --net --pid --ipc --uts --mount-proc --kill-child
        -- python3 -I -S -c <HELPER>

and the helper, inside the new namespaces and before it ``execve``\\ s the command:

* hides each denied path (an empty read-only ``tmpfs`` over a directory, ``/dev/null`` over a file);
* restricts the file system with Landlock to the system directories (read and execute), the profile's
  read paths (read), its allowed and write paths and a private temporary directory (read and write) and
  a few ``/dev`` files; everything else is refused by the kernel, whatever the process's rights;
* drops every capability from the bounding set and sets ``no_new_privs``, so the command runs without
  privileges (it is root only inside its own user namespace, and keeps nothing across ``execve``).

The network is the empty namespace's (no interfaces but a loopback that is down). Unlike bubblewrap,
the machine's directory names stay visible (``ls /``), but their contents cannot be read outside the
granted paths. The helper's specification (argv, environment, paths) comes in its environment, which
only the sandbox's own user can read.
"""

from __future__ import annotations

import ctypes
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["HELPER", "build_landlock_argv", "landlock_abi", "python_for_helper"]

SYSTEM_READ = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc")
ETC_READ = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
)
NET_ETC_READ = ("/etc/resolv.conf", "/etc/hosts", "/etc/ssl", "/etc/ca-certificates", "/etc/gai.conf")
DEV_RW = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
SPEC_VARIABLE = "AGENT_SECURITY_SANDBOX_SPEC"

HELPER = r"""
import ctypes, json, os, sys
spec = json.loads(os.environ.pop("AGENT_SECURITY_SANDBOX_SPEC"))
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def fail(what):
    err = ctypes.get_errno()
    sys.stderr.write("sandbox: %s: %s\n" % (what, os.strerror(err) if err else "failed"))
    sys.stderr.flush()
    os._exit(126)
def mount(src, dst, fstype, flags, data):
    if libc.mount(src.encode(), dst.encode(), fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                  data.encode() if data else None) != 0:
        fail("mount " + dst)
for path in spec["denied"]:
    if os.path.isdir(path):
        mount("tmpfs", path, "tmpfs", 1 | 2 | 4, "size=4k,mode=0555")
    elif os.path.exists(path):
        mount("/dev/null", path, None, 4096, None)
abi = libc.syscall(444, None, 0, 1)
if abi < 1:
    fail("landlock unavailable")
handled = (1 << 13) - 1
if abi >= 2: handled |= 1 << 13
if abi >= 3: handled |= 1 << 14
if abi >= 5: handled |= 1 << 15
file_only = 1 | 2 | 4 | (1 << 14) | (1 << 15)
read = 1 | 4 | 8
write = handled
attr = ctypes.c_uint64(handled)
ruleset = libc.syscall(444, ctypes.byref(attr), 8, 0)
if ruleset < 0:
    fail("landlock_create_ruleset")
class PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]
def allow(path, access):
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        import stat
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            access &= file_only
        rule = PathBeneath(access & handled, fd)
        if libc.syscall(445, ruleset, 1, ctypes.byref(rule), 0) != 0:
            fail("landlock_add_rule " + path)
    finally:
        os.close(fd)
for p in spec["read"]: allow(p, read)
for p in spec["rw_files"]: allow(p, 2 | 4 | (1 << 14) | (1 << 15))
for p in spec["write"]: allow(p, write)
for cap in range(64):
    libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP: EINVAL past the last capability, ignored
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    fail("no_new_privs")
if libc.syscall(446, ruleset, 0) != 0:
    fail("landlock_restrict_self")
os.close(ruleset)
try:
    os.chdir(spec["cwd"])
except OSError:
    os.chdir(spec["tmp"])
argv = spec["argv"]
try:
    if "/" in argv[0]:
        os.execve(argv[0], argv, spec["env"])
    for d in spec["env"].get("PATH", "/usr/bin:/bin").split(":"):
        candidate = os.path.join(d, argv[0])
        if os.access(candidate, os.X_OK):
            os.execve(candidate, argv, spec["env"])
except OSError as exc:
    sys.stderr.write("sandbox: cannot run %s: %s\n" % (argv[0], exc.strerror))
    os._exit(126)
sys.stderr.write("sandbox: %s: command not found\n" % argv[0])
os._exit(127)
"""


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: none)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        version = int(libc.syscall(444, None, 0, 1))
    except (OSError, AttributeError):
        return 0
    return max(version, 0)


def python_for_helper() -> str | None:
    """A Python the sandbox's user can run: the system's, whatever runs this process."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if Path(candidate).is_file():
            return candidate
    return shutil.which("python3")


def build_landlock_argv(
    command: Sequence[str],
    *,
    unshare: str,
    python: str,
    read: Sequence[str],
    write: Sequence[str],
    denied: Sequence[str],
    tmp: str,
    cwd: str,
    env: Mapping[str, str],
    network: bool,
) -> tuple[list[str], dict[str, str]]:
    """``(argv, environment)`` that run ``command`` under the helper (see the module documentation)."""
    spec = {
        "argv": list(command),
        "read": [*SYSTEM_READ, *ETC_READ, *(NET_ETC_READ if network else ()), *read],
        "rw_files": list(DEV_RW),
        "write": [*write, tmp],
        "denied": list(denied),
        "tmp": tmp,
        "cwd": cwd,
        "env": {**env, "HOME": tmp, "TMPDIR": tmp},
    }
    namespaces = ["--user", "--map-root-user", "--pid", "--ipc", "--uts", "--mount-proc", "--kill-child"]
    if not network:
        namespaces.append("--net")
    argv = [unshare, *namespaces, "--", python, "-I", "-S", "-c", HELPER]
    return argv, {SPEC_VARIABLE: json.dumps(spec)}
