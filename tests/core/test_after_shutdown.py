"""A shut-down instance refuses new plugins and policy reloads.

From the security review of the core pipeline: the banner above each group names the finding.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent_security.core import (
    AgentSecurity,
    Decision,
)
from agent_security.core.testing import StaticEngine


def _engine(decide: Any) -> StaticEngine:
    return StaticEngine(decide)


ALLOW = _engine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))


def _make(engine: StaticEngine = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, autoload=False, **kw)


# ------------------------------------------------------------------------------------------------
# F8 (low): after shutdown() the instance still accepted plugins and policy reloads (their audit
# events went nowhere: the trail was closed and the failure was swallowed).
# ------------------------------------------------------------------------------------------------


def test_shutdown_instance_refuses_register_and_reload() -> None:
    from agent_security.core.errors import ConfigurationError

    class Late:
        name = "late"

    security = _make()
    security.shutdown()
    with pytest.raises(ConfigurationError):
        security.register_plugin(Late())
    with pytest.raises(ConfigurationError):
        security.reload_policy('{"version": "1"}')
