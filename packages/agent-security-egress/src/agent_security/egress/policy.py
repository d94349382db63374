"""Egress policy: rules per classification, channel and destination, and the engine that applies them.

Differences from the original's ``DestinationPolicyEngine`` (each one a fix):

* Destination fields are not payload. The recipient address of an email is where the data goes, not
  data leaving; it is matched against allowed destinations/domains and is never itself a reason to
  block (an email or phone number found *in* a destination field is ignored; a secret there still
  counts, e.g. ``https://user:pass@host``).
* Actions are ``block``, ``redact``, ``alert`` and ``allow``, and each does what it says (the
  original's ``alert`` did nothing).
* Each finding gets the action of the first rule that covers its classification (and kind) on this
  channel and whose destination allow-list does not admit every destination; the most severe action
  over all findings wins (block > redact > alert > allow).
* An allow-list with no destination to check does not pass: a rule with ``allowed_destinations`` or
  ``allowed_domains`` applies when the destination is missing (fail closed). ``blocked_destinations``
  always block, whatever the rule's action.
* Globs are compiled once; ``*`` matches any run of characters (so ``*.company.com`` matches hosts)
  and every other character is literal. Domains are matched on the host of a URL or the domain of an
  email address, by suffix at a label boundary.
* Messages name the rule, the classifications and kinds and a *masked* destination, never a value.
"""

from __future__ import annotations

import fnmatch
import re
import threading
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator, model_validator

from agent_security.core import SectionModel
from agent_security.egress.findings import Classification, Finding, mask_destination

__all__ = [
    "ACTION_SEVERITY",
    "CHANNELS",
    "DestinationPolicyEngine",
    "DestinationRule",
    "EgressAction",
    "EgressPolicy",
    "PolicyDecision",
    "ToolChannelMapping",
    "destination_host",
    "resolve_mapping",
]

EgressAction = Literal["block", "redact", "alert", "allow"]
ACTION_SEVERITY: dict[str, int] = {"allow": 0, "alert": 1, "redact": 2, "block": 3}
CHANNELS = (
    "http_request",
    "file_write",
    "db_query",
    "email",
    "clipboard",
    "ci_artifact",
    "mcp_response",
    "terminal_output",
    "chat_message",
    "tool_result",
    "unknown",
)
"""Channels with a meaning in this package; any other lower-case name is accepted too."""

_CHANNEL_RX = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")


class DestinationRule(SectionModel):
    """One rule, as in the original (``id, description, classifications, channels, action``) plus
    destination allow/block lists, optional kinds and a confidence floor."""

    id: str = Field(min_length=1, max_length=128)
    description: str = ""
    classifications: tuple[Classification, ...] = Field(min_length=1)
    kinds: tuple[str, ...] = ()
    """Only these kinds (e.g. ``["ssn"]``); empty means every kind of the classifications."""
    channels: tuple[str, ...] = ()
    """Channels the rule applies to; empty means every channel."""
    allowed_destinations: tuple[str, ...] = ()
    """Globs matched against the whole destination (``*`` = any characters, case-insensitive)."""
    allowed_domains: tuple[str, ...] = ()
    """Domains (and their subdomains) of email recipients or URL hosts the data may go to."""
    blocked_destinations: tuple[str, ...] = ()
    """Globs that block whenever they match, whatever ``action`` says."""
    action: EgressAction = "block"
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for c in v:
            if c != "*" and not _CHANNEL_RX.match(c):
                raise ValueError(f"invalid channel name {c!r}")
        return tuple(c for c in v if c != "*")

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(d.strip().lower().lstrip("*").lstrip(".") for d in v if d.strip())


class ToolChannelMapping(SectionModel):
    """Which channel a tool writes to, and which of its arguments say where."""

    tool_name: str = Field(min_length=1)
    """Exact name or a glob (``query_*``, ``*``)."""
    channel: str
    destination_fields: tuple[str, ...] = ()
    """Argument names (dotted paths for nested ones: ``message.to``) holding destinations."""
    destination_field: str | None = None
    """The original's single-field spelling; merged into ``destination_fields``."""

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if not _CHANNEL_RX.match(v):
            raise ValueError(f"invalid channel name {v!r}")
        return v

    @model_validator(mode="after")
    def _merge(self) -> ToolChannelMapping:
        if self.destination_field and self.destination_field not in self.destination_fields:
            object.__setattr__(self, "destination_fields", (self.destination_field, *self.destination_fields))
        return self


