"""Output validator: inspect what a tool returned, and block, redact or log sensitive output.

Runs in ``agent_security_after_execution`` (only for calls made through ``protect``). A ``str`` result is
scanned as is and ``bytes`` decoded as UTF-8 with replacement. Any other result is walked (mappings, lists,
tuples, sets, deques and dict views; dataclass instances and pydantic models through their fields and
their ``str()``; any other object as its ``str()``) and scanned twice: as its JSON text, so a pattern
written against that form (``"user": "alice"``) still matches across values, and as the strings it holds,
keys included, *as they are*, each on its own, so JSON escaping (a newline written ``\\n``, a quote ``\\"``,
a backslash ``\\\\``) cannot hide a match. The walk is bounded: :data:`MAX_DEPTH` levels, :data:`MAX_ITEMS`
values and :data:`MAX_CHARS` characters, shared references counted each time they are reached; a result
beyond them is unscannable. What is looked for:

* ``sensitive_patterns``: regular expressions, compiled with RE2 (linear time, no catastrophic
  backtracking); a ``re.Pattern`` keeps its IGNORECASE flag;
* ``forbidden_keywords``: case-insensitive substrings;
* ``max_output_size``: the length of the result's text (a ``str`` itself, else its JSON text) in
  characters (0 = unlimited).

Every result is scanned, including falsy ones (``0``, ``""``, ``False``, ``[]``; Agent-SPM skipped them,
W25).

When the tool raises, there is no result: the exception is scanned instead (patterns and keywords, not
``max_output_size``), since its text reaches the caller like output does (a subprocess's stderr, an HTTP
error body). What is scanned is what a caller can read from it and from every exception chained to it
(``__cause__``, ``__context__``, an exception group's members; at most :data:`MAX_EXCEPTIONS`): its
``str()``, ``args``, notes and public attributes, walked like a result (so a lazy attribute such as an
unread response body is unscannable). Not its traceback. On a violation ``"block"`` raises
``SecurityError`` (DENY ``OUTPUT_BLOCKED``) instead of the exception, not chained to it; ``"redact"``
raises a sanitised exception instead: one of the same type built from the redacted ``args`` when that
runs only Python's own code (a class that defines no ``__new__`` or ``__init__`` of its own, such as
``RuntimeError`` or ``class UpstreamError(RuntimeError): pass``) and nothing matches in it, else
:class:`~agent_security.core.errors.RedactedToolError` with the redacted message (or none when redaction
cannot clean it). The replacement carries none of the original's traceback, notes, attributes or chained
exceptions. ``"log"`` records the violation and lets the exception through. The audit annotation says
``"scanned": "exception"``.

``action`` decides what a violation does:

* ``"block"`` (default): the result is withheld, DENY ``OUTPUT_BLOCKED`` (the caller gets
  ``SecurityError``);
* ``"redact"``: every match is replaced by ``[REDACTED]`` inside the result's strings and keys, and the
  result is rebuilt: a mapping as a ``dict``; ``list``, ``tuple``, named tuples, ``set``, ``frozenset``
  and ``deque`` keep their type; dict views become lists; any other value that matches (a number, bytes,
  a dataclass, an object) becomes ``"[REDACTED]"``. If the redacted result still matches (a match that
  spanned several values) or is oversized, it is blocked instead;
* ``"log"``: the result is returned unchanged; the violation is recorded (Agent-SPM's behaviour).

A result that cannot be scanned is blocked, with ``"redact"`` too (with ``"log"`` it is returned and
recorded as ``unscannable``): one too deep or too large, an object whose ``str()`` raises, and a *lazy*
result, anywhere in the result, whose contents cannot be seen without consuming or running it: an
iterator or generator (sync or async; ``map``, ``filter``, ``iter()``, a cursor), a coroutine or other
awaitable, a file-like object with ``read()`` (``io.StringIO``, an open file, an HTTP response body).
Such a result is not read: it is blocked, never materialised (a generator could be endless, and its
side effects would run inside the check); a tool should return a list, ``str`` or ``bytes``. Any other
object is seen only through its ``str()``: what it holds but does not show there (an object whose
``repr`` is ``<Response [200]>``) is not scanned. Reason messages, audit annotations, violations and callback
arguments never contain the matched text: callbacks receive masked previews (``12*******89``).
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import (
    Callable,
    Iterable,
    Mapping,
)
from datetime import UTC, datetime
from typing import Any, Literal

import re2
from pydantic import BaseModel, ConfigDict

from agent_security.core.builtin._output_walk import (
    _buildable,
    _exception_parts,
    _flatten,
    _key_text,
    _Scan,
    _scan_texts,
    _sequence_items,
    _Unscannable,
    _Walk,
)
from agent_security.core.context import CheckContext
from agent_security.core.errors import ConfigurationError, RedactedToolError
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import ActionRequest, Decision, ExecutionResult

__all__ = ["OutputValidator", "OutputViolation", "mask", "output_validator"]

REDACTED = "[REDACTED]"
MAX_PATTERNS = 256
MAX_PATTERN_CHARS = 4_096
MAX_KEYWORDS = 1_024
ViolationType = Literal["sensitive_data", "forbidden_keyword", "oversized_output", "unscannable"]
Action = Literal["block", "redact", "log"]


class OutputViolation(BaseModel):
    """One violation found in a tool's output (never the matched text itself)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timestamp: datetime
    tool_name: str
    agent_id: str
    type: ViolationType
    details: str
    action_taken: Literal["blocked", "redacted", "logged"]


