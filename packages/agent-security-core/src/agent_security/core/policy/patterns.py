"""Linear-time regular expressions (RE2) and ``*`` globs for policy rules.

Every pattern a policy author writes runs in RE2 (PyPI ``google-re2``), whose matching time is linear
in the input, so no pattern can hang a check (Agent-SPM's weakness W4: ``\\w*\\w*\\w*!`` passed its
ReDoS filter and took 149 s). A pattern RE2 cannot compile (look-around, back-references, possessive
quantifiers, repetition counts over 1000, ...) is a load error (W5: the original silently disabled the
rule instead). JavaScript's ``\\uXXXX`` escape is translated to RE2's ``\\x{XXXX}`` so patterns written
for the original keep working.

Linear is not cheap: when a pattern's DFA outgrows its memory budget, RE2 falls back to a simulation
whose cost per input character grows with the size of the compiled program (a 61-character pattern of
bounded repetitions cost about 0.1 ms per character). So the cost of one search is bounded twice:

* at load time, a pattern whose RE2 program is larger than :data:`MAX_PROGRAM_SIZE` instructions is an
  error;
* at evaluation time, a pattern runs on at most :data:`MAX_REGEX_INPUT` characters, and on at most
  :data:`REGEX_WORK_BUDGET` divided by its program size (:attr:`CompiledPattern.max_input`). Longer text
  is not searched: the result is indeterminate, and the engine fails closed.
"""

from __future__ import annotations

import re
import threading
import weakref
from typing import Any, Protocol

import re2

__all__ = [
    "MAX_PATTERN_LENGTH",
    "MAX_PROGRAM_SIZE",
    "MAX_REGEX_INPUT",
    "REGEX_WORK_BUDGET",
    "CompiledPattern",
    "Glob",
    "compile_pattern",
    "glob_set",
    "has_anchor",
    "translate_js_escapes",
]

MAX_PATTERN_LENGTH = 4096
"""Longest accepted ``matches_regex`` / ``regex`` pattern, in characters."""
MAX_PROGRAM_SIZE = 5_000
"""Largest accepted RE2 program (``programsize``, forward or reverse), in instructions. Ordinary patterns
are far below it: an e-mail address pattern is about 40, a GitHub token pattern about 260."""
MAX_REGEX_INPUT = 256 * 1024
"""Longest text, in characters, a pattern is run on (the joined ``matches_regex`` text, or one
``tool_args_match`` value)."""
REGEX_WORK_BUDGET = 1 << 27
"""Program size times input characters allowed for one search: a pattern of program size *p* runs on at
most ``min(MAX_REGEX_INPUT, REGEX_WORK_BUDGET // p)`` characters (the full 256 Ki characters up to
*p* = 512; 26,843 characters at the largest accepted size)."""
_MAX_MEM = 8 << 20  # RE2 program memory budget per pattern (bytes)

_JS_UNICODE_ESCAPE = re.compile(r"\\(\\|u([0-9A-Fa-f]{4}))")


