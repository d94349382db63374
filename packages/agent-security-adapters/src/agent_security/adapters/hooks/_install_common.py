"""What the Cursor and Copilot installers share: the hook command, a JSON file read without losing what
is in it and written atomically, and running the configured command on a canary call.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CANARY_COMMAND",
    "MAX_CONFIG_BYTES",
    "CanaryRun",
    "InstallError",
    "default_command",
    "is_ours",
    "powershell_join",
    "read_config",
    "run_command",
    "write_config",
]

MAX_CONFIG_BYTES = 4 * 1024 * 1024
CANARY_COMMAND = "rm -rf / --no-preserve-root"
"""The doctor's canary: a shell call every configuration must block (the supply-chain governor blocks
recursive forced deletion; with no policy at all the default denies everything)."""
MARKER = "agent-security"


class InstallError(RuntimeError):
    """The hook cannot be installed here (the file is not ours to overwrite, or the command is missing)."""


def default_command(host: str) -> list[str]:
    """``[<absolute path of the installed agent-security script>, "hook", host]``: the script next to
    this interpreter, else the one on ``PATH``."""
    name = "agent-security.exe" if os.name == "nt" else "agent-security"
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which("agent-security")
    if not found:
        raise InstallError("the agent-security command was not found next to this Python or on PATH")
    return [str(Path(found).absolute()), "hook", host]


def powershell_join(argv: Sequence[str]) -> str:
    """``argv`` as one PowerShell command line (``& 'C:\\path\\agent-security.exe' 'hook' 'copilot'``)."""
    return "& " + " ".join("'" + a.replace("'", "''") + "'" for a in argv)


def is_ours(command: Any, host: str) -> bool:
    """True for a configured command that runs ``agent-security hook <host>`` (whatever the path)."""
    if not isinstance(command, str):
        return False
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    for i in range(len(words) - 2):
        if MARKER in Path(words[i]).name and words[i + 1] == "hook" and words[i + 2] == host:
            return True
    return False


def read_config(path: Path) -> dict[str, Any]:
    """The JSON object in ``path`` (``{}`` when the file does not exist). A file that is not a JSON object
    raises :class:`InstallError`: it is the user's, and is never overwritten."""
    if not path.exists():
        return {}
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InstallError(f"{path} is larger than {MAX_CONFIG_BYTES} bytes; not touched")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InstallError(f"{path} is not valid JSON ({exc}); fix or move it, it was not changed") from None
    if not isinstance(data, dict):
        raise InstallError(f"{path} holds a JSON {type(data).__name__}, not an object; it was not changed")
    return data


def write_config(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file in the same directory, then a rename), keeping
    the file's permissions when it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class CanaryRun:
    exit_code: int | None
    """``None``: the command did not finish in time (or could not start)."""
    stdout: str
    stderr: str


def run_command(command: str, payload: Mapping[str, Any] | bytes, *, cwd: Path, timeout_s: float) -> CanaryRun:
    """Run a configured hook command as the host does (through the shell, JSON on stdin)."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    try:
        done = subprocess.run(  # noqa: S602 - the host runs this very string through the shell
            command, shell=True, input=data, capture_output=True, timeout=timeout_s, cwd=cwd, check=False
        )
    except subprocess.TimeoutExpired:
        return CanaryRun(None, "", f"did not answer within {timeout_s:g} s")
    except OSError as exc:
        return CanaryRun(None, "", f"could not run: {exc}")
    return CanaryRun(
        done.returncode,
        done.stdout.decode("utf-8", "replace")[:65536],
        done.stderr.decode("utf-8", "replace")[:65536],
    )
