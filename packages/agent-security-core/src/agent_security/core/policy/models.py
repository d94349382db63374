"""The policy bundle schema as frozen pydantic models.

A bundle is the file format of Agent-SPM (``version``, ``generated_at``, ``expires_at``, ``rules``,
``defaults``, optional HMAC ``signature``) plus an optional ``signatures`` list of Ed25519 signatures.
Unknown keys are errors everywhere (a typo such as ``contain_any`` must not silently widen a rule).
Values are kept exactly as written (the canonical form used for signatures is built from them);
normalisation happens in the engine.

See ``docs/policies.md`` for the full reference.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from agent_security.core.models import Outcome, TrustLevel
from agent_security.core.normalize import normalize_text
from agent_security.core.policy._frozen import deep_freeze
from agent_security.core.policy.conditions import parse_tool_args_match
from agent_security.core.policy.patterns import compile_pattern

__all__ = [
    "MAX_BUNDLE_PROGRAM_SIZE",
    "MAX_RULES",
    "BundleSignature",
    "LocatedError",
    "PolicyBundle",
    "PolicyDefaults",
    "PolicyRule",
    "RuleMatch",
    "RuleWhen",
    "close_key",
    "known_keys",
    "parse_timestamp",
]

MAX_RULES = 1000
MAX_BUNDLE_PROGRAM_SIZE = 1_000_000
"""RE2 instructions all the regular expressions of one bundle may compile to (bounds load time and
memory: each pattern is also limited to ``patterns.MAX_PROGRAM_SIZE``)."""
MAX_ID_LENGTH = 256
OUTCOMES = tuple(o.value for o in Outcome)
TRUST_NAMES = tuple(t.value for t in TrustLevel)

_TIMESTAMP = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.(?P<frac>\d{1,9}))?)?)"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?"
)


def parse_timestamp(value: str) -> datetime:
    """Parse a strict ISO-8601 timestamp into an aware UTC ``datetime``.

    Accepted: ``2026-01-21``, ``2026-01-21T00:00``, ``2026-01-21T00:00:00``, with optional fraction
    (up to 9 digits) and zone (``Z`` or ``+hh:mm``). A date alone means midnight UTC and a time without a
    zone is UTC (as JavaScript reads the former; documented for the latter). Anything else (``January
    1, 2026``, ``2026/01/01``, week dates, ...) raises ``ValueError``.
    """
    m = _TIMESTAMP.fullmatch(value)
    if m is None:
        raise ValueError(f"not an ISO-8601 timestamp: {value!r} (expected e.g. 2026-01-21T00:00:00Z)")
    try:
        day = date.fromisoformat(m.group("date"))
        if m.group("time") is None:
            return datetime.combine(day, time(0), tzinfo=UTC)
        clock = m.group("time")
        frac = m.group("frac")
        if frac is not None:
            clock = clock[: -len(frac) - 1] + "." + (frac + "000000")[:6]
        tz = m.group("tz") or "+00:00"
        parsed = datetime.fromisoformat(f"{day.isoformat()}T{clock}{'+00:00' if tz == 'Z' else tz}")
    except ValueError:
        raise ValueError(f"not a valid date/time: {value!r}") from None
    return parsed.astimezone(UTC)


class LocatedError(ValueError):
    """A validation error that knows which rule and field it is about (read by the loader)."""

    def __init__(self, message: str, *, rule_id: str | None = None, field: str | None = None) -> None:
        self.rule_id = rule_id
        self.field = field
        super().__init__(message)


# ----------------------------------------------------------------------------------------------------
# Field types with precise messages


def _nonempty_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{what} must not be empty")
    return value


def _name_or_list(value: Any) -> Any:
    if isinstance(value, str):
        return _nonempty_str(value, "a name")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise ValueError(f"must be a string or a list of non-empty strings (item {i} is {item!r})")
        return tuple(value)
    raise ValueError(f"must be a string or a list of strings, got {type(value).__name__}")


def _str_list(value: Any) -> Any:
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ValueError(f"must be a list of strings (item {i} is {type(item).__name__})")
        return tuple(value)
    raise ValueError(f"must be a list of strings, got {type(value).__name__}")


def _outcome(value: Any) -> Any:
    if isinstance(value, Outcome):
        return value
    if not isinstance(value, str) or value not in OUTCOMES:
        raise ValueError(f"must be one of: {', '.join(OUTCOMES)}. Got: {value!r}")
    return Outcome(value)


def _trust(value: Any) -> Any:
    if isinstance(value, TrustLevel):
        return value
    if not isinstance(value, str) or value not in TRUST_NAMES:
        raise ValueError(f"unknown trust level {value!r} (expected one of: {', '.join(TRUST_NAMES)})")
    return TrustLevel(value)


def _object(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError(f"must be an object, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise ValueError(f"keys must be strings, got {type(key).__name__}")
    return value


NameMatch = Annotated[str | tuple[str, ...], BeforeValidator(_name_or_list)]
StrList = Annotated[tuple[str, ...], BeforeValidator(_str_list)]
OutcomeField = Annotated[Outcome, BeforeValidator(_outcome)]
TrustField = Annotated[TrustLevel, BeforeValidator(_trust)]
JsonObject = Annotated[Mapping[str, Any], BeforeValidator(_object), AfterValidator(deep_freeze)]


class PolicyModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False, defer_build=True)


class RuleMatch(PolicyModel):
    """Which requests a rule is about. All present fields must match (AND)."""

    tool_name: NameMatch
    """A tool name, ``*`` (any), a glob with ``*`` anywhere (``query_*``, ``*_email``), or a list of
    those. Compared case-insensitively after Unicode normalisation."""
    environment: NameMatch = "*"
    """Same forms as ``tool_name``; ``*`` (the default) matches every environment."""
    agent_type: NameMatch | None = None
    trust_level_min: TrustField | None = None
    """The agent's ``trust_level`` must be at least this (``untrusted`` < ``basic`` < ``verified`` <
    ``privileged`` < ``system``); an agent without a trust level never matches."""
    agent_roles_any: StrList | None = None
    """The agent must hold at least one of these roles (an empty list is ignored)."""
    tool_provider: NameMatch | None = None
    """Matched against ``action.tool_identity.provider``; a request without one never matches."""


class RuleWhen(PolicyModel):
    """Conditions on the request content. All present conditions must hold (AND)."""

    contains_any: StrList | None = None
    """Holds when any term occurs in the searchable text (normalised substring match). Empty: ignored."""
    not_contains: StrList | None = None
    """Holds when no term occurs in the searchable text. Empty: ignored."""
    matches_regex: str | None = None
    """RE2 pattern, case-insensitive, searched in the searchable values joined with spaces."""
    data_labels_any: StrList | None = None
    """Holds when the request carries any of these data labels (case-insensitive). Empty: ignored."""
    tool_args_match: JsonObject | None = None
    """Per argument path: a literal (equality) or an operator object; see ``conditions``."""

    @field_validator("contains_any", "not_contains")
    @classmethod
    def _terms_not_blank(cls, terms: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for term in terms or ():
            if not normalize_text(term):
                raise ValueError(f"term {term!r} is empty after normalisation (it would match everything)")
        return terms

    @field_validator("matches_regex")
    @classmethod
    def _regex_compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            compile_pattern(pattern)
        return pattern

    @field_validator("tool_args_match")
    @classmethod
    def _args_match_valid(cls, raw: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        if raw is not None:
            parse_tool_args_match(raw)
        return raw


class PolicyRule(PolicyModel):
    """One rule. Rules are tried in order; the first that matches decides."""

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    """Unique within the bundle; becomes the decision's reason code."""
    description: str = ""
    """Becomes the decision's reason message."""
    match: RuleMatch
    when: RuleWhen | None = None
    outcome: OutcomeField
    approver_role: str | None = None
    """Copied to the decision (who must approve an approval-like outcome)."""
    constraints: JsonObject | None = None
    """Free-form data copied to the decision for the caller to enforce."""


