"""The phases of a check, each a small generator over the plugins of one hook (see
:mod:`agent_security.core.hookspecs` for the contract of each, and :mod:`.check` for how they compose).

Every phase is fail closed: a plugin that raises, times out or breaks the hook contract ends the check
with DENY ``PLUGIN_ERROR`` naming it, unless the plugin is ``fail_open`` (then it is skipped, and the
failure is still reported and noted in the audit event). A phase yields only when it must wait for an
``async def`` hook or a blocking callback (see :mod:`.drive`).
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from agent_security.core._speedups import remember
from agent_security.core.context import CheckContext
from agent_security.core.errors import PluginContractError
from agent_security.core.models import (
    APPROVAL_LIKE,
    ActionRequest,
    AgentInfo,
    Decision,
    ExecutionResult,
    Outcome,
    PluginResult,
    restrictiveness,
)
from agent_security.core.pipeline.drive import CLOSING, Blocking, Wait, WaitTimeout
from agent_security.core.pipeline.events import merge_denial
from agent_security.core.pipeline.hooks import Impl, PluginFailure
from agent_security.core.pipeline.request import revalidated, with_identity
from agent_security.core.pipeline.runtime import Runtime
from agent_security.core.resolution import Resolution, hashes_alike, request_hash

__all__ = ["CheckState", "after_decision", "evaluate", "guards", "notify", "plugin_error", "wait_for", "waits"]


@dataclass(eq=False)
class CheckState:
    """One check as it moves through the phases."""

    request: ActionRequest
    rhash: str
    ctx: CheckContext
    decision: Decision | None = None
    """Set once a phase decides (a guard's DENY, the evaluators' combined decision, ...)."""
    phase: str = "decided"
    """The phase the decision came from, for the audit event."""
    gates: list[tuple[Decision, str]] = field(default_factory=list)
    """Approval-like outcomes guards raised; resolved with the policy's decision, the stricter first."""


_ANSWERS = frozenset({PluginResult, Decision, ExecutionResult, Resolution})


def waits(result: Any) -> bool:
    """Whether a hook's result stands for an answer still to come (an awaitable, a blocking call) rather
    than being the answer (``None`` or one of the contract's records)."""
    return result is not None and type(result) not in _ANSWERS


def wait_for(
    rt: Runtime, impl: Impl, phase: str, result: Any, timeout: float | None = None
) -> Generator[Any, Any, Any]:
    """``result`` itself, or what it stands for when it is an awaitable or a blocking call (waited for,
    bounded by ``timeout``, default ``hook_timeout_s``); a failure raises :class:`PluginFailure`."""
    if result is None or isinstance(result, BaseModel):
        return result
    limit = rt.hook_timeout_s if timeout is None else timeout
    try:
        if inspect.isawaitable(result):
            return (yield Wait(result, limit))
        if isinstance(result, Blocking):
            return (yield Blocking(result.fn, result.args, limit, rt.workers))
    except WaitTimeout as exc:
        raise PluginFailure(impl, phase, TimeoutError(f"{phase} timed out after {limit}s")) from exc
    except CLOSING:
        raise
    except BaseException as exc:
        raise PluginFailure(impl, phase, exc) from exc
    return result


def plugin_error(rt: Runtime, failure: PluginFailure, ctx: CheckContext) -> Decision | None:
    """Report a plugin failure: ``None`` for a fail-open plugin (skipped), else DENY ``PLUGIN_ERROR``."""
    name = failure.impl.plugin_name
    rt.report(failure.error, f"plugin:{name}:{failure.phase}")
    ctx.annotate("errors", {name: {"phase": failure.phase, "error": type(failure.error).__name__}})
    if failure.impl.fail_open:
        return None
    return Decision.deny(
        "PLUGIN_ERROR",
        f'Plugin "{name}" failed during {failure.phase}: {type(failure.error).__name__}',
        plugin_source=name,
    )


