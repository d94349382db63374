"""The built-in policy used when nothing else is configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agent_security.core.policy.models import PolicyBundle

__all__ = ["DEFAULT_POLICY_VERSION", "default_policy_bundle", "default_policy_data"]

DEFAULT_POLICY_VERSION = "0.1.0"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_policy_data(now: datetime | None = None, valid_for: timedelta = timedelta(days=365)) -> dict[str, Any]:
    """The default bundle as plain data (see :func:`default_policy_bundle`)."""
    now = now or datetime.now(UTC)
    return {
        "version": DEFAULT_POLICY_VERSION,
        "generated_at": _iso(now),
        "expires_at": _iso(now + valid_for),
        "rules": [
            {
                "id": "DENY_BULK_EXPORT",
                "description": "Block bulk export or data dump attempts from customer database",
                "match": {"tool_name": "query_customer_db", "environment": "*"},
                "when": {"contains_any": ["export", "all customers", "dump"]},
                "outcome": "DENY",
            },
            {
                "id": "REQUIRE_APPROVAL_EMAIL_PROD",
                "description": "Require approval for sending emails in production",
                "match": {"tool_name": "send_email", "environment": "prod"},
                "outcome": "REQUIRE_APPROVAL",
                "approver_role": "security",
            },
            {
                "id": "REQUIRE_APPROVAL_PAYMENT_PROD",
                "description": "Require approval for payment operations in production",
                "match": {"tool_name": "trigger_payment", "environment": "prod"},
                "outcome": "REQUIRE_APPROVAL",
                "approver_role": "security",
            },
        ],
        "defaults": {"outcome": "DENY"},
    }


def default_policy_bundle(now: datetime | None = None, valid_for: timedelta = timedelta(days=365)) -> PolicyBundle:
    """A safe default bundle: Agent-SPM's three built-in rules, but **default DENY** (the original's
    ``createDefaultPolicyBundle`` defaulted to ALLOW, its weakness W8). Valid from ``now`` for
    ``valid_for`` (one year)."""
    from agent_security.core.policy.loader import load_policy

    return load_policy(default_policy_data(now, valid_for), now=now)
