"""agent-security core: the check pipeline, the policy engine, the plugin system and the audit trail.

Typical use::

    from agent_security.core import AgentSecurity, kill_switch, rate_limiter

    ks = kill_switch()
    security = AgentSecurity(policy_path="policy.yaml", plugins=[ks, rate_limiter(max_per_minute=60)])
    result = security.check_tool_call(tool_name="send_email", tool_args={"to": "a@b.c"},
                                      agent_id="mailer", environment="prod")
    if result.allowed:
        ...
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any

from agent_security.core.clock import SYSTEM_CLOCK, Clock, SystemClock
from agent_security.core.config import ConfigSection, SectionModel, Settings
from agent_security.core.context import CheckContext
from agent_security.core.errors import (
    AgentSecurityError,
    AuditIntegrityError,
    AuditWriteError,
    ConfigFileError,
    ConfigurationError,
    PluginContractError,
    PluginError,
    PluginLoadError,
    PolicyError,
    PolicyLoadError,
    PolicyRollbackError,
    PolicySignatureError,
    RedactedToolError,
    SecurityError,
    StoreError,
    StoreFull,
    StoreUnavailable,
)
from agent_security.core.hookspecs import HOOKSPEC_VERSION, PROJECT_NAME, hookimpl, hookspec
from agent_security.core.host import Host
from agent_security.core.models import (
    Action,
    ActionRequest,
    AgentInfo,
    AuditEvent,
    CheckResult,
    Decision,
    ExecutionResult,
    Outcome,
    PluginResult,
    Reason,
    RequestContext,
    ResultCheck,
    ToolIdentity,
    TrustLevel,
    restrictiveness,
    trust_rank,
)
from agent_security.core.plugins import PluginInfo
from agent_security.core.resolution import Approval, Resolution, request_hash
from agent_security.core.store import MemoryStore, Store

if TYPE_CHECKING:
    from agent_security.core.pipeline.facade import AgentSecurity

__version__ = metadata.version("agent-security-core")

__all__ = [
    "HOOKSPEC_VERSION",
    "PROJECT_NAME",
    "SYSTEM_CLOCK",
    "Action",
    "ActionRequest",
    "AgentInfo",
    "AgentSecurity",
    "AgentSecurityError",
    "Approval",
    "AuditEvent",
    "AuditIntegrityError",
    "AuditWriteError",
    "CheckContext",
    "CheckResult",
    "Clock",
    "ConfigFileError",
    "ConfigSection",
    "ConfigurationError",
    "Decision",
    "ExecutionResult",
    "Host",
    "MemoryStore",
    "Outcome",
    "PluginContractError",
    "PluginError",
    "PluginInfo",
    "PluginLoadError",
    "PluginResult",
    "PolicyError",
    "PolicyLoadError",
    "PolicyRollbackError",
    "PolicySignatureError",
    "Reason",
    "RedactedToolError",
    "RequestContext",
    "Resolution",
    "ResultCheck",
    "SectionModel",
    "SecurityError",
    "Settings",
    "Store",
    "StoreError",
    "StoreFull",
    "StoreUnavailable",
    "SystemClock",
    "ToolIdentity",
    "TrustLevel",
    "__version__",
    "hookimpl",
    "hookspec",
    "request_hash",
    "restrictiveness",
    "trust_rank",
]


def __getattr__(name: str) -> Any:
    # The SDK imports the policy engine and the built-in plugins; load it on first use so that
    # ``import agent_security.core`` stays cheap for plugins that only need the contract.
    if name == "AgentSecurity":
        from agent_security.core.pipeline.facade import AgentSecurity

        return AgentSecurity
    raise AttributeError(f"module 'agent_security.core' has no attribute {name!r}")
