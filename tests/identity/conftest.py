"""Shared fixtures of the identity tests: a fixed clock, keys, the example policy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "identity"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
T = NOW.timestamp()


@pytest.fixture
def policy_path() -> Path:
    return EXAMPLES / "policy.json"


@pytest.fixture
def ca_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()
