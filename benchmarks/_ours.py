"""Our side of the shared workload (``_workload.py``), built through the public API only.

``AgentSecurity``, ``check_tool_call`` and the built-in plugin factories: nothing here reaches into
the pipeline's internals, so the budget benchmarks keep measuring whatever the pipeline becomes.

* :func:`build_core`: the core-only full check of issue 15's budget: the 100-rule policy, kill switch,
  rate limiter, session context and the hash-chained in-memory audit trail, plugins autoload off;
* :func:`build_default`: a default install's check: the same policy and controls, with every installed
  distribution autoloaded (egress, supply chain, ...), as ``AgentSecurity()`` does;
* :func:`requests`: the keyword arguments of the request mix, optionally with agent and session ids
  tagged (``agent-ops@t3``) so that threads or runs sharing one instance do not share limits;
* :func:`check_steady_state`: one cycle of the mix must decide as the workload expects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import _workload

from agent_security.core import AgentSecurity
from agent_security.core.builtin import kill_switch, rate_limiter, session_context

AUDIT_CONFIG: dict[str, Any] = {"core": {"audit": {"memory_size": 10_000}}}


def tagged(agent_or_session: str, tag: str | None) -> str:
    return agent_or_session if tag is None else f"{agent_or_session}@{tag}"


def _build(*, autoload: bool, tags: Iterable[str | None]) -> AgentSecurity:
    controls = _workload.CONTROLS
    ks = kill_switch()
    security = AgentSecurity(
        policy_bundle=_workload.POLICY,
        autoload=autoload,
        plugins=[ks, rate_limiter(**controls["rate_limiter"]), session_context(**controls["session_context"])],
        config=AUDIT_CONFIG,
    )
    for tag in tags:
        for agent, reason in controls["kill_switch"]["killed_agents"].items():
            ks.kill(tagged(agent, tag), reason)
    return security


def build_core(tags: Iterable[str | None] = (None,)) -> AgentSecurity:
    """The core-only full check (autoload off); the killed agent is killed under every tag."""
    return _build(autoload=False, tags=tags)


def build_default(tags: Iterable[str | None] = (None,)) -> AgentSecurity:
    """The same check with every installed distribution autoloaded (a default install)."""
    return _build(autoload=True, tags=tags)


def requests(tag: str | None = None) -> list[dict[str, Any]]:
    """``check_tool_call`` keyword arguments of the ten requests, agent and session ids tagged."""
    out = []
    for req in _workload.REQUESTS:
        kwargs = _workload.check_kwargs(req)
        kwargs["agent_id"] = tagged(kwargs["agent_id"], tag)
        kwargs["session_id"] = tagged(kwargs["session_id"], tag)
        out.append(kwargs)
    return out


def check_steady_state(security: AgentSecurity, kwargs_list: list[dict[str, Any]], *, codes: bool = True) -> None:
    """Run the mix until the session limit is used up, then one more cycle that must decide as
    expected (allowed or not, and with ``codes`` the deciding code too). Raises ``SystemExit``."""
    for _ in range(3):
        for kwargs in kwargs_list:
            security.check_tool_call(**kwargs)
    for req, kwargs in zip(_workload.REQUESTS, kwargs_list, strict=True):
        result = security.check_tool_call(**kwargs)
        exp = req["expected"]
        if result.allowed is not exp["allowed"] or (codes and exp["code"] not in result.final_decision.codes):
            raise SystemExit(f"unexpected decision for {req['id']}: {result.final_decision} (expected {exp})")
