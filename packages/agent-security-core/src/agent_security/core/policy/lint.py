"""Static checks of a policy bundle: rules that can never decide anything, and risky orderings.

Findings (``code``, severity):

* ``SHADOWED`` (error; warning when both rules have the same outcome): an earlier rule matches every
  request the later rule matches, so the later rule is unreachable.
* ``NEVER_MATCHES`` (error): a rule whose conditions can never hold (an empty ``tool_name`` list,
  an ALLOW rule whose ``contains_any`` terms all contain a ``not_contains`` term (a restrictive rule
  with such terms still applies when the raw and normalised text differ), contradictory bounds such as
  ``{"gt": 10, "lt": 5}``, ``{"in": []}``, ``eq`` and ``neq`` of the same value).
* ``BROAD_ALLOW_BEFORE_RESTRICTIVE`` (warning): an ALLOW rule with a wildcard tool or environment comes
  before a DENY/approval rule that can match some of the same requests; the ALLOW wins for those.
  ``ALLOW_BEFORE_RESTRICTIVE`` (info) is the same for an ALLOW rule without wildcards.
* ``ALWAYS_TRUE_CONDITION`` (warning): ``matches_regex`` matches empty text, so it holds everywhere.
* ``UNANCHORED_EXEMPTION`` (warning): a DENY or approval-like rule with ``not_contains`` and nothing
  that names the argument it is about (no ``contains_any``, ``matches_regex`` or ``tool_args_match``):
  any argument can carry the exemption;
* ``IGNORED_CONDITION`` (warning): an empty list in ``contains_any``, ``not_contains``,
  ``data_labels_any`` or ``agent_roles_any`` (ignored, as in Agent-SPM).
* ``APPROVER_ROLE_UNUSED`` (warning): ``approver_role`` on an ALLOW or DENY rule.
* ``RESERVED_ID`` (warning): a rule id that looks like an engine code (``DEFAULT_*``, ``POLICY_*``).
* ``EXPIRED`` (error), ``EXPIRES_SOON`` (warning, within 14 days), ``NOT_YET_VALID`` (warning,
  ``generated_at`` in the future), ``DEFAULT_ALLOW`` (warning: whatever no rule mentions is allowed).

The coverage analysis is conservative: it reports a rule as shadowed only when that is certain (for
globs: ``*``, identical patterns, or ``prefix*``/``*suffix``/``prefix*suffix`` containing the other), so
it can miss some shadowed rules but never reports a reachable one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from agent_security.core.models import Outcome
from agent_security.core.normalize import normalize_name, normalize_text
from agent_security.core.policy.conditions import ArgCondition, as_number, json_equal
from agent_security.core.policy.engine import NameMatcher, _CompiledRule
from agent_security.core.policy.models import PolicyBundle, RuleWhen
from agent_security.core.policy.patterns import Glob, compile_pattern

__all__ = ["LintFinding", "LintReport", "lint_bundle"]

Severity = Literal["error", "warning", "info"]
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
EXPIRY_WARNING = timedelta(days=14)


@dataclass(frozen=True)
class LintFinding:
    severity: Severity
    code: str
    message: str
    rule_id: str | None = None
    related_rule_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f" [{self.rule_id}]" if self.rule_id else ""
        return f"{self.severity.upper()} {self.code}{where}: {self.message}"


@dataclass
class LintReport:
    findings: list[LintFinding] = field(default_factory=list)

    @property
    def errors(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == "warning"]

    def ok(self, *, strict: bool = False) -> bool:
        """No errors (and, when ``strict``, no warnings either)."""
        return not self.errors and not (strict and self.warnings)

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_dict() for f in self.findings],
        }


# ----------------------------------------------------------------------------------------------------
# Name sets


def _glob_covers(outer: Glob, inner: Glob) -> bool:
    if outer.matches_everything or outer.pattern == inner.pattern:
        return True
    if outer.pattern.count("*") != 1:
        return False
    return inner.literal_prefix.startswith(outer.literal_prefix) and inner.literal_suffix.endswith(outer.literal_suffix)


def _names_cover(outer: NameMatcher, inner: NameMatcher) -> bool:
    """Every name ``inner`` matches is matched by ``outer`` (conservative)."""
    if outer.any:
        return True
    if inner.any:
        return False
    if not all(outer.match(n) for n in inner.exact):
        return False
    return all(any(_glob_covers(o, g) for o in outer.globs) for g in inner.globs)


def _globs_may_overlap(a: Glob, b: Glob) -> bool:
    pa, pb, sa, sb = a.literal_prefix, b.literal_prefix, a.literal_suffix, b.literal_suffix
    return (pa.startswith(pb) or pb.startswith(pa)) and (sa.endswith(sb) or sb.endswith(sa))


def _names_overlap(a: NameMatcher, b: NameMatcher) -> bool:
    """Some name may match both (over-approximation)."""
    if a.empty or b.empty:
        return False
    if a.any or b.any:
        return True
    if a.exact & b.exact:
        return True
    if any(b.match(n) for n in a.exact) or any(a.match(n) for n in b.exact):
        return True
    return any(_globs_may_overlap(x, y) for x in a.globs for y in b.globs)


# ----------------------------------------------------------------------------------------------------
# Rule relations


def _identity_covers(a: _CompiledRule, b: _CompiledRule) -> bool:
    types = a.agent_types
    if types is not None and (b.agent_types is None or not _names_cover(types, b.agent_types)):
        return False
    if a.trust_min is not None and (b.trust_min is None or b.trust_min < a.trust_min):
        return False
    if a.roles is not None and (b.roles is None or not b.roles <= a.roles):
        return False
    return a.providers is None or (b.providers is not None and _names_cover(a.providers, b.providers))


def _identity_overlaps(a: _CompiledRule, b: _CompiledRule) -> bool:
    if a.agent_types is not None and b.agent_types is not None and not _names_overlap(a.agent_types, b.agent_types):
        return False
    return not (a.providers is not None and b.providers is not None and not _names_overlap(a.providers, b.providers))


def _norm_set(values: tuple[str, ...] | None, *, name: bool = False) -> frozenset[str]:
    fn = normalize_name if name else normalize_text
    return frozenset(fn(v) for v in values or ())


def _term_set(values: tuple[str, ...] | None) -> frozenset[tuple[str, str]]:
    """Keyword terms as (raw, normalised) pairs: the engine searches both views, so a term implies
    another only when both forms agree."""
    return frozenset((v.lower(), normalize_text(v)) for v in values or ())


def _when_implied(a: RuleWhen | None, b: RuleWhen | None) -> bool:
    """Whenever ``b``'s conditions hold, ``a``'s hold too (conservative)."""
    if a is None:
        return True
    if b is None:
        return _when_trivial(a)
    if a.contains_any and (not b.contains_any or not _term_set(b.contains_any) <= _term_set(a.contains_any)):
        return False
    if a.not_contains and not _term_set(a.not_contains) <= _term_set(b.not_contains):
        return False
    if a.data_labels_any and (
        not b.data_labels_any or not _norm_set(b.data_labels_any, name=True) <= _norm_set(a.data_labels_any, name=True)
    ):
        return False
    if a.matches_regex is not None and a.matches_regex != b.matches_regex:
        return False
    if a.tool_args_match:
        other = b.tool_args_match or {}
        for key, value in a.tool_args_match.items():
            if key not in other or not json_equal(other[key], value):
                return False
    return True


def _when_trivial(w: RuleWhen | None) -> bool:
    return w is None or not (
        w.contains_any or w.not_contains or w.matches_regex is not None or w.data_labels_any or w.tool_args_match
    )


def _shadows(a: _CompiledRule, b: _CompiledRule) -> bool:
    if not (_names_cover(a.tool, b.tool) and _names_cover(a.env, b.env) and _identity_covers(a, b)):
        return False
    if not _when_implied(a.rule.when, b.rule.when):
        return False
    # An ALLOW rule with conditions is skipped when they are indeterminate, where a later restrictive
    # rule with the same conditions still applies: not shadowed.
    return _when_trivial(a.rule.when) or not (not a.restrictive and b.restrictive)


def _overlaps(a: _CompiledRule, b: _CompiledRule) -> bool:
    return _names_overlap(a.tool, b.tool) and _names_overlap(a.env, b.env) and _identity_overlaps(a, b)


# ----------------------------------------------------------------------------------------------------
# Single-rule checks


def _contradictions(cond: ArgCondition) -> str | None:
    lower: tuple[Any, bool] | None = None  # (bound, inclusive)
    upper: tuple[Any, bool] | None = None
    eqs: list[Any] = []
    neqs: list[Any] = []
    for test in cond.tests:
        if test.op == "in" and not test.operand:
            return f"{cond.path}: 'in' with an empty list never holds"
        if test.op in ("gt", "gte"):
            inclusive = test.op == "gte"
            if lower is None or test.number > lower[0] or (test.number == lower[0] and not inclusive):
                lower = (test.number, inclusive)
        elif test.op in ("lt", "lte"):
            inclusive = test.op == "lte"
            if upper is None or test.number < upper[0] or (test.number == upper[0] and not inclusive):
                upper = (test.number, inclusive)
        elif test.op == "eq":
            eqs.append(test.operand)
        elif test.op == "neq":
            neqs.append(test.operand)
    if lower is not None and upper is not None:
        lo, lo_inc = lower
        hi, hi_inc = upper
        if lo > hi or (lo == hi and not (lo_inc and hi_inc)):
            return f"{cond.path}: no number satisfies both bounds"
    for value in eqs:
        if any(json_equal(value, other) for other in neqs):
            return f"{cond.path}: 'eq' and 'neq' of the same value"
        if any(not json_equal(value, other) for other in eqs):
            return f"{cond.path}: two different 'eq' values"
        number = as_number(value)
        if (lower is not None or upper is not None) and number is None:
            return f"{cond.path}: 'eq' a non-number together with a numeric bound"
        if number is not None:
            if lower is not None and (number < lower[0] or (number == lower[0] and not lower[1])):
                return f"{cond.path}: the 'eq' value is below the lower bound"
            if upper is not None and (number > upper[0] or (number == upper[0] and not upper[1])):
                return f"{cond.path}: the 'eq' value is above the upper bound"
    return None


def _never_reasons(rule: _CompiledRule) -> list[str]:
    reasons = []
    for label, matcher in (
        ("match.tool_name", rule.tool),
        ("match.environment", rule.env),
        ("match.agent_type", rule.agent_types),
        ("match.tool_provider", rule.providers),
    ):
        if matcher is not None and matcher.empty:
            reasons.append(f"{label} is an empty list")
    when = rule.rule.when
    if when is not None:
        contains = _norm_set(when.contains_any)
        excluded = _norm_set(when.not_contains)
        # An ALLOW rule needs both conditions on both the raw and the normalised view. A restrictive rule's
        # contains_any may hold on one view and its not_contains on the other: the terms prove nothing.
        if not rule.restrictive and contains and excluded and all(any(x in t for x in excluded) for t in contains):
            reasons.append("every contains_any term contains a not_contains term")
        compiled = rule.when
        if compiled is not None:
            for cond in compiled.args:
                problem = _contradictions(cond)
                if problem:
                    reasons.append(f"when.tool_args_match.{problem}")
    return reasons


def _rule_findings(rule: _CompiledRule) -> list[LintFinding]:
    out: list[LintFinding] = []
    rid = rule.rule.id
    for reason in _never_reasons(rule):
        out.append(LintFinding("error", "NEVER_MATCHES", f"rule can never match: {reason}", rid))
    when = rule.rule.when
    if when is not None:
        for name in ("contains_any", "not_contains", "data_labels_any"):
            if getattr(when, name) == ():
                out.append(
                    LintFinding("warning", "IGNORED_CONDITION", f"when.{name} is an empty list and is ignored", rid)
                )
        if (
            rule.restrictive
            and when.not_contains
            and not (when.contains_any or when.matches_regex is not None or when.tool_args_match)
        ):
            out.append(
                LintFinding(
                    "warning",
                    "UNANCHORED_EXEMPTION",
                    "when.not_contains exempts the request when any tool argument carries a term; add "
                    "contains_any, matches_regex or tool_args_match so the exemption must come from the "
                    "argument the rule is about (a decoy argument cannot then switch the rule off)",
                    rid,
                )
            )
        if when.matches_regex is not None and compile_pattern(when.matches_regex).search("") is not None:
            out.append(
                LintFinding(
                    "warning",
                    "ALWAYS_TRUE_CONDITION",
                    "when.matches_regex matches empty text, so it holds for every request",
                    rid,
                )
            )
    if rule.rule.match.agent_roles_any == ():
        out.append(
            LintFinding("warning", "IGNORED_CONDITION", "match.agent_roles_any is an empty list and is ignored", rid)
        )
    if rule.rule.approver_role and not rule.rule.outcome.approval_like:
        out.append(
            LintFinding(
                "warning",
                "APPROVER_ROLE_UNUSED",
                f"approver_role is set but the outcome is {rule.rule.outcome.value}",
                rid,
            )
        )
    if rid.upper().startswith(("DEFAULT_", "POLICY_")):
        out.append(
            LintFinding("warning", "RESERVED_ID", "rule id looks like an engine reason code (DEFAULT_*, POLICY_*)", rid)
        )
    return out


# ----------------------------------------------------------------------------------------------------


def lint_bundle(bundle: PolicyBundle, *, now: datetime | None = None) -> LintReport:
    """Check ``bundle`` and return every finding, errors first, then in rule order."""
    from agent_security.core.policy.engine import PolicyEngine

    engine = PolicyEngine(bundle)
    rules: tuple[_CompiledRule, ...] = engine._rules
    findings: list[LintFinding] = []
    current = now or datetime.now(UTC)
    if current.tzinfo is None:
        current = current.replace(tzinfo=UTC)
    if bundle.is_expired(current):
        findings.append(
            LintFinding(
                "error",
                "EXPIRED",
                f"the bundle expired at {bundle.expires_at}; every request would be denied with POLICY_EXPIRED",
            )
        )
    elif bundle.expires_at_dt - current <= EXPIRY_WARNING:
        findings.append(LintFinding("warning", "EXPIRES_SOON", f"the bundle expires at {bundle.expires_at}"))
    if bundle.generated_at_dt > current:
        findings.append(LintFinding("warning", "NOT_YET_VALID", f"generated_at {bundle.generated_at} is in the future"))
    if bundle.defaults.outcome is Outcome.ALLOW:
        findings.append(
            LintFinding(
                "warning",
                "DEFAULT_ALLOW",
                "defaults.outcome is ALLOW: every request no "
                "rule matches is allowed (prefer DENY and explicit ALLOW rules)",
            )
        )
    unreachable: set[int] = set()
    for rule in rules:
        findings.extend(_rule_findings(rule))
        if _never_reasons(rule):
            unreachable.add(rule.index)
    for j, later in enumerate(rules):
        if j in unreachable:
            continue
        for earlier in rules[:j]:
            if earlier.index in unreachable:
                continue
            if _shadows(earlier, later):
                same = earlier.rule.outcome is later.rule.outcome
                findings.append(
                    LintFinding(
                        "warning" if same else "error",
                        "SHADOWED",
                        f"unreachable: rule {earlier.rule.id} (before it) matches every request this rule matches"
                        + (
                            " (same outcome)"
                            if same
                            else f" and decides {earlier.rule.outcome.value} instead of {later.rule.outcome.value}"
                        ),
                        later.rule.id,
                        earlier.rule.id,
                    )
                )
                unreachable.add(j)
                break
    for i, allow in enumerate(rules):
        if allow.restrictive or i in unreachable:
            continue
        broad = allow.tool.any or bool(allow.tool.globs) or allow.env.any or bool(allow.env.globs)
        for later in rules[i + 1 :]:
            if not later.restrictive or later.index in unreachable or not _overlaps(allow, later):
                continue
            findings.append(
                LintFinding(
                    "warning" if broad else "info",
                    "BROAD_ALLOW_BEFORE_RESTRICTIVE" if broad else "ALLOW_BEFORE_RESTRICTIVE",
                    f"ALLOW rule {allow.rule.id} comes before {later.rule.id} ({later.rule.outcome.value}) and "
                    f"both can match the same requests; {allow.rule.id} wins for those",
                    allow.rule.id,
                    later.rule.id,
                )
            )
    order = {rule.rule.id: rule.index for rule in rules}
    findings.sort(key=lambda f: (_SEVERITY_ORDER[f.severity], order.get(f.rule_id or "", -1)))
    return LintReport(findings)