class PolicyDefaults(PolicyModel):
    outcome: OutcomeField
    """The outcome when no rule matches (reason code ``DEFAULT_<OUTCOME>``)."""


class BundleSignature(PolicyModel):
    """An Ed25519 signature over the bundle's canonical form (see ``signing``)."""

    key_id: str = Field(min_length=1, max_length=128)
    alg: Literal["ed25519"]
    sig: str = Field(min_length=1, max_length=256)
    """Base64 (standard alphabet) of the 64-byte signature."""


def _patterns(when: RuleWhen | None) -> list[str]:
    if when is None:
        return []
    patterns = [when.matches_regex] if when.matches_regex is not None else []
    for spec in (when.tool_args_match or {}).values():
        if isinstance(spec, Mapping) and isinstance(spec.get("regex"), str):
            patterns.append(spec["regex"])
    return patterns


class PolicyBundle(PolicyModel):
    """A versioned, expiring, optionally signed list of rules."""

    version: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    generated_at: str
    """ISO-8601 timestamp (see :func:`parse_timestamp`); must be before ``expires_at``."""
    expires_at: str
    """ISO-8601 timestamp; after it every decision is DENY ``POLICY_EXPIRED``."""
    rules: tuple[PolicyRule, ...] = Field(max_length=MAX_RULES)
    defaults: PolicyDefaults
    signature: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    """HMAC-SHA256 (lower-case hex) of the canonical bundle, Agent-SPM compatible field name."""
    signatures: tuple[BundleSignature, ...] | None = Field(default=None, max_length=16)
    """Ed25519 signatures of the canonical bundle."""

    @field_validator("generated_at", "expires_at")
    @classmethod
    def _timestamp(cls, value: str) -> str:
        parse_timestamp(value)
        return value

    @model_validator(mode="after")
    def _semantics(self) -> PolicyBundle:
        if parse_timestamp(self.generated_at) >= parse_timestamp(self.expires_at):
            raise LocatedError("generated_at must be before expires_at", field="generated_at")
        seen: set[str] = set()
        program_size = 0
        for rule in self.rules:
            if rule.id in seen:
                raise LocatedError(f"duplicate rule id {rule.id!r}", rule_id=rule.id, field="id")
            seen.add(rule.id)
            program_size += sum(compile_pattern(p).program_size for p in _patterns(rule.when))
            if program_size > MAX_BUNDLE_PROGRAM_SIZE:
                raise LocatedError(
                    f"the regular expressions of the bundle up to this rule compile to more than "
                    f"{MAX_BUNDLE_PROGRAM_SIZE:,} RE2 instructions (the limit for a bundle)",
                    rule_id=rule.id,
                    field="when",
                )
        return self

    @property
    def generated_at_dt(self) -> datetime:
        return parse_timestamp(self.generated_at)

    @property
    def expires_at_dt(self) -> datetime:
        return parse_timestamp(self.expires_at)

    def is_expired(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now >= self.expires_at_dt

    def rule(self, rule_id: str) -> PolicyRule | None:
        """The rule with this id, or ``None``."""
        return next((r for r in self.rules if r.id == rule_id), None)

    def to_data(self, *, include_signatures: bool = True) -> dict[str, Any]:
        """The bundle as plain JSON data, exactly the fields that were given (the signed form)."""
        exclude = None if include_signatures else {"signature", "signatures"}
        data: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True, exclude=exclude)
        return data


# ----------------------------------------------------------------------------------------------------
# Key names, for messages about unknown keys


def _models_in(annotation: Any) -> list[type[PolicyModel]]:
    if isinstance(annotation, type) and issubclass(annotation, PolicyModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType, tuple, list):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def known_keys(path: Iterable[str | int]) -> tuple[str, ...] | None:
    """The keys a bundle may hold at ``path`` (e.g. ``("rules", 0, "match")``: the fields of
    :class:`RuleMatch`), or ``None`` where the value is free-form or the path leads nowhere."""
    model: type[PolicyModel] = PolicyBundle
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        found = _models_in(field.annotation)
        if len(found) != 1:
            return None
        model = found[0]
    return tuple(model.model_fields)


def close_key(key: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a mistyped ``key`` (``tool_nam`` -> ``tool_name``), or ``None``."""
    matches = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    if not matches:  # case or separator slips (Tool-Name, TOOLNAME) that the ratio alone misses
        folded = {c.replace("_", "").lower(): c for c in candidates}
        hit = folded.get(key.replace("_", "").replace("-", "").lower())
        return hit
    return matches[0]
