"""What the Claude Code, Cursor and Copilot installers share: the hook command and how to tell an entry of
ours, a JSON file read without losing what is in it and written atomically (only when it changes), an
entry put in place of ours in a list of hook entries, and running a configured command on a canary call.

Standard library only; nothing here decides a call.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CANARY_COMMAND",
    "MAX_CONFIG_BYTES",
    "CanaryRun",
    "InstallError",
    "command_argv",
    "default_command",
    "hook_argv",
    "hooks_section",
    "is_ours",
    "powershell_join",
    "put_entry",
    "read_config",
    "run_command",
    "runs_hook",
    "save_config",
    "shell_join",
    "write_config",
]

MAX_CONFIG_BYTES = 4 * 1024 * 1024
CANARY_COMMAND = "rm -rf / --no-preserve-root"
"""The doctor's canary: a shell call every configuration must block (the supply-chain governor blocks
recursive forced deletion; with no policy at all the default denies everything)."""
MARKER = "agent-security"


class InstallError(ValueError):
    """The hook cannot be installed here (the file is not ours to overwrite, or the command is missing)."""


def default_command(host: str) -> list[str]:
    """``[<absolute path of the installed agent-security script>, "hook", host]``: the script next to
    this interpreter, else the one on ``PATH``."""
    bindir = Path(sys.executable).parent
    for name in ("agent-security", "agent-security.exe"):
        if (bindir / name).is_file():
            return [str((bindir / name).absolute()), "hook", host]
    found = shutil.which("agent-security")
    if not found:
        raise InstallError("the agent-security command was not found next to this Python or on PATH")
    return [str(Path(found).absolute()), "hook", host]


def hook_argv(command: Sequence[str] | None, host: str) -> list[str]:
    """``command`` (checked: a non-empty list of non-empty strings), or :func:`default_command`."""
    argv = list(command) if command is not None else default_command(host)
    if not argv or not all(isinstance(a, str) and a for a in argv):
        raise InstallError("the hook command must be a non-empty list of non-empty strings")
    return argv


def shell_join(argv: Sequence[str]) -> str:
    """``argv`` as one command line for the platform's shell (what the host runs the hook through)."""
    return subprocess.list2cmdline(list(argv)) if os.name == "nt" else shlex.join(argv)


def powershell_join(argv: Sequence[str]) -> str:
    """``argv`` as one PowerShell command line (``& 'C:\\path\\agent-security.exe' 'hook' 'copilot'``)."""
    return "& " + " ".join("'" + a.replace("'", "''") + "'" for a in argv)


def command_argv(command: Any, args: Any = None) -> list[str]:
    """The words of a configured command: exec form (``command`` and a list of ``args``) or one shell
    command line; ``[]`` for anything that is not a command."""
    if not isinstance(command, str) or not command:
        return []
    if isinstance(args, list):
        return [command, *(str(a) for a in args)]
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def runs_hook(argv: Sequence[str], host: str) -> bool:
    """True for words that run ``agent-security ... hook <host>`` (whatever the path, options between)."""
    for i, word in enumerate(argv):
        if MARKER in Path(word).name:
            rest = list(argv[i + 1 :])
            if any(rest[j : j + 2] == ["hook", host] for j in range(len(rest))):
                return True
    return False


def is_ours(command: Any, host: str) -> bool:
    """True for a configured command line that runs ``agent-security hook <host>`` (whatever the path)."""
    return runs_hook(command_argv(command), host)


def hooks_section(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The ``hooks`` object of a ``{"version": 1, "hooks": {...}}`` file (both added when missing)."""
    data.setdefault("version", 1)
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise InstallError(f"{path}: 'hooks' is not an object; the file was not changed")
    return hooks


def put_entry(entries: list[Any], entry: Mapping[str, Any], ours: Callable[[Any], bool]) -> None:
    """``entry`` in place of the first entry of ours in ``entries`` (the others of ours removed), else
    appended: the user's entries and their order stay."""
    mine = [i for i, e in enumerate(entries) if ours(e)]
    if mine:
        entries[mine[0]] = dict(entry)
        for i in reversed(mine[1:]):
            del entries[i]
    else:
        entries.append(dict(entry))


def read_config(path: Path) -> dict[str, Any]:
    """The JSON object in ``path`` (``{}`` when the file does not exist or is blank). A file that is not a
    JSON object raises :class:`InstallError`: it is the user's, and is never overwritten."""
    if not path.exists():
        return {}
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InstallError(f"{path} is larger than {MAX_CONFIG_BYTES} bytes; not touched")
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if text.strip() else {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InstallError(f"{path} is not valid JSON ({exc}); fix or move it, it was not changed") from None
    if not isinstance(data, dict):
        raise InstallError(f"{path} holds a JSON {type(data).__name__}, not an object; it was not changed")
    return data


def write_config(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file in the same directory, then a rename), keeping
    the file's permissions when it exists; a new file is readable by all (the host may run as another user:
    managed and enterprise files are read by every user's host)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_config(path: Path, data: Mapping[str, Any], original: Mapping[str, Any]) -> None:
    """Write ``data`` to ``path`` unless it equals what was read (``original``) and the file exists: running
    an installer again leaves the file byte for byte as it was."""
    if data != original or not path.exists():
        write_config(path, data)


@dataclass(frozen=True, slots=True)
class CanaryRun:
    exit_code: int | None
    """``None``: the command did not finish in time (or could not start)."""
    stdout: str
    stderr: str

    @property
    def detail(self) -> str:
        """What the run said, for a report line: its output, else its error output, else its exit code."""
        return (self.stdout.strip() or self.stderr.strip() or f"exit {self.exit_code}")[:300]


def run_command(
    command: str | Sequence[str], payload: Mapping[str, Any] | bytes, *, cwd: Path | None, timeout_s: float
) -> CanaryRun:
    """Run a configured hook command as the host does, JSON on stdin: a command line through the shell,
    a list of words (exec form) without one."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    shell = isinstance(command, str)
    argv: str | list[str] = command if isinstance(command, str) else list(command)
    try:
        done = subprocess.run(  # a command line: the host runs this very string through the shell
            argv, shell=shell, input=data, capture_output=True, timeout=timeout_s, cwd=cwd, check=False
        )
    except subprocess.TimeoutExpired:
        return CanaryRun(None, "", f"did not answer within {timeout_s:g} s")
    except FileNotFoundError:
        return CanaryRun(None, "", f"the command {argv if shell else argv[0]!r} does not exist")
    except PermissionError:
        return CanaryRun(None, "", f"the command {argv if shell else argv[0]!r} is not executable")
    except OSError as exc:
        return CanaryRun(None, "", f"could not run: {exc}")
    return CanaryRun(
        done.returncode,
        done.stdout.decode("utf-8", "replace")[:65536],
        done.stderr.decode("utf-8", "replace")[:65536],
    )
