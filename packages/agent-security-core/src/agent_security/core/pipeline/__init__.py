"""The check pipeline, one room per job (see ``docs/architecture.md`` for the tree and a check's path):

============================  ===============================================================
``facade``                    ``AgentSecurity``: construction, the public methods, lifecycle
``runtime``                   what the modules share (plugins, store, clock, policy, trail)
``hooks``                     the one place that calls plugin hooks, typed per hook
``plugin_host``               the narrow :class:`~agent_security.core.host.Host` plugins get
``request``                   building and bounding the request from the caller's fields
``check``                     one check end to end: phases, audit events, the result
``phases``                    identify, before_check, evaluate, after_decision, notify
``resolve``                   approval-like outcomes become ALLOW or DENY
``results``                   the after-execution phase: a tool's output checked
``events``                    the one place that builds audit events
``protect``                   a function guarded before and after it runs
``drive``                     the sync and async drivers of the pipeline generator
``policy_source``             where the policy comes from and how it is replaced
``owned``                     the plugins every instance registers for itself
============================  ===============================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_security.core.pipeline.facade import AgentSecurity

__all__ = ["AgentSecurity"]


def __getattr__(name: str) -> Any:
    if name == "AgentSecurity":
        from agent_security.core.pipeline.facade import AgentSecurity

        return AgentSecurity
    raise AttributeError(f"module 'agent_security.core.pipeline' has no attribute {name!r}")
