"""A check leaves nothing for the cycle collector: every object it makes is freed by its last reference.

Cyclic garbage is what fills CPython's youngest generation and triggers the collections that pause a
check (a collection of the young generation took ~100 µs, once every ~80 checks, before this held). Run on
the core alone and on a default install with every distribution autoloaded, over calls that are allowed,
denied by the policy, by a guard and by the kill switch, gated for approval, carrying shell commands,
e-mail addresses and nested arguments.
"""

from __future__ import annotations

import gc
from collections import Counter
from pathlib import Path

import pytest

from agent_security.core import AgentSecurity
from agent_security.core.builtin import kill_switch, rate_limiter, session_context

POLICY = Path(__file__).resolve().parents[2] / "examples" / "policies" / "default-policy.json"

CALLS = [
    {
        "tool_name": "read_file",
        "tool_args": {"path": "/srv/docs/faq.md"},
        "agent_id": "agent-a",
        "environment": "staging",
        "session_id": "s1",
    },
    {
        "tool_name": "send_email",
        "tool_args": {"to": "someone@example.com", "subject": "hi", "body": "see you"},
        "agent_id": "agent-a",
        "environment": "prod",
        "session_id": "s1",
    },
    {"tool_name": "run_shell", "tool_args": {"cmd": "rm -rf /var/lib/app", "cwd": "/"}, "agent_id": "agent-b"},
    {
        "tool_name": "run_shell",
        "tool_args": {"cmd": "ls -la /var/log"},
        "agent_id": "agent-b",
        "environment": "staging",
        "action_type": "shell",
    },
    {
        "tool_name": "query_db",
        "tool_args": {"query": "SELECT 1", "options": {"limit": 5, "tags": ["a", "b"], "ratio": 0.5}},
        "agent_id": "agent-c",
        "environment": "dev",
        "user_input": "how many?",
    },
    {"tool_name": "read_file", "tool_args": {"path": "/etc/passwd"}, "agent_id": "agent-killed"},
]


def _security(*, autoload: bool) -> AgentSecurity:
    ks = kill_switch()
    security = AgentSecurity(
        policy_path=str(POLICY),
        autoload=autoload,
        plugins=[ks, rate_limiter(max_per_minute=100_000), session_context({"read_file": 100_000})],
    )
    ks.kill("agent-killed", "test")
    return security


@pytest.mark.parametrize("autoload", [False, True], ids=["core", "default-install"])
def test_checks_leave_no_cyclic_garbage(autoload: bool) -> None:
    security = _security(autoload=autoload)
    for _ in range(3):  # what is built once, on first use (patterns, deferred validators), is built here
        for call in CALLS:
            security.check_tool_call(**call)
    gc.collect()  # frees what building the instance and the first calls left
    gc.set_debug(gc.DEBUG_SAVEALL)  # from here, what the collector finds is kept in gc.garbage
    try:
        outcomes = set()
        for _ in range(20):
            for call in CALLS:
                outcomes.add(security.check_tool_call(**call).allowed)
        gc.collect()
        found = Counter(type(o).__name__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()
    security.shutdown()
    assert outcomes == {True, False}
    assert not found, f"cyclic garbage left by checks: {found.most_common(8)}"