class EgressPolicy(SectionModel):
    rules: tuple[DestinationRule, ...] = ()
    default_action: EgressAction = "block"
    """Action for findings no rule covers (the original's default, ``block``)."""

    @model_validator(mode="after")
    def _unique(self) -> EgressPolicy:
        ids = [r.id for r in self.rules]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate rule ids: {sorted(dup)}")
        return self


_HOST_RX = re.compile(r"[a-z0-9.\-:]{1,253}")
_ANGLE_RX = re.compile(r"[^<>]*<([^<>]*)>\s*")


def destination_host(dest: str) -> str | None:
    """The lower-case host of a URL or domain of an email address; ``None`` for anything else.

    Ambiguous forms are ``None`` (an allow-list then cannot pass them): parsers disagree on them, and
    the host Python sees need not be the one the tool connects to (``https://evil.com\\@company.com``
    is ``company.com`` to :func:`urllib.parse.urlsplit` but ``evil.com`` to a WHATWG URL parser), nor
    the domain a mail client sends to (``x@evil.com;bob@company.com``, ``x@evil.com@company.com``).
    """
    d = dest.strip()
    if "://" in d:
        if "\\" in d or _odd(d):
            return None
        try:
            host = urllib.parse.urlsplit(d).hostname
        except ValueError:
            return None
        return _host(host)
    if "@" in d:
        m = _ANGLE_RX.fullmatch(d)  # "Name <addr@domain>"
        addr = m.group(1).strip() if m else d
        if addr.count("@") != 1 or _odd(addr) or any(c in addr for c in ",;<>()[]\\\"'"):
            return None
        return _host(addr.rpartition("@")[2])
    if re.fullmatch(r"[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", d):
        return d.lower().rstrip(".")
    return None


def _odd(text: str) -> bool:
    return any(c.isspace() or not c.isprintable() for c in text)


def _host(host: str | None) -> str | None:
    if not host:
        return None
    h = host.lower().rstrip(".")
    return h if h and _HOST_RX.fullmatch(h) else None


