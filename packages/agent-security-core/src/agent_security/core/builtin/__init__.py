"""The four built-in plugins: kill switch, rate limiter, session context and output validator.

Each is a plain class with ``@hookimpl`` methods, a ``name`` and ``fail_open = False``; build one with its
factory and pass it to ``AgentSecurity(plugins=[...])``. State lives in a core
:class:`~agent_security.core.store.Store` (the factory's ``store=``, else the ``AgentSecurity`` instance's
store; see :mod:`agent_security.core.builtin._base`). This package never imports the SDK.
"""

from __future__ import annotations

from agent_security.core.builtin.kill_switch import (
    KILL_SWITCH_CHANNEL,
    KillSwitch,
    KillSwitchState,
    kill_switch,
    load_state_file,
    save_state_file,
)
from agent_security.core.builtin.output_validator import OutputValidator, OutputViolation, output_validator
from agent_security.core.builtin.rate_limiter import RateLimiter, rate_limiter
from agent_security.core.builtin.session_context import SessionContext, session_context

__all__ = [
    "KILL_SWITCH_CHANNEL",
    "KillSwitch",
    "KillSwitchState",
    "OutputValidator",
    "OutputViolation",
    "RateLimiter",
    "SessionContext",
    "kill_switch",
    "load_state_file",
    "output_validator",
    "rate_limiter",
    "save_state_file",
    "session_context",
]
