"""The LangChain adapter tests' policy and instance."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agent_security.core import AgentSecurity

POLICY = """
version: "1.0.0"
generated_at: "2026-01-01T00:00:00Z"
expires_at: "2099-01-01T00:00:00Z"
rules:
  - id: DENY_SYSTEM_FILES
    match: {tool_name: read_file, environment: "*"}
    when: {tool_args_match: {path: {regex: "^/etc/"}}}
    outcome: DENY
  - id: DENY_OUTSIDE_EMAIL
    match: {tool_name: send_email, environment: "*"}
    when: {tool_args_match: {to: {regex: "@evil\\\\.example$"}}}
    outcome: DENY
  - id: APPROVE_PAYMENTS
    match: {tool_name: pay, environment: "*"}
    outcome: REQUIRE_APPROVAL
    approver_role: finance
  - id: ALLOW_REST
    match: {tool_name: "*", environment: "*"}
    outcome: ALLOW
defaults: {outcome: DENY}
"""


@pytest.fixture
def security(tmp_path: Any) -> Iterator[AgentSecurity]:
    with AgentSecurity(policy_json=POLICY, autoload=False, default_environment="dev") as sec:
        yield sec


@pytest.fixture
def policy() -> str:
    return POLICY