def _glob_rx(patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    parts = []
    for p in patterns:
        if p == "*":
            parts.append(".*")
            continue
        parts.append(".*".join(re.escape(chunk) for chunk in p.split("*")))
    return re.compile("^(?:" + "|".join(parts) + ")$", re.IGNORECASE | re.DOTALL)


def _domain_ok(host: str | None, domains: Sequence[str]) -> bool:
    if host is None:
        return False
    return any(host == d or host.endswith("." + d) for d in domains)


@dataclass(frozen=True)
class _Compiled:
    rule: DestinationRule
    allowed: re.Pattern[str] | None
    blocked: re.Pattern[str] | None
    classes: frozenset[Classification]
    kinds: frozenset[str]

    @property
    def has_allow_list(self) -> bool:
        return self.allowed is not None or bool(self.rule.allowed_domains)

    def admits(self, dest: str) -> bool:
        if self.allowed is not None and self.allowed.match(dest.strip()):
            return True
        return bool(self.rule.allowed_domains) and _domain_ok(destination_host(dest), self.rule.allowed_domains)


@dataclass(frozen=True)
class PolicyDecision:
    """What the engine decided for one set of findings."""

    action: EgressAction
    rule_ids: tuple[str, ...]
    """Rules that determined an action, in rule order."""
    per_finding: tuple[tuple[Finding, EgressAction, str | None], ...]
    """Each finding with its action and the id of the rule that set it (``None`` = default action)."""
    reason: str
    """Masked, human-readable reason (for a block: which rule, which classifications and kinds)."""
    deciding_rule: str | None = None

    @property
    def blocked(self) -> bool:
        return self.action == "block"

    def findings_with(self, action: str) -> list[Finding]:
        return [f for f, a, _ in self.per_finding if a == action]


class DestinationPolicyEngine:
    """Applies an :class:`EgressPolicy` to findings on a channel towards some destinations.

    Thread-safe: ``update_policy`` swaps a compiled snapshot atomically.
    """

    def __init__(self, policy: EgressPolicy) -> None:
        self._lock = threading.Lock()
        self._policy, self._rules = policy, self._compile(policy)

    @staticmethod
    def _compile(policy: EgressPolicy) -> tuple[_Compiled, ...]:
        return tuple(
            _Compiled(
                r,
                _glob_rx(r.allowed_destinations),
                _glob_rx(r.blocked_destinations),
                frozenset(r.classifications),
                frozenset(r.kinds),
            )
            for r in policy.rules
        )

    @property
    def policy(self) -> EgressPolicy:
        return self._policy

    def update_policy(self, policy: EgressPolicy) -> None:
        compiled = self._compile(policy)
        with self._lock:
            self._policy, self._rules = policy, compiled

    def check(self, findings: Iterable[Finding], channel: str, destinations: Sequence[str] = ()) -> PolicyDecision:
        policy, rules = self._policy, self._rules
        fs = list(findings)
        if not fs:
            return PolicyDecision("allow", (), (), "No classified data detected")
        dests = [d for d in destinations if isinstance(d, str) and d.strip()]
        per: list[tuple[Finding, EgressAction, str | None]] = []
        blocked_by_dest: str | None = None
        for f in fs:
            action: EgressAction | None = None
            rule_id: str | None = None
            for cr in rules:
                r = cr.rule
                if f.classification not in cr.classes or (cr.kinds and f.kind not in cr.kinds):
                    continue
                if r.channels and channel not in r.channels:
                    continue
                if f.confidence < r.min_confidence:
                    continue
                if cr.blocked is not None and any(cr.blocked.match(d.strip()) for d in dests):
                    action, rule_id = "block", r.id
                    blocked_by_dest = r.id
                    break
                if cr.has_allow_list and dests and all(cr.admits(d) for d in dests):
                    continue  # the data may go there: this rule does not object
                action, rule_id = r.action, r.id
                break
            per.append((f, action or policy.default_action, rule_id))
        worst = max(per, key=lambda x: ACTION_SEVERITY[x[1]])
        action = worst[1]
        rule_ids = tuple(dict.fromkeys(rid for _, _, rid in per if rid is not None))
        deciding = next((rid for _, a, rid in per if a == action), None)
        reason = self._reason(action, deciding, per, channel, dests, blocked_by_dest)
        return PolicyDecision(action, rule_ids, tuple(per), reason, deciding)

    def _reason(
        self,
        action: str,
        rule_id: str | None,
        per: Sequence[tuple[Finding, str, str | None]],
        channel: str,
        dests: Sequence[str],
        blocked_by_dest: str | None,
    ) -> str:
        hit = [f for f, a, _ in per if a == action]
        classes = ", ".join(sorted({str(f.classification) for f in hit}))
        kinds = ", ".join(sorted({f.kind for f in hit}))
        where = f" via {channel}"
        if dests:
            where += " to " + ", ".join(mask_destination(d) for d in dests[:3])
            if len(dests) > 3:
                where += f" (+{len(dests) - 3} more)"
        if rule_id is None:
            return f"Default policy ({action}) for data classified as [{classes}] ({kinds}){where}"
        rule = next((r for r in self._policy.rules if r.id == rule_id), None)
        desc = f": {rule.description}" if rule is not None and rule.description else ""
        if blocked_by_dest == rule_id and action == "block":
            return f'Destination blocked by rule "{rule_id}" for data classified as [{classes}] ({kinds}){where}{desc}'
        verb = {"block": "blocked", "redact": "redacted", "alert": "alerted", "allow": "allowed"}[action]
        return f'Data classified as [{classes}] ({kinds}) {verb} by rule "{rule_id}"{where}{desc}'


def resolve_mapping(mappings: Sequence[ToolChannelMapping], tool_name: str) -> ToolChannelMapping | None:
    """The mapping for ``tool_name``: an exact name first, then the first glob that matches."""
    for m in mappings:
        if m.tool_name == tool_name:
            return m
    for m in mappings:
        if any(ch in m.tool_name for ch in "*?[") and fnmatch.fnmatchcase(tool_name, m.tool_name):
            return m
    return None
