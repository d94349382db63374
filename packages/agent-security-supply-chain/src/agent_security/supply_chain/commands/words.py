"""What the shell parser produces: words after quote removal, redirections, and the simple commands a line
would run (:mod:`.shell` builds them, the governor judges them)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "MAX_BRACES_PER_WORD",
    "MAX_COMMAND_LENGTH",
    "MAX_DEPTH",
    "MAX_PARTS",
    "Redirect",
    "ShellParseError",
    "SimpleCommand",
    "Word",
]

MAX_COMMAND_LENGTH = 16_384
"""Longest command line (characters) the parser accepts."""
MAX_DEPTH = 8
"""Deepest nesting of substitutions, subshells and ``sh -c`` / ``eval`` strings."""
MAX_PARTS = 256
"""Most simple commands one line may contain."""
MAX_BRACES_PER_WORD = 32
"""Most unquoted ``{`` one word may contain (each one is looked ahead for a brace expansion)."""


class ShellParseError(ValueError):
    """The command line uses a construct the governor does not parse confidently."""


@dataclass
class Word:
    """One shell word after quote removal."""

    text: str
    """The literal value (substitutions appear as ``$(...)``, variables as written)."""
    dynamic: bool = False
    """True when the value depends on something unknown at check time (``$VAR``, ``$(...)``, glob)."""
    substitution: bool = False
    """True when the word contains a command or process substitution."""
    glob: bool = False
    """True when the word contains an unquoted glob character (``*``, ``?``, ``[``)."""
    quoted: bool = False


@dataclass
class Redirect:
    op: str
    """The operator without its fd number: ``>``, ``>>``, ``<``, ``<<``, ``<<<``, ``>&``, ``&>``, ..."""
    target: Word
    fd: str = ""
    heredoc_body: str | None = None
    heredoc_expands: bool = False


@dataclass
class SimpleCommand:
    """One command a line would run, with where its input comes from."""

    words: list[Word] = field(default_factory=list)
    assignments: list[str] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    piped_input: bool = False
    """True when stdin is the previous command of a pipeline."""
    background: bool = False
    depth: int = 0
    """0 for a top-level command, more inside substitutions, subshells and ``sh -c`` strings."""
    origin: str = "command"
    """``command``, ``substitution``, ``process-substitution``, ``subshell``, ``sh -c``, ``eval``,
    ``heredoc``, ``exec-option`` (e.g. ``find -exec``), ``wrapper``."""

    @property
    def argv(self) -> list[str]:
        return [w.text for w in self.words]

    @property
    def text(self) -> str:
        parts = [w.text for w in self.words]
        for r in self.redirects:
            parts.append(f"{r.fd}{r.op} {r.target.text}" if r.op not in ("<<", "<<-") else f"{r.op} heredoc")
        return " ".join(parts)


_KEYWORDS = frozenset(
    {
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "for",
        "while",
        "until",
        "do",
        "done",
        "case",
        "esac",
        "function",
        "select",
        "coproc",
        "{",
        "}",
        "[[",
        "]]",
        "!",
        "in",
    }
)
"""Shell keywords: control structures and groups the parser refuses."""

_ANSI = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
"""The escapes ``$'...'`` decodes."""