def attributed(
    decision: Decision, impl: Impl, ctx: CheckContext, *, keep_unset: bool = False, also: str | None = None
) -> Decision:
    """``decision`` attributed to the plugin that returned it: a plugin cannot name another plugin as
    the source of its decision (``also``: a source it may keep, e.g. of the decision it adjusted)."""
    claimed = decision.plugin_source
    if claimed == impl.plugin_name or (claimed is None and keep_unset) or (claimed and claimed == also):
        return decision
    if claimed:
        ctx.annotate(impl.plugin_name, {"claimed_source": claimed[:128]})
    return decision.model_copy(update={"plugin_source": impl.plugin_name})


# -- identify and before_check --------------------------------------------------------------------------

_IDENTITY_FIELDS = ("tool_identity", "delegation_chain")
_AGENT_FIELDS = tuple(name for name in AgentInfo.model_fields if name != "attestation")


def _replacement_problem(old: ActionRequest, new: ActionRequest, *, identify: bool) -> str | None:
    """Why ``new`` may not replace ``old`` (``None`` when it may). ``identify`` may replace who is
    acting: the agent, the tool's identity and the delegation chain; no phase may change anything else
    that identifies the call, nor remove a data label."""
    if new.request_id != old.request_id:
        return "changed the request_id"
    if not identify and new.agent != old.agent:
        return "changed the agent identity outside the identify phase"
    if new.action is not old.action:  # a part kept as it was (frozen) cannot have changed
        if new.action.tool_name != old.action.tool_name:
            return "changed the tool name"
        if new.action.type != old.action.type:
            return "changed the action type"
        if not identify and new.action.tool_identity != old.action.tool_identity:
            return "changed the tool identity outside the identify phase"
    if new.context is not old.context:
        if not identify and new.context.delegation_chain != old.context.delegation_chain:
            return "changed the delegation_chain outside the identify phase"
        for name in ("session_id", "parent_agent_id"):
            if getattr(new.context, name) != getattr(old.context, name):
                return f"changed the {name}"
        if not set(old.context.data_labels) <= set(new.context.data_labels):
            return "removed data labels (labels may only be added)"
    return None


def _json_form(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, tuple):
        return [_json_form(v) for v in value]
    return value.value if isinstance(value, Enum) else value


def identity_diff(old: ActionRequest, new: ActionRequest, plugin: str) -> dict[str, Any]:
    """What an identify plugin changed: ``{field: {"claimed", "registered", "by"}}`` (the agent's fields
    but its attestation, the tool identity and the delegation chain, in their JSON form)."""
    compared = (
        old.agent,
        new.agent,
        old.action.tool_identity,
        new.action.tool_identity,
        old.context.delegation_chain,
        new.context.delegation_chain,
    )
    key = (plugin, *map(id, compared))
    known = _DIFFS.get(key)
    if known is not None:  # the entry keeps the objects it was keyed by alive: their ids are theirs
        return {name: dict(change) for name, change in known[1].items()}
    pairs = [(name, getattr(old.agent, name), getattr(new.agent, name)) for name in _AGENT_FIELDS]
    pairs.append(("tool_identity", old.action.tool_identity, new.action.tool_identity))
    pairs.append(("delegation_chain", old.context.delegation_chain, new.context.delegation_chain))
    diff = {
        name: {"claimed": _json_form(before), "registered": _json_form(after), "by": plugin}
        for name, before, after in pairs
        if before != after
    }
    remember(_DIFFS, key, (compared, diff), 4096)
    return {name: dict(change) for name, change in diff.items()}


_DIFFS: dict[tuple[Any, ...], tuple[tuple[Any, ...], dict[str, Any]]] = {}
"""The diffs of the (frozen) parts last compared, kept alive with them: the same agent claims and gets
the same registered identity on every check."""


