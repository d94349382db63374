"""The identity enforcer: the ``identify`` phase of every check, from the registries only.

For each call the enforcer (plugin name ``identity-enforcer``):

1. finds the agent in the :class:`~agent_security.identity.registry.AgentRegistry` by its canonical id.
   An id that only looks like a registered one is ``IDENTITY_MISMATCH`` (denied unless
   ``confusable_ids="audit"``); a revoked agent is ``AGENT_REVOKED``; an unregistered one is
   ``AGENT_UNREGISTERED`` when registration is required, else it runs with trust ``untrusted`` and no
   roles or agent type, whatever it claims;
2. compares the caller's claims (trust level, roles, agent type, owner, environment) with the record:
   a difference is written to the audit trail as an ``identity.mismatch`` event (reason
   ``IDENTITY_MISMATCH``) and the registered values replace the claims; with ``strict=True`` the call
   is denied instead;
3. checks the tool against the :class:`~agent_security.identity.tools.ToolRegistry` (revoked,
   unregistered when required, claimed manifest hash, required permissions) and replaces the claimed
   tool identity with the registered one;
4. verifies a presented attestation and delegation chain (``context={"identity": {"attestation":
   "<jwt>", "delegation": ["<jwt>", ...]}}``; the original's ``attestation={"signature": "<jwt>", ...}``
   is read too): a bad one denies (``ATTESTATION_*``, ``DELEGATION_*``); a delegation chain given
   without signed hops is dropped (or denied, ``unsigned_delegation="deny"``);
5. computes the effective trust (:class:`~agent_security.identity.trust.TrustEvaluator`), denies below
   the minimum for the environment (``INSUFFICIENT_TRUST``) and hands the policy the request with the
   registered identity, the effective trust level, the verified tool identity and the verified
   delegation chain (``agent.verified = True`` for a registered or attested agent). The core records
   every replaced field in the decision's audit event (``data.plugins.identity.changes``).

Unlike the original, the tool checks run whether registration is required or not, the delegation depth
is checked whether registration is required or not, and nothing the caller says outranks the registry.
A store failure is DENY ``STORE_UNAVAILABLE``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from agent_security.core import hookimpl
from agent_security.core.errors import StoreError
from agent_security.core.models import (
    ActionRequest,
    AgentAttestation,
    AgentInfo,
    Decision,
    PluginResult,
    Reason,
    ToolIdentity,
    TrustLevel,
    trust_rank,
)
from agent_security.core.normalize import normalize_name
from agent_security.core.store import Store
from agent_security.identity.attestation import Attestation, TokenVerifier
from agent_security.identity.delegation import DelegationError, VerifiedChain, verify_chain
from agent_security.identity.errors import TokenError
from agent_security.identity.registry import AgentRecord, AgentRegistry
from agent_security.identity.tools import ToolRecord, ToolRegistry, same_hash
from agent_security.identity.trust import TrustEvaluator, TrustResult

__all__ = ["PLUGIN_NAME", "IdentityEnforcer", "identity_enforcer"]

PLUGIN_NAME = "identity-enforcer"
_MAX_MEMO = 4096


@dataclass(frozen=True)
class _Outcome:
    """What the enforcer concluded for one (claimed agent, record, tool) without tokens: reusable while
    the same objects come back."""

    claimed: AgentInfo
    record: AgentRecord | None
    tool_record: ToolRecord | None
    claimed_tool: ToolIdentity | None
    denial: PluginResult | None
    agent: AgentInfo | None
    tool_identity: ToolIdentity | None
    mismatch: Mapping[str, Any] | None
    annotations: Mapping[str, Any] | None
    chain: tuple[str, ...] = ()
    """The verified delegation chain (delegators, root first) the request carries from now on."""
    request_chain: tuple[str, ...] = ()
    """The delegation chain the request came with."""
    agents: Mapping[str, AgentRecord] | None = None
    tools: Mapping[str, ToolRecord] | None = None
    """The registries' records it was concluded from (see :meth:`AgentRegistry.snapshot`)."""

    @functools.cached_property
    def result(self) -> PluginResult:
        """What the hook answers when nothing is denied: only the parts replaced (the same result for
        every check this outcome is reused for). A part equal to the claimed one is not replaced: the
        request already says what the registry says, and nothing changes to record."""
        return PluginResult(
            agent=self.agent if self.agent is not None and self.agent != self.claimed else None,
            tool_identity=self.tool_identity if self.tool_identity != self.claimed_tool else None,
            delegation_chain=self.chain if self.chain != self.request_chain else None,
            annotations=self.annotations,
        )


