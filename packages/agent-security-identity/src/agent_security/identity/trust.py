"""``TrustEvaluator``: the effective trust of a call, from registered and verified facts only.

The original scored trust 0-100 and subtracted points for missing attestations, delegation depth,
time of day and denials. The penalty for a missing attestation in ``prod`` (-10) dropped *every*
agent one level, so a ``basic`` agent never met ``minimumTrustLevel: "basic"`` in production, and the
score never reached the policy (which matched the claimed level). Here trust moves along the ordered
levels (:data:`~agent_security.core.models.TRUST_LEVELS`), by rules that say what they do:

1. the base is the registered level (an unregistered agent: ``untrusted``);
2. a valid attestation raises it to what its issuer grants (default ``verified``), never lowers it;
3. without one, an environment may cap it (``unattested_max_trust_by_environment``, e.g. ``prod =
   "basic"``: unattested agents count as at most ``basic`` there); no cap unless configured;
4. a delegated call is as trusted as the least trusted agent along the chain.

The result is the trust level the policy sees (``trust_level_min`` matches it) and the one the
enforcer holds against the minimum trust, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent_security.core.models import TrustLevel, trust_rank
from agent_security.core.normalize import normalize_name
from agent_security.identity.attestation import Attestation
from agent_security.identity.registry import AgentRecord

__all__ = ["TrustEvaluator", "TrustResult"]


@dataclass(frozen=True)
class TrustResult:
    effective: TrustLevel
    base: TrustLevel
    adjustments: tuple[str, ...] = ()
    """What moved the level, in order (``attested by ops-ca: verified``, ``delegated by x: basic``)."""


def _lower(a: TrustLevel, b: TrustLevel) -> TrustLevel:
    return a if trust_rank(a) <= trust_rank(b) else b


class TrustEvaluator:
    """See the module documentation."""

    def __init__(
        self,
        *,
        unattested_max_trust: TrustLevel | str | None = None,
        unattested_max_trust_by_environment: Mapping[str, TrustLevel | str] | None = None,
    ) -> None:
        self.unattested_max_trust = TrustLevel(unattested_max_trust) if unattested_max_trust else None
        self.caps = {normalize_name(k): TrustLevel(v) for k, v in (unattested_max_trust_by_environment or {}).items()}

    def cap_for(self, environment: str) -> TrustLevel | None:
        return self.caps.get(normalize_name(environment), self.unattested_max_trust)

    def evaluate(
        self,
        record: AgentRecord | None,
        *,
        environment: str,
        attestation: Attestation | None = None,
        delegators: Sequence[AgentRecord] = (),
    ) -> TrustResult:
        base = record.trust_level if record is not None else TrustLevel.UNTRUSTED
        level = base
        notes: list[str] = []
        if attestation is not None:
            if trust_rank(attestation.grants) > trust_rank(level):
                level = attestation.grants
            notes.append(f"attested by {attestation.issuer}: {level.value}")
        else:
            cap = self.cap_for(environment)
            if cap is not None and trust_rank(cap) < trust_rank(level):
                level = cap
                notes.append(f"no attestation in {environment}: at most {cap.value}")
        for delegator in delegators:
            lowered = _lower(level, delegator.trust_level)
            if lowered is not level:
                notes.append(f"delegated by {delegator.agent_id}: {lowered.value}")
            level = lowered
        return TrustResult(effective=level, base=base, adjustments=tuple(notes))

    @staticmethod
    def meets(result: TrustResult | TrustLevel, minimum: TrustLevel | str) -> bool:
        level = result.effective if isinstance(result, TrustResult) else result
        return trust_rank(level) >= trust_rank(minimum)