def _replace(
    rt: Runtime, state: CheckState, impl: Impl, phase: str, replacement: ActionRequest, identity: dict[str, Any]
) -> str | None:
    """Adopt a plugin's replacement request, re-validated; the problem that forbids it, if any."""
    try:  # built with model_copy(update=...), it skipped validation: redo it
        new = revalidated(state.request, replacement)
        # the hash binds approvals to what was asked; equal fields (the old ones were hashed) hash alike,
        # anything else (NaN, an int too wide...) must be hashable to be decided
        rhash = state.rhash if hashes_alike(state.request, new) else request_hash(new)
    except ValidationError as exc:
        return f"returned an invalid request ({exc.errors()[0]['loc']})"
    except (TypeError, ValueError, RecursionError) as exc:
        return f"returned a request whose arguments cannot be hashed ({type(exc).__name__})"
    problem = _replacement_problem(state.request, new, identify=phase == "identify")
    if problem is None:
        if phase == "identify":
            identity.update(identity_diff(state.request, new, impl.plugin_name))
        state.request, state.rhash = new, rhash
        state.ctx.request_hash = rhash
    return problem


def guards(rt: Runtime, state: CheckState) -> Generator[Any, Any, None]:
    """Phases 0 and 1, ``identify`` then ``before_check``: each plugin in order may decide, replace the
    request (enrich it; identify may also replace who is acting) or raise an approval-like gate. An
    ALLOW from a guard is ignored (it must not skip the policy), with an audit note."""
    relay, plan = rt.relay, rt.relay.plan
    identity: dict[str, Any] = {}
    for phase, impls, call in (
        ("identify", plan.identify, relay.identify),
        ("before_check", plan.before_check, relay.before_check),
    ):
        if state.decision is not None or not impls:
            continue
        state.ctx.phase = phase
        for impl in impls:
            try:
                res = call(impl, state.request, state.ctx)
                if waits(res):
                    res = yield from wait_for(rt, impl, phase, res)
                if res is not None and not isinstance(res, PluginResult):
                    raise PluginFailure(
                        impl, phase, PluginContractError(f"agent_security_{phase} must return PluginResult or None")
                    )
            except PluginFailure as failure:
                state.decision = plugin_error(rt, failure, state.ctx)
                if state.decision is not None:
                    state.phase = phase
                    break
                continue
            if res is None:
                continue
            if res.annotations:
                state.ctx.annotate(impl.plugin_name, res.annotations)
            replacement = res.request
            if res.replaces_identity:
                if phase != "identify" or replacement is not None:
                    why = (
                        "named an agent, a tool identity or a delegation chain outside the identify phase"
                        if phase != "identify"
                        else "returned both a request and the identity parts to replace"
                    )
                    state.decision = Decision.deny(
                        "PLUGIN_CONTRACT_VIOLATION",
                        f'Plugin "{impl.plugin_name}" {why}',
                        plugin_source=impl.plugin_name,
                    )
                    state.phase = phase
                    break
                replacement = with_identity(state.request, res)
            if replacement is not None:
                problem = _replace(rt, state, impl, phase, replacement, identity)
                if problem:
                    state.decision = Decision.deny(
                        "PLUGIN_CONTRACT_VIOLATION",
                        f'Plugin "{impl.plugin_name}" {problem}',
                        plugin_source=impl.plugin_name,
                    )
                    state.phase = phase
                    break
            if res.decision is not None:
                decision = attributed(res.decision, impl, state.ctx)
                if decision.outcome is Outcome.ALLOW:
                    state.ctx.annotate(impl.plugin_name, {"ignored_allow": True})
                elif decision.outcome in APPROVAL_LIKE:
                    # Approving a gate (DLP, supply chain) must not skip the policy: the policy still runs
                    # and the stricter of the two is what gets resolved.
                    state.gates.append((decision, phase))
                else:
                    state.decision, state.phase = decision, phase
                    break
    if identity:
        state.ctx.annotate("identity", {"changes": identity})


# -- evaluate and after_decision ------------------------------------------------------------------------


def _decision(impl: Impl, phase: str, answer: Any) -> Decision | None:
    """``answer`` when the hook contract allows it (a Decision or None), else the plugin's failure."""
    if answer is not None and not isinstance(answer, Decision):
        raise PluginFailure(impl, phase, PluginContractError(f"agent_security_{phase} must return Decision or None"))
    return answer


