"""What a hook call answers its host: the text for stdout and stderr, and the exit code.

Standard library only: the hook's client imports this before (and often instead of) the core.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXIT_BLOCK", "HookAnswer"]

EXIT_BLOCK = 2
"""The exit code every supported host reads as "do not run the tool", with stderr as the reason.

Claude Code and Cursor treat any other non-zero code (and a timeout) as a failed hook and run the tool
unless the hook entry says otherwise, so a failure of ours is always this code, never 1."""


@dataclass(frozen=True, slots=True)
class HookAnswer:
    """One hook call's answer: print ``stdout`` (JSON, or nothing), ``stderr``, exit with ``exit_code``."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0

    @classmethod
    def fail_closed(cls, reason: str) -> HookAnswer:
        """The answer when the call could not be decided: block, with the reason on stderr."""
        return cls(stdout="", stderr=f"agent-security: blocked: {reason}\n", exit_code=EXIT_BLOCK)

    def to_json(self) -> dict[str, object]:
        return {"stdout": self.stdout, "stderr": self.stderr, "exit_code": self.exit_code}

    @classmethod
    def from_json(cls, data: object) -> HookAnswer:
        """The answer carried as JSON (from the daemon); anything malformed is a fail-closed answer."""
        if not isinstance(data, dict):
            return cls.fail_closed("malformed answer from the daemon")
        stdout, stderr, code = data.get("stdout"), data.get("stderr"), data.get("exit_code")
        if not isinstance(stdout, str) or not isinstance(stderr, str) or type(code) is not int:
            return cls.fail_closed("malformed answer from the daemon")
        return cls(stdout=stdout, stderr=stderr, exit_code=code)