class CompiledPattern:
    """A compiled, case-insensitive RE2 pattern and the longest text it may run on. Immutable and safe to
    share between threads."""

    __slots__ = ("__weakref__", "_regex", "max_input", "pattern", "program_size")

    def __init__(self, pattern: str, regex: Any, program_size: int) -> None:
        self.pattern = pattern
        self._regex = regex
        self.program_size = program_size
        self.max_input = min(MAX_REGEX_INPUT, REGEX_WORK_BUDGET // max(program_size, 1))

    def matches(self, text: str) -> bool | None:
        """Whether the pattern occurs in ``text``; ``None`` (indeterminate) when ``text`` is longer than
        :attr:`max_input`, in which case it is not searched."""
        if len(text) > self.max_input:
            return None
        return self._regex.search(text) is not None

    def search(self, text: str) -> Any:
        """RE2's ``search`` (a match object or ``None``) without the input limit; for short texts only."""
        return self._regex.search(text)

    def __repr__(self) -> str:
        return f"CompiledPattern({self.pattern!r}, program_size={self.program_size})"


def has_anchor(pattern: str) -> bool:
    """Whether ``pattern`` may hold a position assertion other than a word boundary (``^``, ``$``,
    ``\\A``, ``\\z``) outside a character class: such a pattern can match one value alone and not the
    values joined (or the reverse). Conservative: an unclosed class counts as an anchor."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 < n and pattern[i + 1] in "Az":
                return True
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            if j >= n:
                return True
            i = j + 1
            continue
        if c in "^$":
            return True
        i += 1
    return False


def translate_js_escapes(pattern: str) -> str:
    """Rewrite JavaScript ``\\uXXXX`` escapes as RE2 ``\\x{XXXX}`` (``\\\\u`` stays literal)."""
    if "\\u" not in pattern:
        return pattern

    def repl(m: re.Match[str]) -> str:
        return m.group(0) if m.group(2) is None else "\\x{" + m.group(2) + "}"

    return _JS_UNICODE_ESCAPE.sub(repl, pattern)


_cache: weakref.WeakValueDictionary[str, CompiledPattern] = weakref.WeakValueDictionary()
_cache_lock = threading.Lock()


def compile_pattern(pattern: str) -> CompiledPattern:
    """Compile a case-insensitive RE2 pattern; ``ValueError`` with a precise message if it cannot be used.

    Compiled patterns are shared while something (an engine) uses them; the cache holds them weakly, so
    the patterns of a dropped engine are freed with it.
    """
    with _cache_lock:
        cached = _cache.get(pattern)
    if cached is not None:
        return cached
    compiled = _compile(pattern)
    with _cache_lock:
        return _cache.setdefault(pattern, compiled)


def _compile(pattern: str) -> CompiledPattern:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"regular expression is {len(pattern)} characters long; the limit is {MAX_PATTERN_LENGTH}")
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = _MAX_MEM
    try:
        regex = re2.compile(translate_js_escapes(pattern), options)
        size = max(regex.programsize, regex.reverseprogramsize)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise ValueError(
            f"invalid regular expression {pattern!r}: {detail} (patterns run in RE2: "
            "no look-around, no back-references)"
        ) from None
    except Exception as exc:  # RE2 raises plain exceptions on some resource limits
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    if size > MAX_PROGRAM_SIZE:
        raise ValueError(
            f"regular expression {_short(pattern)} is too complex: its RE2 program has {size:,} "
            f"instructions; the limit is {MAX_PROGRAM_SIZE:,} (large bounded repetitions such "
            "as {1000} cost one instruction per repetition)"
        )
    return CompiledPattern(pattern, regex, size)


def _short(pattern: str) -> str:
    return repr(pattern) if len(pattern) <= 60 else repr(pattern[:57] + "...")


class Glob:
    """A name pattern where ``*`` matches any run of characters (possibly empty) and every other
    character is literal. Matching is linear-time (greedy segment search, no backtracking blow-up).
    Both the pattern and the names it is tested against are expected to be normalised already."""

    __slots__ = ("_first", "_last", "_middle", "_min_len", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        parts = pattern.split("*")
        self._first = parts[0]
        self._last = parts[-1] if len(parts) > 1 else ""
        self._middle = tuple(p for p in parts[1:-1] if p)
        self._min_len = len(self._first) + len(self._last) + sum(len(p) for p in self._middle)

    @property
    def is_wildcard(self) -> bool:
        """True when the pattern contains at least one ``*``."""
        return "*" in self.pattern

    @property
    def matches_everything(self) -> bool:
        return bool(self.pattern) and set(self.pattern) == {"*"}

    @property
    def literal_prefix(self) -> str:
        return self._first

    @property
    def literal_suffix(self) -> str:
        return self._last

    def match(self, name: str) -> bool:
        if "*" not in self.pattern:
            return name == self.pattern
        if len(name) < self._min_len or not name.startswith(self._first) or not name.endswith(self._last):
            return False
        pos = len(self._first)
        end = len(name) - len(self._last)
        for part in self._middle:
            found = name.find(part, pos, end)
            if found < 0:
                return False
            pos = found + len(part)
        return True

    def __repr__(self) -> str:
        return f"Glob({self.pattern!r})"


class GlobSet(Protocol):
    def Match(self, text: str) -> list[int] | None: ...


def glob_set(globs: list[Glob]) -> GlobSet | None:
    """One RE2 set matching all ``globs`` at once (``Match(name)`` gives the positions of the globs that
    match), or ``None`` if RE2 cannot build it (the caller then tests the globs one by one)."""
    options = re2.Options()
    options.log_errors = False
    options.dot_nl = True
    options.max_mem = 64 << 20
    try:
        result: GlobSet = re2.Set.FullMatchSet(options)
        for glob in globs:
            result.Add(".*".join(re2.escape(part) for part in glob.pattern.split("*")))  # type: ignore[attr-defined]
        result.Compile()  # type: ignore[attr-defined]
    except Exception:
        return None
    return result