def _deny(code: str, message: str) -> PluginResult:
    return PluginResult(decision=Decision.deny(code, message, plugin_source=PLUGIN_NAME))


def _names(values: Sequence[str]) -> frozenset[str]:
    return frozenset(normalize_name(v) for v in values)


class IdentityEnforcer:
    """The identity plugin object (see the module documentation). Build it with :func:`identity_enforcer`."""

    name = PLUGIN_NAME
    fail_open = False

    def __init__(
        self,
        *,
        agent_registry: AgentRegistry | None = None,
        tool_registry: ToolRegistry | None = None,
        trust_evaluator: TrustEvaluator | None = None,
        verifier: TokenVerifier | None = None,
        require_registration: bool = False,
        strict: bool = False,
        confusable_ids: Literal["deny", "audit"] = "deny",
        minimum_trust_level: TrustLevel | str | None = None,
        minimum_trust_by_environment: Mapping[str, TrustLevel | str] | None = None,
        max_delegation_depth: int = 3,
        unsigned_delegation: Literal["ignore", "deny"] = "ignore",
        require_tool_registration: bool = False,
        tool_hash_mismatch: Literal["deny", "audit"] = "deny",
        enforce_tool_permissions: bool = False,
    ) -> None:
        self.agents = agent_registry if agent_registry is not None else AgentRegistry()
        self.tools = tool_registry if tool_registry is not None else ToolRegistry()
        self.trust = trust_evaluator if trust_evaluator is not None else TrustEvaluator()
        self.verifier = verifier if verifier is not None else TokenVerifier()
        self.require_registration = require_registration
        self.strict = strict
        self.confusable_ids = confusable_ids
        self.minimum_trust_level = TrustLevel(minimum_trust_level) if minimum_trust_level else None
        self.minimum_by_env = {
            normalize_name(k): TrustLevel(v) for k, v in (minimum_trust_by_environment or {}).items()
        }
        if not 0 <= max_delegation_depth <= 16:
            raise ValueError("max_delegation_depth must be within 0..16")
        self.max_delegation_depth = max_delegation_depth
        self.unsigned_delegation = unsigned_delegation
        self.require_tool_registration = require_tool_registration
        self.tool_hash_mismatch = tool_hash_mismatch
        self.enforce_tool_permissions = enforce_tool_permissions
        self._host: Any = None
        self._memo: dict[tuple[int, str, int], _Outcome] = {}

    # -- wiring -----------------------------------------------------------------------------------
    def bind_host(self, host: Any) -> None:
        self._host = host

    def bind_store(self, store: Store) -> None:
        """Keep the registries and the revocation list in the instance's store (unless given one)."""
        self.agents.bind_store(store)
        self.tools.bind_store(store)
        self.verifier.revocations.bind_store(store)

    def minimum_for(self, environment: str) -> TrustLevel | None:
        return self.minimum_by_env.get(normalize_name(environment), self.minimum_trust_level)

    # -- the hook ---------------------------------------------------------------------------------
    @hookimpl
    def agent_security_identify(self, request: ActionRequest, ctx: Any) -> PluginResult | None:
        try:
            return self._identify(request, ctx)
        except StoreError:
            return _deny("STORE_UNAVAILABLE", "The identity registry is unavailable; the call is refused")

    def _identify(self, request: ActionRequest, ctx: Any) -> PluginResult | None:
        agent, action = request.agent, request.action
        agents, tools = self.agents.snapshot(), self.tools.snapshot()
        attestation_token, delegation_tokens = _tokens(request)
        if attestation_token is None and not delegation_tokens and not request.context.delegation_chain:
            # concluded anew when the caller's claims or either registry changed (a lookalike of the
            # caller's id registered since counts as much as its own record)
            key = (id(agent), action.tool_name, id(action.tool_identity))
            memo = self._memo.get(key)
            if (
                memo is None
                or memo.claimed is not agent
                or memo.claimed_tool is not action.tool_identity
                or memo.agents is not agents
                or memo.tools is not tools
            ):
                record = agents.get(agent.agent_id)  # the request model canonicalised it
                memo = self._conclude(request, record, self.tools.get(action.tool_name), None, None)
                memo = dataclasses.replace(memo, agents=agents, tools=tools)
                if len(self._memo) >= _MAX_MEMO:
                    self._memo.clear()
                self._memo[key] = memo
            return self._apply(request, ctx, memo)
        record = agents.get(agent.agent_id)
        tool_record = self.tools.get(action.tool_name)
        try:
            attestation = (
                self.verifier.verify_attestation(attestation_token, agent_id=agent.agent_id, now=_now(ctx))
                if attestation_token is not None
                else None
            )
        except TokenError as exc:
            return self._early(request, record) or _deny(exc.code, f"Attestation refused: {exc}")
        chain: VerifiedChain | None = None
        if delegation_tokens:
            try:
                chain = verify_chain(
                    delegation_tokens,
                    acting_agent=agent.agent_id,
                    tool_name=action.tool_name,
                    verifier=self.verifier,
                    registry=self.agents,
                    max_depth=min(self.max_delegation_depth, _own_limit(record)),
                    now=_now(ctx),
                )
            except DelegationError as exc:
                return self._early(request, record) or _deny(exc.code, str(exc))
        return self._apply(request, ctx, self._conclude(request, record, tool_record, attestation, chain))

    def _early(self, request: ActionRequest, record: AgentRecord | None) -> PluginResult | None:
        """The registration denial that outranks a token error (an unregistered agent's bad token)."""
        if record is not None and record.revoked:
            return _deny("AGENT_REVOKED", f'Agent "{record.agent_id}" has been revoked')
        if record is None and self.require_registration:
            return _deny("AGENT_UNREGISTERED", f'Agent "{request.agent.agent_id}" is not registered')
        return None

    # -- concluding -------------------------------------------------------------------------------
    def _conclude(
        self,
        request: ActionRequest,
        record: AgentRecord | None,
        tool_record: ToolRecord | None,
        attestation: Attestation | None,
        chain: VerifiedChain | None,
    ) -> _Outcome:
        agent, action = request.agent, request.action

        def done(
            denial: PluginResult | None = None,
            new_agent: AgentInfo | None = None,
            tool_identity: ToolIdentity | None = None,
            mismatch: Mapping[str, Any] | None = None,
            annotations: Mapping[str, Any] | None = None,
        ) -> _Outcome:
            if chain is not None and annotations is not None:
                annotations = {
                    **annotations,
                    "delegation": {"depth": chain.depth, "issuers": [h.issuer for h in chain.hops]},
                }
            return _Outcome(
                agent,
                record,
                tool_record,
                action.tool_identity,
                denial,
                new_agent,
                tool_identity,
                mismatch,
                annotations,
                chain.chain if chain is not None else (),
                request.context.delegation_chain,
            )

        if record is None:
            lookalike = self.agents.confusable_with(agent.agent_id)
            if lookalike is not None:
                info = {"reason": "confusable_id", "claimed_agent_id": agent.agent_id, "registered_agent_id": lookalike}
                if self.confusable_ids == "deny":
                    return done(
                        _deny(
                            "IDENTITY_MISMATCH",
                            f'Agent id "{agent.agent_id}" is confusable with the registered agent "{lookalike}"',
                        ),
                        mismatch=info,
                    )
                denial, new_agent, tool_identity, annotations = self._unregistered(
                    request, attestation, chain, tool_record
                )
                return done(denial, new_agent, tool_identity, info, annotations)
            if self.require_registration:
                return done(_deny("AGENT_UNREGISTERED", f'Agent "{agent.agent_id}" is not registered'))
            denial, new_agent, tool_identity, annotations = self._unregistered(request, attestation, chain, tool_record)
            return done(denial, new_agent, tool_identity, None, annotations)
        if record.revoked:
            return done(_deny("AGENT_REVOKED", f'Agent "{record.agent_id}" has been revoked'))
        trust = self.trust.evaluate(
            record,
            environment=record.environment or agent.environment,
            attestation=attestation,
            delegators=chain.delegators if chain else (),
        )
        differences = _differences(agent, record, trust)
        mismatch = {"reason": "claims_differ", "fields": differences} if differences else None
        if differences and self.strict:
            return done(
                _deny(
                    "IDENTITY_MISMATCH",
                    f'Agent "{record.agent_id}" claimed {", ".join(sorted(differences))} other than registered',
                ),
                mismatch=mismatch,
            )
        if chain is None and request.context.delegation_chain and self.unsigned_delegation == "deny":
            return done(_deny("DELEGATION_UNSIGNED", "A delegation chain was given without signed hops"))
        tool_denial, tool_identity, tool_notes = self._tool(request, tool_record, record)
        if tool_denial is not None:
            return done(tool_denial, mismatch=mismatch)
        environment = record.environment or agent.environment
        denial = self._minimum(record.agent_id, environment, trust)
        if denial is not None:
            return done(denial, mismatch=mismatch)
        new_agent = AgentInfo(
            agent_id=record.agent_id,
            name=record.name or agent.name or record.agent_id,
            owner=record.owner or agent.owner,
            environment=environment,
            agent_type=record.agent_type,
            trust_level=trust.effective,
            roles=record.roles,
            capabilities=record.capabilities,
            max_delegation_depth=record.max_delegation_depth,
            attestation=_attestation_summary(attestation),
            verified=True,
        )
        notes: dict[str, Any] = {"registered": True, "effective_trust": trust.effective.value}
        if trust.adjustments:
            notes["trust_adjustments"] = list(trust.adjustments)
        if tool_notes:
            notes["tool"] = tool_notes
        return done(None, new_agent, tool_identity, mismatch, notes)

    def _unregistered(
        self,
        request: ActionRequest,
        attestation: Attestation | None,
        chain: VerifiedChain | None,
        tool_record: ToolRecord | None,
    ) -> tuple[PluginResult | None, AgentInfo | None, ToolIdentity | None, Mapping[str, Any] | None]:
        agent = request.agent
        if chain is None and request.context.delegation_chain and self.unsigned_delegation == "deny":
            return _deny("DELEGATION_UNSIGNED", "A delegation chain was given without signed hops"), None, None, None
        tool_denial, tool_identity, tool_notes = self._tool(request, tool_record, None)
        if tool_denial is not None:
            return tool_denial, None, None, None
        trust = self.trust.evaluate(
            None, environment=agent.environment, attestation=attestation, delegators=chain.delegators if chain else ()
        )
        denial = self._minimum(agent.agent_id, agent.environment, trust)
        if denial is not None:
            return denial, None, None, None
        claims = [
            f
            for f, v in (("trust_level", agent.trust_level), ("roles", agent.roles), ("agent_type", agent.agent_type))
            if v
        ]
        new_agent = agent.model_copy(
            update={
                "trust_level": trust.effective,
                "roles": (),
                "capabilities": (),
                "agent_type": None,
                "max_delegation_depth": None,
                "attestation": _attestation_summary(attestation),
                "verified": attestation is not None,
            }
        )
        notes: dict[str, Any] = {"registered": False, "effective_trust": trust.effective.value}
        if claims:
            notes["ignored_claims"] = claims
        if tool_notes:
            notes["tool"] = tool_notes
        return None, new_agent, tool_identity, notes

    def _minimum(self, agent_id: str, environment: str, trust: TrustResult) -> PluginResult | None:
        minimum = self.minimum_for(environment)
        if minimum is None or trust_rank(trust.effective) >= trust_rank(minimum):
            return None
        return _deny(
            "INSUFFICIENT_TRUST",
            f'Agent "{agent_id}" trust level "{trust.effective.value}" is below minimum "{minimum.value}"',
        )

    def _tool(
        self, request: ActionRequest, tool_record: ToolRecord | None, record: AgentRecord | None
    ) -> tuple[PluginResult | None, ToolIdentity | None, Mapping[str, Any] | None]:
        action = request.action
        claimed = action.tool_identity
        if tool_record is None:
            if self.require_tool_registration:
                return _deny("TOOL_UNREGISTERED", f'Tool "{action.tool_name}" is not registered'), None, None
            if claimed is not None and claimed.verified:  # a caller cannot vouch for its own tool
                return None, claimed.model_copy(update={"verified": False}), {"ignored_claims": ["verified"]}
            return None, claimed, None
        if tool_record.revoked:
            return _deny("TOOL_REVOKED", f'Tool "{action.tool_name}" has been revoked'), None, None
        notes: dict[str, Any] = {}
        claimed_hash = claimed.manifest_hash if claimed is not None else None
        if claimed_hash and tool_record.manifest_hash and not same_hash(claimed_hash, tool_record.manifest_hash):
            if self.tool_hash_mismatch == "deny":
                message = f'Tool "{action.tool_name}" manifest hash differs from the registered one'
                return _deny("TOOL_HASH_MISMATCH", message), None, None
            notes["hash_mismatch"] = True
        if self.enforce_tool_permissions and tool_record.permissions_required:
            held = _names(record.permissions) if record is not None else frozenset()
            missing = sorted(_names(tool_record.permissions_required) - held)
            if missing:
                who = record.agent_id if record is not None else request.agent.agent_id
                return (
                    _deny(
                        "TOOL_PERMISSION_MISSING", f'Agent "{who}" lacks {", ".join(missing)} for "{action.tool_name}"'
                    ),
                    None,
                    None,
                )
        identity = ToolIdentity(
            tool_name=action.tool_name,
            version=tool_record.version,
            provider=tool_record.provider,
            manifest_hash=tool_record.manifest_hash,
            permissions_required=tool_record.permissions_required,
            data_access=tool_record.data_access,
            verified=True,
        )
        return None, identity, notes or None

    # -- applying ---------------------------------------------------------------------------------
    def _apply(self, request: ActionRequest, ctx: Any, outcome: _Outcome) -> PluginResult | None:
        if outcome.mismatch is not None:
            self._record_mismatch(request, ctx, outcome)
        if outcome.denial is not None:
            return outcome.denial
        if outcome.tool_identity is None and request.action.tool_identity is not None:
            # a claimed tool identity withdrawn: only a whole request says "none"
            action = request.action.model_copy(update={"tool_identity": None})
            return PluginResult(
                request=request.model_copy(update={"agent": outcome.agent or request.agent, "action": action}),
                annotations=outcome.annotations,
            )
        return outcome.result

    def _record_mismatch(self, request: ActionRequest, ctx: Any, outcome: _Outcome) -> None:
        data = dict(outcome.mismatch or {})
        data["action"] = "denied" if outcome.denial is not None else "replaced"
        host = self._host or getattr(ctx, "host", None)
        if ctx is not None and hasattr(ctx, "annotate"):
            ctx.annotate(PLUGIN_NAME, {"mismatch": data})
        if host is None:
            return
        message = (
            "agent id confusable with a registered agent"
            if data.get("reason") == "confusable_id"
            else "claimed identity differs from the registry"
        )
        host.record_event(
            "identity.mismatch",
            data,
            agent_id=request.agent.agent_id,
            request_id=request.request_id,
            tool_name=request.action.tool_name,
            environment=request.agent.environment,
            reasons=(Reason(code="IDENTITY_MISMATCH", message=message),),
        )