def evaluate(rt: Runtime, state: CheckState) -> Generator[Any, Any, None]:
    """Phase 2: every evaluator votes (the policy engine is one); the most restrictive vote wins, then
    the stricter of it and the guards' gates (on a tie, the evaluator's, with its approver)."""
    state.ctx.phase = "evaluate"
    votes: list[Decision] = []
    for impl in rt.relay.plan.evaluate:
        try:
            vote = rt.relay.evaluate(impl, state.request, state.ctx)
            if waits(vote):
                vote = yield from wait_for(rt, impl, "evaluate", vote)
            vote = _decision(impl, "evaluate", vote)
        except PluginFailure as failure:
            error = plugin_error(rt, failure, state.ctx)
            if error is not None:
                votes = [error]
                break
            continue
        if vote is not None:
            votes.append(attributed(vote, impl, state.ctx, keep_unset=True))
    if not votes:
        state.decision = Decision.deny("NO_DECISION", "No evaluator produced a decision")
        return
    if len(votes) == 1 and not state.gates:  # the usual case: the policy alone
        state.decision = votes[0]
        return
    candidates = [*votes, *(gate for gate, _ in state.gates)]
    decision = max(candidates, key=lambda d: restrictiveness(d.outcome))
    state.phase = next((where for gate, where in state.gates if gate is decision), state.phase)
    if state.gates and decision.outcome.approval_like:  # whoever resolves sees every gate's reasons
        extra = tuple(
            r for gate, _ in state.gates if gate is not decision for r in gate.reasons if r not in decision.reasons
        )
        if extra:
            decision = decision.model_copy(update={"reasons": (*decision.reasons, *extra)})
    state.decision = decision


def relaxes(current: Decision, new: Decision) -> bool:
    """Whether ``new`` would weaken ``current``: a less restrictive outcome, or the same gate resolved
    by someone else or under other constraints (which of two approvers is stricter cannot be known)."""
    rank, new_rank = restrictiveness(current.outcome), restrictiveness(new.outcome)
    if new_rank != rank:
        return new_rank < rank
    return current.outcome.approval_like and (
        new.approver_role != current.approver_role or new.constraints != current.constraints
    )


def after_decision(rt: Runtime, state: CheckState) -> Generator[Any, Any, None]:
    """Phase 3: plugins may make the decision stricter; only an explicitly registered ``may_relax``
    plugin may weaken it (a refused relaxation is noted in the audit event). Skipped after a
    ``PLUGIN_ERROR``."""
    decision = state.decision
    assert decision is not None
    if decision.reasons and decision.reasons[0].code == "PLUGIN_ERROR":
        return
    state.ctx.phase = "after_decision"
    for impl in rt.relay.plan.after_decision:
        try:
            new = rt.relay.after_decision(impl, state.request, decision, state.ctx)
            if waits(new):
                new = yield from wait_for(rt, impl, "after_decision", new)
            new = _decision(impl, "after_decision", new)
        except PluginFailure as failure:
            error = plugin_error(rt, failure, state.ctx)
            if error is not None:
                decision = error
                break
            continue
        if new is None:
            continue
        if not impl.may_relax and relaxes(decision, new):
            state.ctx.annotate(impl.plugin_name, {"refused_relaxation": new.outcome.value})
            continue
        decision = attributed(new, impl, state.ctx, also=decision.plugin_source)
    state.decision = decision


# -- notify ---------------------------------------------------------------------------------------------


def notify(rt: Runtime, state: CheckState, final: Decision) -> Generator[Any, Any, Decision]:
    """After the final decision: every notify plugin (``on_allow`` / ``on_deny`` among them). A failure
    of a plugin that is not ``fail_open`` withdraws an allow (DENY ``PLUGIN_ERROR``); returns the
    decision as it stands afterwards."""
    state.ctx.phase = "notify"
    for impl in rt.relay.plan.notify:
        try:
            result = rt.relay.notify(impl, state.request, final, state.ctx)
            if waits(result):
                yield from wait_for(rt, impl, "notify", result)
        except PluginFailure as failure:
            error = plugin_error(rt, failure, state.ctx)
            if error is not None and final.outcome is not Outcome.DENY:
                final = merge_denial(final, error)
    return final
