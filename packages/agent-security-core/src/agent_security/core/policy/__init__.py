"""The policy engine: bundles of first-match rules, loaded safely, signed, evaluated fast.

Typical use::

    from agent_security.core.policy import PolicyEngine, load_policy

    engine = PolicyEngine(load_policy("policy.yaml", trusted_keys=["policy.pub"]))
    decision = engine.evaluate(request)          # never raises; DENY POLICY_ERROR on internal errors

A reload builds a new engine and swaps the reference; a failing load raises and leaves the old engine
in place. See ``docs/policies.md`` for the schema, the semantics and how they differ from Agent-SPM.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_security.core.normalize import normalize_text
    from agent_security.core.policy.defaults import default_policy_bundle, default_policy_data
    from agent_security.core.policy.engine import PolicyEngine, RuleTrace, searchable_values
    from agent_security.core.policy.loader import (
        MAX_BUNDLE_BYTES,
        MAX_DEPTH,
        load_policy,
        load_policy_file,
        load_policy_json,
        load_policy_yaml,
    )
    from agent_security.core.policy.models import (
        MAX_RULES,
        BundleSignature,
        PolicyBundle,
        PolicyDefaults,
        PolicyRule,
        RuleMatch,
        RuleWhen,
    )
    from agent_security.core.policy.signing import (
        KeyPair,
        canonical_bytes,
        compute_hmac_signature,
        generate_keypair,
        key_id_for,
        load_private_key,
        load_public_key,
        sign_bundle,
        sign_bundle_hmac,
        verify_bundle,
        verify_hmac_signature,
    )

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_DEPTH",
    "MAX_RULES",
    "BundleSignature",
    "KeyPair",
    "PolicyBundle",
    "PolicyDefaults",
    "PolicyEngine",
    "PolicyRule",
    "RuleMatch",
    "RuleTrace",
    "RuleWhen",
    "canonical_bytes",
    "compute_hmac_signature",
    "default_policy_bundle",
    "default_policy_data",
    "generate_keypair",
    "key_id_for",
    "load_policy",
    "load_policy_file",
    "load_policy_json",
    "load_policy_yaml",
    "load_private_key",
    "load_public_key",
    "normalize_text",
    "searchable_values",
    "sign_bundle",
    "sign_bundle_hmac",
    "verify_bundle",
    "verify_hmac_signature",
]

_LAZY: dict[str, str] = {
    "normalize_text": "agent_security.core.normalize",
    "default_policy_bundle": "agent_security.core.policy.defaults",
    "default_policy_data": "agent_security.core.policy.defaults",
    "PolicyEngine": "agent_security.core.policy.engine",
    "RuleTrace": "agent_security.core.policy.engine",
    "searchable_values": "agent_security.core.policy.engine",
    "MAX_BUNDLE_BYTES": "agent_security.core.policy.loader",
    "MAX_DEPTH": "agent_security.core.policy.loader",
    "load_policy": "agent_security.core.policy.loader",
    "load_policy_file": "agent_security.core.policy.loader",
    "load_policy_json": "agent_security.core.policy.loader",
    "load_policy_yaml": "agent_security.core.policy.loader",
    "MAX_RULES": "agent_security.core.policy.models",
    "BundleSignature": "agent_security.core.policy.models",
    "PolicyBundle": "agent_security.core.policy.models",
    "PolicyDefaults": "agent_security.core.policy.models",
    "PolicyRule": "agent_security.core.policy.models",
    "RuleMatch": "agent_security.core.policy.models",
    "RuleWhen": "agent_security.core.policy.models",
    "KeyPair": "agent_security.core.policy.signing",
    "canonical_bytes": "agent_security.core.policy.signing",
    "compute_hmac_signature": "agent_security.core.policy.signing",
    "generate_keypair": "agent_security.core.policy.signing",
    "key_id_for": "agent_security.core.policy.signing",
    "load_private_key": "agent_security.core.policy.signing",
    "load_public_key": "agent_security.core.policy.signing",
    "sign_bundle": "agent_security.core.policy.signing",
    "sign_bundle_hmac": "agent_security.core.policy.signing",
    "verify_bundle": "agent_security.core.policy.signing",
    "verify_hmac_signature": "agent_security.core.policy.signing",
}
"""Each public name and the module that defines it, imported on first use (PEP 562): a check loads
its policy without the signing code, which needs cryptography."""


from agent_security.core.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
