"""The policy engine: bundles of first-match rules, loaded safely, signed, evaluated fast.

Typical use::

    from agent_security.core.policy import PolicyEngine, load_policy

    engine = PolicyEngine(load_policy("policy.yaml", trusted_keys=["policy.pub"]))
    decision = engine.evaluate(request)          # never raises; DENY POLICY_ERROR on internal errors

A reload builds a new engine and swaps the reference; a failing load raises and leaves the old engine
in place. See ``docs/policies.md`` for the schema, the semantics and how they differ from Agent-SPM.
"""

from __future__ import annotations

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