def _now(ctx: Any) -> float:
    value = getattr(ctx, "time", None)
    if isinstance(value, int | float) and value >= 0:
        return float(value)
    raise TokenError("the check has no clock reading", code="CLOCK_UNAVAILABLE")


def _own_limit(record: AgentRecord | None) -> int:
    if record is None or record.max_delegation_depth is None:
        return 16
    return record.max_delegation_depth


def _attestation_summary(attestation: Attestation | None) -> AgentAttestation | None:
    if attestation is None:
        return None
    from datetime import UTC, datetime

    return AgentAttestation(
        issuer=attestation.issuer,
        issued_at=datetime.fromtimestamp(attestation.issued_at, UTC).isoformat(),
        expires_at=datetime.fromtimestamp(attestation.expires_at, UTC).isoformat(),
    )


def _differences(agent: AgentInfo, record: AgentRecord, trust: TrustResult) -> dict[str, dict[str, Any]]:
    """The claims of ``agent`` that differ from ``record`` (fields the caller left out are no claim)."""
    out: dict[str, dict[str, Any]] = {}
    if agent.trust_level is not None and agent.trust_level not in (record.trust_level, trust.effective):
        out["trust_level"] = {"claimed": agent.trust_level.value, "registered": trust.effective.value}
    if agent.roles and _names(agent.roles) != _names(record.roles):
        out["roles"] = {"claimed": list(agent.roles)[:32], "registered": list(record.roles)[:32]}
    if agent.agent_type and (
        record.agent_type is None or normalize_name(agent.agent_type) != normalize_name(record.agent_type)
    ):
        out["agent_type"] = {"claimed": agent.agent_type[:256], "registered": record.agent_type}
    if record.owner and agent.owner not in ("unknown", "") and agent.owner != record.owner:
        out["owner"] = {"claimed": agent.owner[:256], "registered": record.owner}
    if (
        record.environment
        and agent.environment not in ("unknown", "")
        and normalize_name(agent.environment) != normalize_name(record.environment)
    ):
        out["environment"] = {"claimed": agent.environment[:256], "registered": record.environment}
    return out


