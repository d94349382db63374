"""Output validator: inspect what a tool returned, and block, redact or log sensitive output.

Runs in ``agent_security_after_execution`` (only for calls made through ``protect``). The result is
serialised (a ``str`` as is, ``bytes`` decoded as UTF-8 with replacement, anything else as JSON with
``str()`` for unknown objects) and scanned for

* ``sensitive_patterns``: regular expressions, compiled with RE2 (linear time, no catastrophic
  backtracking); a ``re.Pattern`` keeps its IGNORECASE flag;
* ``forbidden_keywords``: case-insensitive substrings;
* ``max_output_size``: the length of the serialised result in characters (0 = unlimited).

Every result is scanned, including falsy ones (``0``, ``""``, ``False``, ``[]``; Agent-SPM skipped them,
W25). ``None`` is skipped only when the tool raised (there is no result then).

``action`` decides what a violation does:

* ``"block"`` (default): the result is withheld, DENY ``OUTPUT_BLOCKED`` (the caller gets
  ``SecurityError``);
* ``"redact"``: every match is replaced by ``[REDACTED]`` inside the result's strings (structure and
  types kept; a matching non-string leaf becomes ``"[REDACTED]"``). If the redacted result still
  matches (a match that spanned several values) or is oversized, it is blocked instead;
* ``"log"``: the result is returned unchanged; the violation is recorded (Agent-SPM's behaviour).

A result that cannot be serialised or scanned is blocked (or, with ``"log"``, recorded as
``unscannable``). Reason messages, audit annotations, violations and callback arguments never contain the
matched text: callbacks receive masked previews (``12*******89``).
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import re2
from pydantic import BaseModel, ConfigDict

from agent_security.core.context import CheckContext
from agent_security.core.errors import ConfigurationError
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import ActionRequest, Decision, ExecutionResult

__all__ = ["OutputValidator", "OutputViolation", "mask", "output_validator"]

REDACTED = "[REDACTED]"
MAX_PATTERNS = 256
MAX_PATTERN_CHARS = 4_096
MAX_KEYWORDS = 1_024
MAX_DEPTH = 64
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
        raise ConfigurationError(
            f"sensitive_patterns[{index}] is not a valid RE2 pattern: {detail}") from None


class _Unscannable(Exception):
    pass


def _serialise(result: Any) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, bytes | bytearray):
        return bytes(result).decode("utf-8", errors="replace")
    try:
        return json.dumps(result, default=str, ensure_ascii=False, check_circular=True)
    except (ValueError, TypeError, RecursionError) as exc:
        raise _Unscannable(type(exc).__name__) from None


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
        self._keyword_re = (re2.compile("|".join(re2.escape(k) for k in keywords), options=_options(True))
                            if keywords else None)
        self.max_output_size = int(max_output_size)
        self.action: Action = action
        self._on_sensitive_data = on_sensitive_data
        self._on_oversized_output = on_oversized_output
        self._lock = threading.Lock()
        self._violations: deque[OutputViolation] = deque(maxlen=max_violations)
        self.dropped_violations = 0

    # -- scanning -----------------------------------------------------------------------------
    def _pattern_hits(self, text: str) -> list[str]:
        hits = []
        for pat in self._patterns:
            m = pat.search(text)
            if m is not None:
                hits.append(m.group(0))
        return hits

    def _keyword_hits(self, text: str) -> list[str]:
        if self._keyword_re is None:
            return []
        folded = text.casefold()
        return [k for k in self._keywords if k.casefold() in folded]

    def _redact_text(self, text: str) -> str:
        for pat in self._patterns:
            text = pat.sub(REDACTED, text)
        if self._keyword_re is not None:
            text = self._keyword_re.sub(REDACTED, text)
        return text

    def _redact(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise _Unscannable("too deep")
        if isinstance(value, str):
            return self._redact_text(value)
        if isinstance(value, Mapping):
            return {self._redact(k, depth + 1) if isinstance(k, str) else k: self._redact(v, depth + 1)
                    for k, v in value.items()}
        if isinstance(value, list | tuple):
            items = [self._redact(v, depth + 1) for v in value]
            return items if isinstance(value, list) else tuple(items)
        text = _serialise(value)
        return REDACTED if self._redact_text(text) != text else value

    # -- the hook -----------------------------------------------------------------------------
    @hookimpl
    def agent_security_after_execution(
        self, request: ActionRequest, decision: Decision, result: Any, error: BaseException | None,
        ctx: CheckContext,
    ) -> ExecutionResult | None:
        if error is not None and result is None:
            return None
        return self.validate(result, tool_name=request.action.tool_name, agent_id=request.agent.agent_id,
                             ctx=ctx)

    def validate(self, result: Any, *, tool_name: str, agent_id: str = "",
                 ctx: CheckContext | None = None) -> ExecutionResult | None:
        """Scan ``result``; ``None`` to pass it through, else a replacement or a block (see module doc)."""
        found: list[tuple[ViolationType, str]] = []
        try:
            text = _serialise(result)
        except _Unscannable as exc:
            found.append(("unscannable", f"Output could not be serialised for scanning ({exc})"))
            return self._conclude(found, None, result, tool_name, agent_id, ctx, redactable=False)
        hits = self._pattern_hits(text)
        if hits:
            found.append(("sensitive_data", f"Detected {len(hits)} sensitive pattern(s)"))
            if self._on_sensitive_data is not None:
                self._on_sensitive_data(tool_name, [mask(h) for h in hits])
        words = self._keyword_hits(text)
        if words:
            found.append(("forbidden_keyword", f"Found {len(words)} forbidden keyword(s)"))
            if self._on_sensitive_data is not None:
                self._on_sensitive_data(tool_name, [mask(w) for w in words])
        size = len(text)
        oversized = 0 < self.max_output_size < size
        if oversized:
            found.append(("oversized_output", f"Output size {size} exceeds max {self.max_output_size}"))
            if self._on_oversized_output is not None:
                self._on_oversized_output(tool_name, size)
        return self._conclude(found, text, result, tool_name, agent_id, ctx, redactable=not oversized)

    def _conclude(self, found: list[tuple[ViolationType, str]], text: str | None, result: Any, tool_name: str,
                  agent_id: str, ctx: CheckContext | None, *, redactable: bool) -> ExecutionResult | None:
        if not found:
            return None
        outcome: ExecutionResult | None
        taken: Literal["blocked", "redacted", "logged"]
        if self.action == "log":
            outcome, taken = None, "logged"
        elif self.action == "redact" and redactable:
            try:
                redacted = self._redact(result)
                again = _serialise(redacted)
                clean = not self._pattern_hits(again) and not self._keyword_hits(again)
            except _Unscannable:
                clean = False
            if clean:
                outcome, taken = ExecutionResult(replace=True, result=redacted), "redacted"
            else:
                outcome, taken = self._block(found, tool_name), "blocked"
        else:
            outcome, taken = self._block(found, tool_name), "blocked"
        now = ctx.now if ctx is not None else datetime.now(UTC)
        with self._lock:
            for kind, details in found:
                if len(self._violations) == self._violations.maxlen:
                    self.dropped_violations += 1
                self._violations.append(OutputViolation(timestamp=now, tool_name=tool_name, agent_id=agent_id,
                                                        type=kind, details=details, action_taken=taken))
        if ctx is not None:
            ctx.annotate(self.name, {"violations": [k for k, _ in found], "action": taken})
        return outcome

    def _block(self, found: list[tuple[ViolationType, str]], tool_name: str) -> ExecutionResult:
        summary = "; ".join(d for _, d in found)
        return ExecutionResult(block=Decision.deny(
            "OUTPUT_BLOCKED", f"Output of tool {tool_name} withheld: {summary}", plugin_source=self.name))

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
    return OutputValidator(sensitive_patterns, forbidden_keywords, max_output_size, action, on_sensitive_data,
                           on_oversized_output, max_violations=max_violations)
