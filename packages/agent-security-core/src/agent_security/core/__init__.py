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

TYPE_CHECKING = False  # the package imports nothing when it loads (see agent_security.core.lazy)
if TYPE_CHECKING:
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
    from agent_security.core.pipeline.facade import AgentSecurity
    from agent_security.core.plugins import PluginInfo
    from agent_security.core.resolution import Approval, Resolution, request_hash
    from agent_security.core.store import MemoryStore, Store

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

_LAZY: dict[str, str] = {
    # agent_security.core.hookspecs
    "HOOKSPEC_VERSION": "agent_security.core.hookspecs",
    "PROJECT_NAME": "agent_security.core.hookspecs",
    "hookimpl": "agent_security.core.hookspecs",
    "hookspec": "agent_security.core.hookspecs",
    # agent_security.core.clock
    "SYSTEM_CLOCK": "agent_security.core.clock",
    "Clock": "agent_security.core.clock",
    "SystemClock": "agent_security.core.clock",
    # agent_security.core.models
    "Action": "agent_security.core.models",
    "ActionRequest": "agent_security.core.models",
    "AgentInfo": "agent_security.core.models",
    "AuditEvent": "agent_security.core.models",
    "CheckResult": "agent_security.core.models",
    "Decision": "agent_security.core.models",
    "ExecutionResult": "agent_security.core.models",
    "Outcome": "agent_security.core.models",
    "PluginResult": "agent_security.core.models",
    "Reason": "agent_security.core.models",
    "RequestContext": "agent_security.core.models",
    "ResultCheck": "agent_security.core.models",
    "ToolIdentity": "agent_security.core.models",
    "TrustLevel": "agent_security.core.models",
    "restrictiveness": "agent_security.core.models",
    "trust_rank": "agent_security.core.models",
    # agent_security.core.pipeline.facade
    "AgentSecurity": "agent_security.core.pipeline.facade",
    # agent_security.core.errors
    "AgentSecurityError": "agent_security.core.errors",
    "AuditIntegrityError": "agent_security.core.errors",
    "AuditWriteError": "agent_security.core.errors",
    "ConfigFileError": "agent_security.core.errors",
    "ConfigurationError": "agent_security.core.errors",
    "PluginContractError": "agent_security.core.errors",
    "PluginError": "agent_security.core.errors",
    "PluginLoadError": "agent_security.core.errors",
    "PolicyError": "agent_security.core.errors",
    "PolicyLoadError": "agent_security.core.errors",
    "PolicyRollbackError": "agent_security.core.errors",
    "PolicySignatureError": "agent_security.core.errors",
    "RedactedToolError": "agent_security.core.errors",
    "SecurityError": "agent_security.core.errors",
    "StoreError": "agent_security.core.errors",
    "StoreFull": "agent_security.core.errors",
    "StoreUnavailable": "agent_security.core.errors",
    # agent_security.core.resolution
    "Approval": "agent_security.core.resolution",
    "Resolution": "agent_security.core.resolution",
    "request_hash": "agent_security.core.resolution",
    # agent_security.core.context
    "CheckContext": "agent_security.core.context",
    # agent_security.core.config
    "ConfigSection": "agent_security.core.config",
    "SectionModel": "agent_security.core.config",
    "Settings": "agent_security.core.config",
    # agent_security.core.host
    "Host": "agent_security.core.host",
    # agent_security.core.store
    "MemoryStore": "agent_security.core.store",
    "Store": "agent_security.core.store",
    # agent_security.core.plugins
    "PluginInfo": "agent_security.core.plugins",
}
"""Each public name and the module that defines it. Names resolve on first use (PEP 562), so that
``import agent_security.core`` costs nothing: a hook's client imports ``agent_security.core.launcher``
and must not pay for pydantic, pluggy or the policy engine when the daemon answers."""


from agent_security.core.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, distribution="agent-security-core")
