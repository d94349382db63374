"""What a hook call answers its host: the text for stdout and stderr, and the exit code.

Standard library only, and not even ``dataclasses`` (which imports ``inspect``: 15 ms of a hook call's
15 ms budget): the hook's client imports this before (and often instead of) the core.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["EXIT_BLOCK", "HookAnswer", "answer_within"]

EXIT_BLOCK = 2
"""The exit code every supported host reads as "do not run the tool", with stderr as the reason.

Claude Code and Cursor treat any other non-zero code (and a timeout) as a failed hook and run the tool
unless the hook entry says otherwise, so a failure of ours is always this code, never 1."""


class HookAnswer:
    """One hook call's answer: print ``stdout`` (JSON, or nothing), ``stderr``, exit with ``exit_code``.

    Immutable, compared and hashed by value (what ``@dataclass(frozen=True, slots=True)`` would give)."""

    __slots__ = ("exit_code", "stderr", "stdout")
    __match_args__ = ("stdout", "stderr", "exit_code")

    stdout: str
    stderr: str
    exit_code: int

    def __init__(self, stdout: str = "", stderr: str = "", exit_code: int = 0) -> None:
        object.__setattr__(self, "stdout", stdout)
        object.__setattr__(self, "stderr", stderr)
        object.__setattr__(self, "exit_code", exit_code)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a HookAnswer is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a HookAnswer is immutable")

    def _key(self) -> tuple[str, str, int]:
        return (self.stdout, self.stderr, self.exit_code)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, HookAnswer)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"HookAnswer(stdout={self.stdout!r}, stderr={self.stderr!r}, exit_code={self.exit_code!r})"

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


def answer_within(work: Callable[[], HookAnswer], timeout: float) -> HookAnswer:
    """``work()``'s answer, or the fail-closed answer when it raises (anything, ``SystemExit`` included),
    answers something else, or is still running after ``timeout`` seconds (it is left to the process's
    exit: the caller ends the process with the answer's code)."""
    import threading

    box: list[object] = []

    def run() -> None:
        try:
            box.append(work())
        except BaseException as exc:  # e.g. a SystemExit raised deep inside a plugin
            box.append(HookAnswer.fail_closed(f"internal error ({type(exc).__name__}: {exc})"))

    worker = threading.Thread(target=run, name="agent-security-hook", daemon=True)
    worker.start()
    worker.join(timeout)
    if not box:
        return HookAnswer.fail_closed(f"the hook call did not finish within {timeout:g} s (--timeout)")
    answer = box[0]
    return answer if isinstance(answer, HookAnswer) else HookAnswer.fail_closed("the check gave no answer")