def mask(text: str) -> str:
    """A preview that does not reveal the value: first and last two characters of long values only."""
    if len(text) < 8:
        return "*" * len(text)
    return text[:2] + "*" * (len(text) - 4) + text[-2:]


def _options(ignore_case: bool) -> Any:
    opts = re2.Options()
    opts.log_errors = False
    opts.case_sensitive = not ignore_case
    return opts


def _compile(pattern: str | re.Pattern[str], index: int) -> Any:
    if isinstance(pattern, re.Pattern):
        source, ignore_case = pattern.pattern, bool(pattern.flags & re.IGNORECASE)
    elif isinstance(pattern, str):
        source, ignore_case = pattern, False
    else:
        raise ConfigurationError(f"sensitive_patterns[{index}] must be a string or re.Pattern")
    if len(source) > MAX_PATTERN_CHARS:
        raise ConfigurationError(f"sensitive_patterns[{index}] is longer than {MAX_PATTERN_CHARS} characters")
    try:
        return re2.compile(source, options=_options(ignore_case))
    except re2.error as exc:
        raw = exc.args[0] if exc.args else exc
        detail = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        raise ConfigurationError(f"sensitive_patterns[{index}] is not a valid RE2 pattern: {detail}") from None


class OutputValidator:
    """The output-validator plugin. Build it with :func:`output_validator`."""

    name = "output_validator"
    fail_open = False

    def __init__(
        self,
        sensitive_patterns: Iterable[str | re.Pattern[str]] = (),
        forbidden_keywords: Iterable[str] = (),
        max_output_size: int = 0,
        action: Action = "block",
        on_sensitive_data: Callable[[str, list[str]], None] | None = None,
        on_oversized_output: Callable[[str, int], None] | None = None,
        *,
        max_violations: int = 1_000,
    ) -> None:
        patterns = list(sensitive_patterns)
        keywords = list(forbidden_keywords)
        if len(patterns) > MAX_PATTERNS:
            raise ConfigurationError(f"at most {MAX_PATTERNS} sensitive_patterns are allowed")
        if len(keywords) > MAX_KEYWORDS:
            raise ConfigurationError(f"at most {MAX_KEYWORDS} forbidden_keywords are allowed")
        if any(not isinstance(k, str) or not k for k in keywords):
            raise ConfigurationError("forbidden_keywords must be non-empty strings")
        if action not in ("block", "redact", "log"):
            raise ConfigurationError("action must be 'block', 'redact' or 'log'")
        if max_output_size < 0 or max_violations < 1:
            raise ConfigurationError("max_output_size must be >= 0 and max_violations >= 1")
        self._patterns = [_compile(p, i) for i, p in enumerate(patterns)]
        self._keywords = keywords
        self._keyword_re = (
            re2.compile("|".join(re2.escape(k) for k in keywords), options=_options(True)) if keywords else None
        )
        self.max_output_size = int(max_output_size)
        self.action: Action = action
        self._on_sensitive_data = on_sensitive_data
        self._on_oversized_output = on_oversized_output
        self._lock = threading.Lock()
        self._violations: deque[OutputViolation] = deque(maxlen=max_violations)
        self.dropped_violations = 0

    # -- scanning -----------------------------------------------------------------------------
    def _pattern_hits(self, scan: _Scan) -> list[str]:
        """The first match of each pattern that matches the text or one of the strings as it is."""
        hits = []
        for pat in self._patterns:
            m = pat.search(scan.text)
            if m is None and scan.joined:
                m = pat.search(scan.joined)
                if m is not None and "\n" in m.group(0):  # it may span two strings: look in each instead
                    m = next((f for f in map(pat.search, scan.leaves) if f is not None), None)
            if m is not None:
                hits.append(m.group(0))
        return hits

    def _keyword_hits(self, scan: _Scan) -> list[str]:
        """The keywords found in the text or in one of the strings as it is (case-insensitively)."""
        if self._keyword_re is None:
            return []
        text = scan.text.casefold()
        joined = scan.joined.casefold()
        found = []
        for keyword in self._keywords:
            k = keyword.casefold()
            if k in text or (
                joined and (k in joined if "\n" not in k else any(k in leaf.casefold() for leaf in scan.leaves))
            ):
                found.append(keyword)
        return found

    def _redact_text(self, text: str) -> str:
        for pat in self._patterns:
            text = pat.sub(REDACTED, text)
        if self._keyword_re is not None:
            text = self._keyword_re.sub(REDACTED, text)
        return text

    def _matches(self, value: Any, walk: _Walk, depth: int) -> bool:
        """True when redaction would change one of the texts ``value`` is scanned as (a non-string leaf)."""
        start = len(walk.leaves)
        _flatten(value, walk, depth)
        return any(self._redact_text(t) != t for t in walk.leaves[start:])

    def _redact(self, value: Any, walk: _Walk, depth: int = 0) -> Any:
        """``value`` rebuilt with every match replaced: strings redacted, containers rebuilt (a mapping as
        a ``dict``; ``list``, ``tuple``, named tuples, ``set``, ``frozenset`` and ``deque`` keep their
        type; other sequences become lists), any other value that matches becomes ``"[REDACTED]"``."""
        walk.visit(depth)
        if isinstance(value, str):
            return self._redact_text(walk.leaf(str.__str__(value)))
        if isinstance(value, Mapping):
            pairs = dict.items(value) if isinstance(value, dict) else value.items()
            out: dict[Any, Any] = {}
            for key, child in pairs:
                text = walk.leaf(_key_text(key))
                cleaned = self._redact_text(text)
                if isinstance(key, str):
                    new_key: Any = cleaned
                else:  # a non-string key is kept as it is, or replaced whole when it matches
                    new_key = key if cleaned == text else REDACTED
                out[new_key] = self._redact(child, walk, depth + 1)
            return out
        items = _sequence_items(value)
        if items is None:
            return REDACTED if self._matches(value, walk, depth) else value
        redacted = [self._redact(child, walk, depth + 1) for child in items]
        if isinstance(value, list):
            return redacted
        if isinstance(value, tuple):
            if hasattr(type(value), "_fields"):  # a named tuple: same type, built without its __new__
                return tuple.__new__(type(value), redacted)
            return tuple(redacted)
        if isinstance(value, set):
            return set(redacted)
        if isinstance(value, frozenset):
            return frozenset(redacted)
        if isinstance(value, deque):
            return deque(redacted, maxlen=value.maxlen)
        return redacted

    def _redacted(self, result: Any) -> Any:
        """``result`` redacted; :class:`_Unscannable` if that cannot be done within the bounds."""
        try:
            return self._redact(result, _Walk())
        except _Unscannable:
            raise
        except Exception as exc:
            raise _Unscannable(type(exc).__name__) from None

    # -- the hook -----------------------------------------------------------------------------
    @hookimpl
    def agent_security_after_execution(
        self,
        request: ActionRequest,
        decision: Decision,
        result: Any,
        error: BaseException | None,
        ctx: CheckContext,
    ) -> ExecutionResult | None:
        tool_name, agent_id = request.action.tool_name, request.agent.agent_id
        if error is not None:
            return self.validate_exception(error, tool_name=tool_name, agent_id=agent_id, ctx=ctx)
        return self.validate(result, tool_name=tool_name, agent_id=agent_id, ctx=ctx)

    def validate(
        self, result: Any, *, tool_name: str, agent_id: str = "", ctx: CheckContext | None = None
    ) -> ExecutionResult | None:
        """Scan ``result``; ``None`` to pass it through, else a replacement or a block (see module doc)."""
        found: list[tuple[ViolationType, str]] = []
        try:
            scan = _scan_texts(result)
        except _Unscannable as exc:
            found.append(("unscannable", f"Output could not be scanned ({exc})"))
            return self._conclude(found, result, tool_name, agent_id, ctx, redactable=False)
        self._detect(scan, tool_name, found)
        size = len(scan.text)
        oversized = 0 < self.max_output_size < size
        if oversized:
            found.append(("oversized_output", f"Output size {size} exceeds max {self.max_output_size}"))
            if self._on_oversized_output is not None:
                self._on_oversized_output(tool_name, size)
        return self._conclude(found, result, tool_name, agent_id, ctx, redactable=not oversized)

    def validate_exception(
        self, error: BaseException, *, tool_name: str, agent_id: str = "", ctx: CheckContext | None = None
    ) -> ExecutionResult | None:
        """Scan what a caller can read from an exception the tool raised (see module doc); ``None`` to let
        it propagate, else a block or, with ``"redact"``, a sanitised exception to raise instead."""
        found: list[tuple[ViolationType, str]] = []
        try:
            scan = _scan_texts(_exception_parts(error))
        except _Unscannable as exc:
            found.append(("unscannable", f"Exception could not be scanned ({exc})"))
        else:
            self._detect(scan, tool_name, found)
        if not found:
            return None
        outcome: ExecutionResult | None
        taken: Literal["blocked", "redacted", "logged"]
        if self.action == "log":
            outcome, taken = None, "logged"
        elif self.action == "redact":
            outcome, taken = ExecutionResult(replace=True, result=self._sanitised(error)), "redacted"
        else:
            outcome, taken = self._block(found, f"Exception raised by tool {tool_name}"), "blocked"
        self._record(found, taken, tool_name, agent_id, ctx, {"scanned": "exception"})
        return outcome

    def _detect(self, scan: _Scan, tool_name: str, found: list[tuple[ViolationType, str]]) -> None:
        hits = self._pattern_hits(scan)
        if hits:
            found.append(("sensitive_data", f"Detected {len(hits)} sensitive pattern(s)"))
            if self._on_sensitive_data is not None:
                self._on_sensitive_data(tool_name, [mask(h) for h in hits])
        words = self._keyword_hits(scan)
        if words:
            found.append(("forbidden_keyword", f"Found {len(words)} forbidden keyword(s)"))
            if self._on_sensitive_data is not None:
                self._on_sensitive_data(tool_name, [mask(w) for w in words])

    def _clean(self, value: Any) -> bool:
        """True when ``value`` (an exception: what a caller can read from it) can be scanned and nothing
        matches in it."""
        try:
            scan = _scan_texts(_exception_parts(value) if isinstance(value, BaseException) else value)
        except _Unscannable:
            return False
        return not self._pattern_hits(scan) and not self._keyword_hits(scan)

    def _sanitised(self, error: BaseException) -> BaseException:
        """An exception to raise instead of ``error``: one of its type built from its redacted arguments
        when that runs no code but Python's own and nothing matches in what it shows, else a
        :class:`RedactedToolError` with the redacted message (or none, if that still matches). It carries
        none of ``error``'s traceback, notes, attributes or chained exceptions."""
        cls = type(error)
        try:
            args = self._redacted(list(error.args))
        except _Unscannable:
            args = None
        if args is not None and _buildable(cls):
            try:
                candidate = cls(*args)
            except Exception:
                candidate = None
            if candidate is not None and self._clean(candidate):
                return candidate
        name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
        try:
            message = self._redact_text(str(error))
        except Exception:
            message = ""
        if not message or not self._clean(message):
            message = "the exception's message held sensitive output and was withheld"
        return RedactedToolError(f"{name}: {message}", original_type=name)

    def _conclude(
        self,
        found: list[tuple[ViolationType, str]],
        result: Any,
        tool_name: str,
        agent_id: str,
        ctx: CheckContext | None,
        *,
        redactable: bool,
    ) -> ExecutionResult | None:
        if not found:
            return None
        outcome: ExecutionResult | None
        taken: Literal["blocked", "redacted", "logged"]
        if self.action == "log":
            outcome, taken = None, "logged"
        elif self.action == "redact" and redactable:
            try:
                redacted = self._redacted(result)
                again = _scan_texts(redacted)
                clean = not self._pattern_hits(again) and not self._keyword_hits(again)
            except _Unscannable:
                clean = False
            if clean:
                outcome, taken = ExecutionResult(replace=True, result=redacted), "redacted"
            else:
                outcome, taken = self._block(found, f"Output of tool {tool_name}"), "blocked"
        else:
            outcome, taken = self._block(found, f"Output of tool {tool_name}"), "blocked"
        self._record(found, taken, tool_name, agent_id, ctx, {})
        return outcome

    def _record(
        self,
        found: list[tuple[ViolationType, str]],
        taken: Literal["blocked", "redacted", "logged"],
        tool_name: str,
        agent_id: str,
        ctx: CheckContext | None,
        extra: dict[str, str],
    ) -> None:
        now = ctx.now if ctx is not None else datetime.now(UTC)
        with self._lock:
            for kind, details in found:
                if len(self._violations) == self._violations.maxlen:
                    self.dropped_violations += 1
                self._violations.append(
                    OutputViolation(
                        timestamp=now,
                        tool_name=tool_name,
                        agent_id=agent_id,
                        type=kind,
                        details=details,
                        action_taken=taken,
                    )
                )
        if ctx is not None:
            ctx.annotate(self.name, {"violations": [k for k, _ in found], "action": taken, **extra})

    def _block(self, found: list[tuple[ViolationType, str]], subject: str) -> ExecutionResult:
        summary = "; ".join(d for _, d in found)
        return ExecutionResult(
            block=Decision.deny("OUTPUT_BLOCKED", f"{subject} withheld: {summary}", plugin_source=self.name)
        )

    # -- violations ---------------------------------------------------------------------------
    def get_violations(self) -> list[OutputViolation]:
        """The most recent violations (bounded; ``dropped_violations`` counts the evicted ones)."""
        with self._lock:
            return list(self._violations)

    def clear_violations(self) -> None:
        with self._lock:
            self._violations.clear()


def output_validator(
    sensitive_patterns: Iterable[str | re.Pattern[str]] = (),
    forbidden_keywords: Iterable[str] = (),
    max_output_size: int = 0,
    action: Action = "block",
    on_sensitive_data: Callable[[str, list[str]], None] | None = None,
    on_oversized_output: Callable[[str, int], None] | None = None,
    *,
    max_violations: int = 1_000,
) -> OutputValidator:
    """Create an :class:`OutputValidator` plugin (see the module documentation)."""
    return OutputValidator(
        sensitive_patterns,
        forbidden_keywords,
        max_output_size,
        action,
        on_sensitive_data,
        on_oversized_output,
        max_violations=max_violations,
    )
