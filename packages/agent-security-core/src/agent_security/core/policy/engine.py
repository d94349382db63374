"""The policy engine: first-match evaluation of a compiled, indexed, immutable bundle.

``PolicyEngine(bundle)`` compiles every rule once (normalised names, globs, RE2 patterns, argument
conditions) and indexes them by exact tool name, with glob rules in a second structure, so a check
looks only at the rules that can match its tool; first-match order is kept. A rule's decision is built
the first time the rule matches and kept. The engine never changes after construction (a reload builds
a new engine and swaps the reference); its only mutable parts are a bounded memo of index look-ups and
those decisions, safe to share between threads (two threads racing build equal values).

:meth:`PolicyEngine.evaluate` never raises: an internal error becomes DENY ``POLICY_ERROR``, and an
expired bundle denies everything with ``POLICY_EXPIRED``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from agent_security.core._speedups import remember
from agent_security.core.models import Action, ActionRequest, AgentInfo, Decision, Outcome, Reason, trust_rank
from agent_security.core.normalize import normalize_name
from agent_security.core.policy._frozen import deep_thaw
from agent_security.core.policy.conditions import INDETERMINATE
from agent_security.core.policy.fold import fold_name, fold_text
from agent_security.core.policy.models import PolicyBundle, PolicyRule
from agent_security.core.policy.patterns import Glob, glob_set
from agent_security.core.policy.prefilter import Prefilter
from agent_security.core.policy.view import (
    MAX_SEARCH_CHARS,
    MAX_SEARCH_DEPTH,
    MAX_SEARCH_NODES,
    RequestView,
    searchable_values,
)
from agent_security.core.policy.when import CompiledWhen

__all__ = [
    "MAX_SEARCH_CHARS",
    "MAX_SEARCH_DEPTH",
    "MAX_SEARCH_NODES",
    "NameMatcher",
    "PolicyEngine",
    "RuleTrace",
    "searchable_values",
]


CODE_ERROR = "POLICY_ERROR"
CODE_EXPIRED = "POLICY_EXPIRED"
CODE_INDETERMINATE = "POLICY_CONDITION_INDETERMINATE"
_CACHE_SIZE = 4096
_CACHE_KEY_MAX = 512  # characters of tool name + environment; longer requests are not memoised
_GLOB_SET_MIN = 8  # from this many distinct glob patterns on, match them with one RE2 set
_PREFILTER_MIN = 16  # from this many gated candidate rules on, a request's gates are opened first

_ERROR_DECISION = Decision(
    outcome=Outcome.DENY,
    reasons=(Reason(code=CODE_ERROR, message="Policy evaluation failed; denying the request (fail closed)"),),
)


# ----------------------------------------------------------------------------------------------------
# Compiled rules


class NameMatcher:
    """Matches a normalised name against exact names and ``*`` globs (from a rule's name field)."""

    __slots__ = ("_folded", "any", "exact", "globs")

    def __init__(self, spec: str | Sequence[str]) -> None:
        names = [spec] if isinstance(spec, str) else list(spec)
        normalised = [normalize_name(n) for n in names]
        self.exact = frozenset(n for n in normalised if "*" not in n)
        self.globs = tuple(Glob(n) for n in dict.fromkeys(normalised) if "*" in n)
        self.any = any(g.matches_everything for g in self.globs)
        self._folded: tuple[frozenset[str], tuple[Glob, ...]] | None = None

    def match(self, name: str) -> bool:
        """``name`` must already be normalised."""
        return self.any or name in self.exact or any(g.match(name) for g in self.globs)

    def match_folded(self, folded: str) -> bool:
        """Whether a folded name (:func:`~agent_security.core.policy.fold.fold_name`) matches the folded
        form of these names (built on first use)."""
        if self.any:
            return True
        forms = self._folded
        if forms is None:
            exact = frozenset(fold_name(n) for n in self.exact)
            globs = tuple(Glob("*".join(fold_text(p) for p in g.pattern.split("*"))) for g in self.globs)
            forms = self._folded = (exact, globs)
        return folded in forms[0] or any(g.match(folded) for g in forms[1])

    @property
    def empty(self) -> bool:
        return not self.exact and not self.globs


def _matcher(spec: str | tuple[str, ...], matchers: dict[Any, NameMatcher]) -> NameMatcher:
    """One matcher per distinct name spec of a bundle (most rules share ``environment: "*"``)."""
    found = matchers.get(spec)
    if found is None:
        found = matchers[spec] = NameMatcher(spec)
    return found


class _CompiledRule:
    __slots__ = (
        "_decision",
        "_indeterminate",
        "agent_types",
        "constraints",
        "env",
        "index",
        "providers",
        "restrictive",
        "roles",
        "rule",
        "tool",
        "trust_min",
        "when",
    )

    def __init__(self, index: int, rule: PolicyRule, matchers: dict[Any, NameMatcher]) -> None:
        self.index = index
        self.rule = rule
        m = rule.match
        self.tool = _matcher(m.tool_name, matchers)
        self.env = _matcher(m.environment, matchers)
        self.agent_types = _matcher(m.agent_type, matchers) if m.agent_type is not None else None
        self.providers = _matcher(m.tool_provider, matchers) if m.tool_provider is not None else None
        self.trust_min = trust_rank(m.trust_level_min) if m.trust_level_min is not None else None
        self.roles = frozenset(normalize_name(r) for r in m.agent_roles_any) if m.agent_roles_any else None
        self.restrictive = rule.outcome is not Outcome.ALLOW
        when = CompiledWhen(rule.when, self.restrictive) if rule.when is not None else None
        self.when = None if when is None or when.trivial else when
        self.constraints = rule.constraints
        self._decision: Decision | None = None
        self._indeterminate: Decision | None = None

    @property
    def decision(self) -> Decision:
        """The rule's decision (built on first use: most rules of a large bundle never match)."""
        decision = self._decision
        if decision is None:
            rule = self.rule
            decision = self._decision = Decision(
                outcome=rule.outcome,
                reasons=(Reason(code=rule.id, message=rule.description),),
                approver_role=rule.approver_role or None,
            )
        return decision

    @property
    def indeterminate(self) -> Decision:
        """The rule's decision when one of its conditions was indeterminate (built on first use)."""
        decision = self._indeterminate
        if decision is None:
            decision = self._indeterminate = self.decision.with_reason(
                CODE_INDETERMINATE,
                f"A condition of rule {self.rule.id} could not be evaluated on this "
                "request (value not comparable or too large); the rule was applied (fail closed)",
            )
        return decision

    def names_tool(self, tool: str, folded: str) -> bool:
        """Whether the rule's tool names match a tool (normalised, and folded): a DENY or approval-like
        rule also matches the folded name (a confusable spelling), an ALLOW rule does not."""
        if self.tool.match(tool):
            return True
        return self.restrictive and folded != tool and self.tool.match_folded(folded)

    def identity_match(self, agent: AgentInfo, action: Action) -> bool:
        types = self.agent_types
        if types is not None and (not agent.agent_type or not types.match(normalize_name(agent.agent_type))):
            return False
        if self.trust_min is not None and (agent.trust_level is None or trust_rank(agent.trust_level) < self.trust_min):
            return False
        if self.roles is not None and not any(normalize_name(r) in self.roles for r in agent.roles):
            return False
        if self.providers is not None:
            identity = action.tool_identity
            provider = identity.provider if identity is not None else None
            if not provider or not self.providers.match(normalize_name(provider)):
                return False
        return True

    def identity_mismatch(self, agent: AgentInfo, action: Action) -> str | None:
        """The first identity field that does not match, or ``None`` (for :meth:`PolicyEngine.explain`)."""
        if self.agent_types is not None and not self.identity_field_ok("agent_type", agent, action):
            return "match.agent_type"
        if self.trust_min is not None and not self.identity_field_ok("trust", agent, action):
            return "match.trust_level_min"
        if self.roles is not None and not self.identity_field_ok("roles", agent, action):
            return "match.agent_roles_any"
        if self.providers is not None and not self.identity_field_ok("provider", agent, action):
            return "match.tool_provider"
        return None

    def identity_field_ok(self, name: str, agent: AgentInfo, action: Action) -> bool:
        if name == "agent_type":
            assert self.agent_types is not None
            return bool(agent.agent_type) and self.agent_types.match(normalize_name(agent.agent_type or ""))
        if name == "trust":
            assert self.trust_min is not None
            return agent.trust_level is not None and trust_rank(agent.trust_level) >= self.trust_min
        if name == "roles":
            assert self.roles is not None
            return any(normalize_name(r) in self.roles for r in agent.roles)
        assert self.providers is not None
        identity = action.tool_identity
        provider = identity.provider if identity is not None else None
        return bool(provider) and self.providers.match(normalize_name(provider or ""))

    def result(self, base: Decision) -> Decision:
        if self.constraints is None:
            return base
        return base.model_copy(update={"constraints": deep_thaw(self.constraints)})


class _Plan:
    """The candidate rules of one tool name and environment, split for the prefilter: the rules without
    a gate (always evaluated) and the gated ones (evaluated when their gate is open)."""

    __slots__ = ("by_index", "rules", "ungated")

    def __init__(self, rules: tuple[_CompiledRule, ...], gated: frozenset[int]) -> None:
        self.rules = rules
        self.by_index = {r.index: r for r in rules}
        self.ungated = tuple(r.index for r in rules if r.index not in gated)

    def select(self, open_gates: set[int]) -> list[_CompiledRule]:
        """The rules to evaluate (ungated, and gated with an open gate), in first-match order."""
        by_index = self.by_index
        chosen = [i for i in open_gates if i in by_index]
        chosen.extend(self.ungated)
        chosen.sort()
        return [by_index[i] for i in chosen]


@dataclass(frozen=True)
class RuleTrace:
    """How one candidate rule (tool name and environment matched) fared for a request."""

    rule_id: str
    outcome: str
    result: Literal["matched", "applied-indeterminate", "skipped", "not-reached"]
    detail: str = ""
    """For ``skipped``: the first field that did not hold, or the indeterminate conditions of a skipped
    ALLOW rule; for ``applied-indeterminate``: the indeterminate conditions."""

    def __str__(self) -> str:
        text = f"{self.rule_id} ({self.outcome}): {self.result}"
        return f"{text} — {self.detail}" if self.detail else text


# ----------------------------------------------------------------------------------------------------
# The engine


class PolicyEngine:
    """Evaluates requests against one policy bundle. Immutable; build a new one to change the policy."""

    __slots__ = (
        "_bundle",
        "_by_tool",
        "_cache",
        "_default",
        "_expired",
        "_expires_at",
        "_glob_groups",
        "_glob_set",
        "_prefilter",
        "_restrictive",
        "_rules",
    )

    def __init__(self, bundle: PolicyBundle) -> None:
        if not isinstance(bundle, PolicyBundle):
            raise TypeError("PolicyEngine needs a PolicyBundle (use load_policy() to load one)")
        self._bundle = bundle
        matchers: dict[Any, NameMatcher] = {}
        self._rules = tuple(_CompiledRule(i, r, matchers) for i, r in enumerate(bundle.rules))
        self._expires_at = bundle.expires_at_dt
        by_tool: dict[str, list[int]] = {}
        globs: dict[str, tuple[Glob, list[int]]] = {}
        for rule in self._rules:
            for name in rule.tool.exact:
                by_tool.setdefault(name, []).append(rule.index)
            for glob in rule.tool.globs:
                globs.setdefault(glob.pattern, (glob, []))[1].append(rule.index)
        self._by_tool = {k: tuple(v) for k, v in by_tool.items()}
        # Glob rules, one entry per distinct pattern. Many patterns are matched in one pass by an RE2 set.
        self._glob_groups = tuple((g, tuple(ids)) for g, ids in globs.values())
        self._glob_set = glob_set([g for g, _ in self._glob_groups]) if len(globs) > _GLOB_SET_MIN else None
        self._cache: dict[tuple[str, str], tuple[_CompiledRule, ...] | _Plan] = {}
        self._restrictive = tuple(r for r in self._rules if r.restrictive)
        self._prefilter = Prefilter((r.index, r.when) for r in self._rules if r.when is not None)
        outcome = bundle.defaults.outcome
        self._default = Decision(
            outcome=outcome,
            reasons=(
                Reason(
                    code=f"DEFAULT_{outcome.value}",
                    message=f"No specific rule matched; applying default policy ({outcome.value})",
                ),
            ),
        )
        self._expired = Decision.deny(
            CODE_EXPIRED,
            f"Policy bundle {bundle.version} expired at {bundle.expires_at}; every request is "
            "denied until a current bundle is loaded",
        )

    @classmethod
    def from_source(cls, source: Any, **options: Any) -> PolicyEngine:
        """``PolicyEngine(load_policy(source, **options))``."""
        from agent_security.core.policy.loader import load_policy

        return cls(load_policy(source, **options))

    @property
    def bundle(self) -> PolicyBundle:
        return self._bundle

    @property
    def version(self) -> str:
        return self._bundle.version

    @property
    def expires_at(self) -> datetime:
        return self._expires_at

    def __repr__(self) -> str:
        return (
            f"PolicyEngine(version={self._bundle.version!r}, rules={len(self._rules)}, "
            f"default={self._bundle.defaults.outcome.value})"
        )

    def _lookup(self, tool_name: str, environment: str) -> tuple[_CompiledRule, ...] | _Plan:
        tool = normalize_name(tool_name)
        env = normalize_name(environment)
        indices = set(self._by_tool.get(tool, ()))
        groups = self._glob_groups
        if self._glob_set is not None:
            for position in self._glob_set.Match(tool) or ():
                indices.update(groups[position][1])
        else:
            for glob, ids in groups:
                if glob.match(tool):
                    indices.update(ids)
        folded = tool if tool_name.isascii() else fold_name(tool_name)
        if folded != tool:  # a confusable spelling: DENY and approval-like rules on the folded name too
            indices.update(r.index for r in self._restrictive if r.tool.match_folded(folded))
        rules = self._rules
        candidates = tuple(rules[i] for i in sorted(indices) if rules[i].env.match(env))
        gated = self._prefilter.gated
        found: tuple[_CompiledRule, ...] | _Plan = candidates
        if len(candidates) >= _PREFILTER_MIN and sum(1 for r in candidates if r.index in gated) >= _PREFILTER_MIN:
            found = _Plan(candidates, gated)
        if len(tool_name) + len(environment) <= _CACHE_KEY_MAX:  # never memoise oversized keys
            remember(self._cache, (tool_name, environment), found, _CACHE_SIZE)
        return found

    def evaluate(self, request: ActionRequest, *, now: datetime | None = None) -> Decision:
        """The decision of the first rule that matches ``request`` (or the default). Never raises.

        ``now`` is the clock for the expiry check (default: the current time; naive means UTC).
        """
        try:
            if now is None:
                now = datetime.now(UTC)
            elif now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
            if now >= self._expires_at:
                return self._expired
            action = request.action
            agent = request.agent
            plan = self._cache.get((action.tool_name, agent.environment))
            if plan is None:
                plan = self._lookup(action.tool_name, agent.environment)
            if plan.__class__ is tuple:  # a small candidate list: no prefilter
                return self._first_match(plan, request)
            assert isinstance(plan, _Plan)
            view = RequestView(request)
            open_gates = self._prefilter.open_gates(view)
            if open_gates is None:
                return self._first_match(plan.rules, request, view)
            return self._first_match(plan.select(open_gates), request, view)
        except Exception:
            return _ERROR_DECISION

    def _first_match(
        self, candidates: Iterable[_CompiledRule], request: ActionRequest, view: RequestView | None = None
    ) -> Decision:
        agent = request.agent
        action = request.action
        for rule in candidates:
            if not rule.identity_match(agent, action):
                continue
            when = rule.when
            if when is None:
                return rule.result(rule.decision)
            if view is None:
                view = RequestView(request)
            verdict = when.evaluate(view)
            if verdict is True:
                return rule.result(rule.decision)
            if verdict is INDETERMINATE and rule.restrictive:
                return rule.result(rule.indeterminate)
        return self._default

    def explain(self, request: ActionRequest, *, now: datetime | None = None) -> tuple[Decision, list[RuleTrace]]:
        """The decision and, for every candidate rule (tool name and environment matched, in order), why
        it matched or not. Rules after the deciding one are ``not-reached``. For debugging and
        ``agent-security policy test``; slower than :meth:`evaluate`, which it agrees with."""
        decision = self.evaluate(request, now=now)
        traces: list[RuleTrace] = []
        if decision.codes and decision.codes[0] in (CODE_ERROR, CODE_EXPIRED):
            return decision, traces
        try:
            tool = normalize_name(request.action.tool_name)
            folded = fold_name(request.action.tool_name)
            env = normalize_name(request.agent.environment)
            view = RequestView(request)
            decided = False
            for rule in self._rules:
                if not (rule.names_tool(tool, folded) and rule.env.match(env)):
                    continue
                rid, outcome = rule.rule.id, rule.rule.outcome.value
                if decided:
                    traces.append(RuleTrace(rid, outcome, "not-reached"))
                    continue
                mismatch = rule.identity_mismatch(request.agent, request.action)
                if mismatch is not None:
                    traces.append(RuleTrace(rid, outcome, "skipped", f"{mismatch} does not match"))
                    continue
                results = rule.when.condition_results(view) if rule.when is not None else []
                failed = [name for name, r in results if r is False]
                unknown = [name for name, r in results if r is INDETERMINATE]
                if failed:
                    traces.append(RuleTrace(rid, outcome, "skipped", f"{failed[0]} does not hold"))
                elif unknown and not rule.restrictive:
                    traces.append(
                        RuleTrace(
                            rid, outcome, "skipped", f"{', '.join(unknown)} indeterminate (ALLOW rules fail closed)"
                        )
                    )
                elif unknown:
                    traces.append(RuleTrace(rid, outcome, "applied-indeterminate", ", ".join(unknown)))
                    decided = True
                else:
                    traces.append(RuleTrace(rid, outcome, "matched"))
                    decided = True
        except Exception:
            return decision, []
        return decision, traces

    def _evaluate_unindexed(self, request: ActionRequest, *, now: datetime | None = None) -> Decision:
        """Reference evaluation without the index (tests compare it with :meth:`evaluate`)."""
        try:
            now = now or datetime.now(UTC)
            if now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
            if now >= self._expires_at:
                return self._expired
            tool = normalize_name(request.action.tool_name)
            folded = fold_name(request.action.tool_name)
            env = normalize_name(request.agent.environment)
            candidates = [
                r
                for r in self._rules
                if (r.tool.match(tool) or (r.restrictive and folded != tool and r.tool.match_folded(folded)))
                and r.env.match(env)
            ]
            return self._first_match(candidates, request)
        except Exception:
            return _ERROR_DECISION
