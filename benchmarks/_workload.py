"""The shared pipeline-benchmark workload: one policy of 100 rules, three runtime controls and a fixed
mix of ten tool calls.

Both sides of the comparison read this very data:

* our side (``benchmarks/bench_pipeline.py``) feeds ``WORKLOAD`` into ``AgentSecurity``
  (``WORKLOAD["policy"]`` is an Agent-SPM policy bundle; ``WORKLOAD["controls"]`` configures the
  built-in kill switch, rate limiter and session-context plugins; ``check_kwargs(request)`` gives the
  keyword arguments of ``check_tool_call``);
* Microsoft's Agent Governance Toolkit side (``benchmarks/agt_workload.py``, run in its own virtual
  environment by ``benchmarks/_agt.py``) reads the same data from the JSON file written by
  :func:`write_json`.

Nothing here imports ``agent_security`` or AGT. ``python benchmarks/_workload.py`` rewrites
``benchmarks/data/workload.json`` (kept in the repository so the workload can be read without Python).

Design of the policy (first match wins, ``defaults`` DENY):

* 10 "meaningful" rules that the request mix hits, spread over the list (positions 3, 17, 38, 52, 66,
  81, 88, 93, 96, 99 counting from 0), so a decision scans on average more than half of the list;
* 90 filler rules for other tools (exact names, name lists, prefix globs, ``*`` environments, some with
  ``contains_any``) that no request of the mix matches but every evaluation has to test;
* only ``match.tool_name`` / ``match.environment`` and ``when.contains_any`` are used, so the policy can
  be expressed one-to-one in AGT's rule engine (see ``agt_workload.py``).

Runtime controls (the Agent-SPM built-ins, in this order before the policy):

* kill switch: ``agent-rogue`` is killed, every call from it is denied (``AGENT_KILL_SWITCH``);
* per-agent rate limiter: 1,000,000 calls per 60 s window, so it is consulted and counts every call
  but never trips during the run (a tripping limiter would change the outcomes mid-run);
* session tool limits: ``trigger_payment`` at most 2 per session (the payment request of the mix is
  allowed twice, then denied with ``SESSION_LIMIT_EXCEEDED`` for the rest of the run, i.e. already
  during the warm-up), ``read_file`` at most 1,000,000 per session (counted on every call, never trips);
* every decision is written to the hash-chained in-memory audit log.

``expected`` in each request is its outcome in the steady state (after the warm-up): ``allowed`` and
the code of the deciding rule or control. ``policy_code`` is what the policy alone decides (the rule id,
or ``DEFAULT_DENY``), whatever the controls say; for the approval-gated e-mail the pipeline's decision
keeps the rule's code with outcome REQUIRE_APPROVAL, and ``allowed`` is False because no approval
callback is configured.

Feeding it to our pipeline (``bench_pipeline.py``)::

    ks = kill_switch()
    for agent, reason in CONTROLS["kill_switch"]["killed_agents"].items():
        ks.kill(agent, reason)
    security = AgentSecurity(policy_bundle=POLICY, plugins=[
        ks, rate_limiter(**CONTROLS["rate_limiter"]), session_context(**CONTROLS["session_context"])])
    for i in range(WARMUP + TIMED):
        security.check_tool_call(**check_kwargs(REQUESTS[i % len(REQUESTS)]))
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Final

WARMUP: Final = 1_000
TIMED: Final = 20_000

DATA_PATH: Final = Path(__file__).resolve().parent / "data" / "workload.json"

ENVIRONMENTS: Final = ("dev", "staging", "prod")

# ------------------------------------------------------------------------------------------------
# The ten rules the request mix hits, with their position in the 100-rule list.
# ------------------------------------------------------------------------------------------------
_MEANINGFUL: Final[dict[int, dict[str, Any]]] = {
    3: {
        "id": "DENY_BULK_EXPORT",
        "description": "Block bulk export or data dump attempts from the customer database",
        "match": {"tool_name": "query_customer_db", "environment": "*"},
        "when": {"contains_any": ["all customers", "export", "dump", "select *", "bulk"]},
        "outcome": "DENY",
    },
    17: {
        "id": "DENY_DESTRUCTIVE_SHELL",
        "description": "Block destructive shell commands",
        "match": {"tool_name": "run_shell", "environment": "*"},
        "when": {"contains_any": ["rm -rf", "mkfs", "shutdown", "dd if="]},
        "outcome": "DENY",
    },
    38: {
        "id": "REQUIRE_APPROVAL_PAYMENT_PROD",
        "description": "Require approval for payment operations in production",
        "match": {"tool_name": "trigger_payment", "environment": "prod"},
        "outcome": "REQUIRE_APPROVAL",
        "approver_role": "finance_manager",
    },
    52: {
        "id": "REQUIRE_APPROVAL_EMAIL_PROD",
        "description": "Require approval for sending emails in production",
        "match": {"tool_name": "send_email", "environment": "prod"},
        "outcome": "REQUIRE_APPROVAL",
        "approver_role": "ops_manager",
    },
    66: {
        "id": "ALLOW_CUSTOMER_LOOKUP_PROD",
        "description": "Allow single-customer lookups in production",
        "match": {"tool_name": "query_customer_db", "environment": "prod"},
        "outcome": "ALLOW",
    },
    81: {
        "id": "ALLOW_SHELL_STAGING",
        "description": "Allow non-destructive shell commands in staging",
        "match": {"tool_name": "run_shell", "environment": "staging"},
        "outcome": "ALLOW",
    },
    88: {
        "id": "ALLOW_PAYMENT_STAGING",
        "description": "Allow test payments in staging",
        "match": {"tool_name": "trigger_payment", "environment": "staging"},
        "outcome": "ALLOW",
    },
    93: {
        "id": "ALLOW_READ_FILE",
        "description": "Allow reading files in every environment",
        "match": {"tool_name": "read_file", "environment": "*"},
        "outcome": "ALLOW",
    },
    96: {
        "id": "ALLOW_DEV",
        "description": "Allow all actions in dev",
        "match": {"tool_name": "*", "environment": "dev"},
        "outcome": "ALLOW",
    },
    99: {
        "id": "DENY_ADMIN_TOOLS",
        "description": "Admin tools are never called by agents",
        "match": {"tool_name": "admin_*", "environment": "*"},
        "outcome": "DENY",
    },
}

_FILLER_TOOLS: Final = ("crm", "billing", "ticket", "calendar", "storage", "analytics", "hr", "wiki", "vcs")
_FILLER_KEYWORDS: Final = (
    ("drop table", "truncate"),
    ("password", "secret", "token"),
    ("delete all", "purge"),
    ("ssn", "passport number"),
    ("wire transfer", "iban"),
)
_FILLER_OUTCOMES: Final = ("ALLOW", "DENY", "REQUIRE_APPROVAL", "ALLOW", "DENY")


def _filler_rule(k: int) -> dict[str, Any]:
    """The k-th filler rule (0-based): deterministic, never matched by the request mix."""
    family = _FILLER_TOOLS[k % len(_FILLER_TOOLS)]
    shape = k % 10
    env = "*" if k % 4 == 0 else ENVIRONMENTS[k % 3]
    tool_name: str | list[str]
    if shape == 7:
        tool_name = [f"{family}_list_{k:02d}", f"{family}_get_{k:02d}", f"{family}_count_{k:02d}"]
    elif shape == 9:
        tool_name = f"{family}_batch_{k:02d}_*"
    else:
        tool_name = f"{family}_op_{k:02d}"
    outcome = _FILLER_OUTCOMES[k % len(_FILLER_OUTCOMES)]
    rule: dict[str, Any] = {
        "id": f"FILLER_{k:02d}_{family.upper()}",
        "description": f"Filler rule {k} for the {family} tools",
        "match": {"tool_name": tool_name, "environment": env},
        "outcome": outcome,
    }
    if k % 3 == 1:
        rule["when"] = {"contains_any": list(_FILLER_KEYWORDS[k % len(_FILLER_KEYWORDS)])}
    if outcome == "REQUIRE_APPROVAL":
        rule["approver_role"] = "security"
    return rule


def _build_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    filler = 0
    for position in range(100):
        if position in _MEANINGFUL:
            rules.append(copy.deepcopy(_MEANINGFUL[position]))
        else:
            rules.append(_filler_rule(filler))
            filler += 1
    return rules


POLICY: Final[dict[str, Any]] = {
    "version": "bench-1.0.0",
    "generated_at": "2026-01-01T00:00:00Z",
    "expires_at": "2099-01-01T00:00:00Z",
    "rules": _build_rules(),
    "defaults": {"outcome": "DENY"},
}

# Runtime controls; the argument names are those of the built-in plugin factories
# (kill_switch(), rate_limiter(max_per_minute=, max_per_minute_per_tool=, window_s=),
# session_context(limits=, session_ttl_s=)).
CONTROLS: Final[dict[str, Any]] = {
    "kill_switch": {"killed_agents": {"agent-rogue": "Compromised credentials"}},
    "rate_limiter": {"max_per_minute": 1_000_000, "max_per_minute_per_tool": 0, "window_s": 60.0},
    "session_context": {"limits": {"trigger_payment": 2, "read_file": 1_000_000}, "session_ttl_s": 3600.0},
    "audit": {"hash_chained": True, "in_memory": True},
}

# The request mix, cycled in this order. ``expected`` = steady-state outcome after the warm-up.
REQUESTS: Final[list[dict[str, Any]]] = [
    {
        "id": "read-faq",
        "tool_name": "read_file",
        "tool_args": {"path": "/srv/docs/faq.md"},
        "agent_id": "agent-support",
        "environment": "prod",
        "session_id": "sess-support-1",
        "user_input": None,
        "policy_code": "ALLOW_READ_FILE",
        "expected": {"allowed": True, "code": "ALLOW_READ_FILE"},
    },
    {
        "id": "lookup-customer",
        "tool_name": "query_customer_db",
        "tool_args": {"query": "SELECT name, plan FROM customers WHERE id = 42", "limit": 1},
        "agent_id": "agent-analyst",
        "environment": "prod",
        "session_id": "sess-analyst-1",
        "user_input": "What plan is customer 42 on?",
        "policy_code": "ALLOW_CUSTOMER_LOOKUP_PROD",
        "expected": {"allowed": True, "code": "ALLOW_CUSTOMER_LOOKUP_PROD"},
    },
    {
        "id": "bulk-export",
        "tool_name": "query_customer_db",
        "tool_args": {"query": "SELECT * FROM customers", "format": "csv"},
        "agent_id": "agent-analyst",
        "environment": "prod",
        "session_id": "sess-analyst-1",
        "user_input": "Give me the whole customer table",
        "policy_code": "DENY_BULK_EXPORT",
        "expected": {"allowed": False, "code": "DENY_BULK_EXPORT"},
    },
    {
        "id": "email-prod",
        "tool_name": "send_email",
        "tool_args": {
            "to": "customer@example.com",
            "subject": "Your ticket #1234",
            "body": "Hello, your ticket has been resolved.",
        },
        "agent_id": "agent-support",
        "environment": "prod",
        "session_id": "sess-support-1",
        "user_input": None,
        # No approval callback is configured on either side: approval-required calls are not allowed.
        "policy_code": "REQUIRE_APPROVAL_EMAIL_PROD",
        "expected": {"allowed": False, "code": "REQUIRE_APPROVAL_EMAIL_PROD"},
    },
    {
        "id": "shell-destructive",
        "tool_name": "run_shell",
        "tool_args": {"cmd": "rm -rf /var/lib/app/cache", "cwd": "/"},
        "agent_id": "agent-ops",
        "environment": "staging",
        "session_id": "sess-ops-1",
        "user_input": None,
        "policy_code": "DENY_DESTRUCTIVE_SHELL",
        "expected": {"allowed": False, "code": "DENY_DESTRUCTIVE_SHELL"},
    },
    {
        "id": "shell-list",
        "tool_name": "run_shell",
        "tool_args": {"cmd": "ls -la /var/log", "cwd": "/"},
        "agent_id": "agent-ops",
        "environment": "staging",
        "session_id": "sess-ops-1",
        "user_input": None,
        "policy_code": "ALLOW_SHELL_STAGING",
        "expected": {"allowed": True, "code": "ALLOW_SHELL_STAGING"},
    },
    {
        "id": "deploy-unknown",
        "tool_name": "deploy_service",
        "tool_args": {"service": "billing", "version": "2.4.1", "replicas": 3},
        "agent_id": "agent-ops",
        "environment": "prod",
        "session_id": "sess-ops-1",
        "user_input": None,
        # No rule matches: all 100 rules are tested, then the default applies.
        "policy_code": "DEFAULT_DENY",
        "expected": {"allowed": False, "code": "DEFAULT_DENY"},
    },
    {
        "id": "payment-staging",
        "tool_name": "trigger_payment",
        "tool_args": {"amount": 120, "currency": "EUR", "payee": "ACME test"},
        "agent_id": "agent-finance",
        "environment": "staging",
        "session_id": "sess-finance-1",
        "user_input": None,
        # Allowed twice (ALLOW_PAYMENT_STAGING), then over the per-session limit of 2.
        "policy_code": "ALLOW_PAYMENT_STAGING",
        "expected": {"allowed": False, "code": "SESSION_LIMIT_EXCEEDED"},
    },
    {
        "id": "rogue-read",
        "tool_name": "read_file",
        "tool_args": {"path": "/etc/passwd"},
        "agent_id": "agent-rogue",
        "environment": "dev",
        "session_id": "sess-rogue-1",
        "user_input": None,
        "policy_code": "ALLOW_READ_FILE",
        "expected": {"allowed": False, "code": "AGENT_KILL_SWITCH"},
    },
    {
        "id": "search-dev",
        "tool_name": "search_docs",
        "tool_args": {"query": "reset password", "top_k": 5},
        "agent_id": "agent-support",
        "environment": "dev",
        "session_id": "sess-support-2",
        "user_input": "How do I reset my password?",
        "policy_code": "ALLOW_DEV",
        "expected": {"allowed": True, "code": "ALLOW_DEV"},
    },
]

WORKLOAD: Final[dict[str, Any]] = {
    "name": "pipeline-100-rules",
    "warmup": WARMUP,
    "timed": TIMED,
    "policy": POLICY,
    "controls": CONTROLS,
    "requests": REQUESTS,
}


def check_kwargs(request: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``AgentSecurity.check_tool_call`` for one request of the mix."""
    kwargs: dict[str, Any] = {
        "tool_name": request["tool_name"],
        "tool_args": copy.deepcopy(request["tool_args"]),
        "agent_id": request["agent_id"],
        "environment": request["environment"],
        "session_id": request["session_id"],
    }
    if request.get("user_input"):
        kwargs["user_input"] = request["user_input"]
    return kwargs


def to_json() -> str:
    """The workload as canonical JSON (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(WORKLOAD, indent=2, sort_keys=True) + "\n"


def write_json(path: str | Path = DATA_PATH) -> Path:
    """Write the workload JSON to ``path`` (default ``benchmarks/data/workload.json``); return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(to_json(), encoding="utf-8")
    return target


def _self_check() -> None:
    rules = POLICY["rules"]
    assert len(rules) == 100, len(rules)
    ids = [r["id"] for r in rules]
    assert len(set(ids)) == 100, "duplicate rule ids"
    assert len(REQUESTS) == 10


_self_check()

if __name__ == "__main__":
    print(write_json())