def _tokens(request: ActionRequest) -> tuple[str | None, list[Any]]:
    """The attestation and delegation tokens the caller presented (see the module documentation)."""
    attestation: str | None = None
    delegation: list[Any] = []
    ident = request.context.extra.get("identity") if request.context.extra else None
    if ident is not None and isinstance(ident, Mapping):
        value = ident.get("attestation")
        if value is not None:
            attestation = value if isinstance(value, str) else repr(type(value))
        hops = ident.get("delegation")
        if isinstance(hops, str):
            delegation = [hops]
        elif isinstance(hops, Sequence):
            delegation = list(hops[:32])
    claimed = request.agent.attestation
    if attestation is None and claimed is not None and claimed.signature:
        attestation = claimed.signature
    return attestation, delegation


def identity_enforcer(
    *,
    agent_registry: AgentRegistry | None = None,
    tool_registry: ToolRegistry | None = None,
    trust_evaluator: TrustEvaluator | None = None,
    verifier: TokenVerifier | None = None,
    require_registration: bool = True,
    strict: bool = False,
    confusable_ids: Literal["deny", "audit"] = "deny",
    minimum_trust_level: TrustLevel | str | None = None,
    minimum_trust_by_environment: Mapping[str, TrustLevel | str] | None = None,
    max_delegation_depth: int = 3,
    unsigned_delegation: Literal["ignore", "deny"] = "ignore",
    require_tool_registration: bool = False,
    tool_hash_mismatch: Literal["deny", "audit"] = "deny",
    enforce_tool_permissions: bool = False,
) -> IdentityEnforcer:
    """The identity plugin for ``AgentSecurity(plugins=[...])`` (the original's ``identityEnforcer``;
    ``require_registration`` defaults to ``True`` as there). See :class:`IdentityEnforcer`."""
    return IdentityEnforcer(
        agent_registry=agent_registry,
        tool_registry=tool_registry,
        trust_evaluator=trust_evaluator,
        verifier=verifier,
        require_registration=require_registration,
        strict=strict,
        confusable_ids=confusable_ids,
        minimum_trust_level=minimum_trust_level,
        minimum_trust_by_environment=minimum_trust_by_environment,
        max_delegation_depth=max_delegation_depth,
        unsigned_delegation=unsigned_delegation,
        require_tool_registration=require_tool_registration,
        tool_hash_mismatch=tool_hash_mismatch,
        enforce_tool_permissions=enforce_tool_permissions,
    )
