"""``SupplyChainGuard``: the ``before_check`` plugin that applies command governance, MCP pinning and
tool provenance to every tool call.

What it inspects (fixing the original's W15/W16 gaps):

* **Shell and code execution**, recognised by what the call carries, whatever the tool is called: every
  argument at any depth, under any spelling or case of its name, that holds a command line, a script or
  code in a language a shell or interpreter runs (:mod:`.commands.calls`); a list is read as an argv. A
  shell-like call (``action.type`` ``shell``/``code_execute``/..., or a tool named ``bash``, ``shell``,
  ``run_command``, ``mcp__x__bash``...) without a readable command is blocked, not waved through.
* **MCP tools**, recognised by the ``mcp__<server>__<tool>`` name or ``tool_identity.provider == "mcp"``:
  checked against the pin lock (unpinned ⇒ ``UNVERIFIED_MCP_TOOL``; definition observed by the host
  differs from the pin, or a claimed manifest hash differs ⇒ ``MCP_TOOL_DRIFT``). A caller-supplied
  ``verified`` flag is never read.
* **Provenance**: a registered tool is verified against the manifest the host supplies
  (``manifest_provider``); a registered tool without a manifest to check is a failure, not a skip.

Reason codes: ``COMMAND_BLOCKED`` (DENY), ``COMMAND_APPROVAL_REQUIRED`` (REQUIRE_APPROVAL, resolved by
the pipeline's approval callback), ``PROVENANCE_FAILED``, ``UNVERIFIED_MCP_TOOL``, ``MCP_TOOL_DRIFT``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from agent_security.core import ActionRequest, CheckContext, Decision, Outcome, PluginResult, Reason, hookimpl
from agent_security.supply_chain.commands.calls import arg_key, commands_in_args, language_of_tool, runs_code
from agent_security.supply_chain.governor import CommandCheckResult, CommandGovernor

if TYPE_CHECKING:
    from agent_security.supply_chain.pinning import McpLock, ToolChange
    from agent_security.supply_chain.provenance import ToolProvenance

__all__ = [
    "CODE_ACTION_TYPES",
    "SHELL_ACTION_TYPES",
    "SHELL_TOOL_NAMES",
    "SupplyChainGuard",
    "parse_mcp_tool_name",
]

SHELL_ACTION_TYPES = frozenset({"shell", "code_execute", "command", "terminal", "exec", "bash"})
SHELL_TOOL_NAMES = frozenset(
    {
        "bash",
        "sh",
        "zsh",
        "shell",
        "run_shell",
        "shell_exec",
        "exec",
        "execute",
        "execute_command",
        "exec_command",
        "run_command",
        "run_cmd",
        "cmd",
        "command",
        "terminal",
        "run_terminal_cmd",
        "run_terminal_command",
        "terminal_exec",
        "local_shell",
        "powershell",
        "pwsh",
        "subprocess",
        "system",
        "run",
        "run_in_terminal",
        "shell_command",
        "execute_shell",
        "execute_bash",
        "bash_tool",
        "container_exec",
        "computer_bash",
    }
)
CODE_ACTION_TYPES = frozenset({"code_execute", "code", "execute_code", "run_code", "eval", "repl"})

ManifestProvider = Callable[[str], "str | bytes | Mapping[str, Any] | None"]
UnverifiedAction = Literal["deny", "require_approval", "allow"]


def parse_mcp_tool_name(tool_name: str) -> tuple[str, str] | None:
    """``("server", "tool")`` for ``mcp__server__tool`` (Claude Code's naming), else ``None``."""
    if not tool_name.startswith("mcp__"):
        return None
    rest = tool_name[5:]
    server, sep, tool = rest.partition("__")
    if not sep or not server or not tool:
        return None
    return server, tool


def _short_name(tool_name: str) -> str:
    """The tool name without host prefixes (``mcp__srv__bash``, ``srv.bash``, ``MCP:bash``: ``bash``)."""
    name = tool_name
    mcp = parse_mcp_tool_name(name)
    if mcp:
        name = mcp[1]
    for sep in (":", "/", "."):
        if sep in name:
            name = name.rsplit(sep, 1)[1]
    return name.strip().lower().replace("-", "_")


@functools.lru_cache(maxsize=4096)
def _tool_facts(
    action_type: str, tool_name: str, identity_name: str | None, shell_tool_names: frozenset[str]
) -> tuple[bool, str | None, bool]:
    """What a call's action type and tool names say: ``(shell_like, tool_language, code_runner)``."""
    names = [tool_name, *([identity_name] if identity_name is not None else [])]
    shell_like = action_type.lower() in SHELL_ACTION_TYPES or any(_short_name(n) in shell_tool_names for n in names)
    tool_language = next((lang for n in names if (lang := language_of_tool(_short_name(n)))), None)
    code_runner = (
        shell_like
        or action_type.lower() in CODE_ACTION_TYPES
        or tool_language is not None
        or any(runs_code(_short_name(n)) for n in names)
    )
    return shell_like, tool_language, code_runner


class SupplyChainGuard:
    """Before-check guard. Thread-safe; one instance per ``AgentSecurity``."""

    fail_open = False

    def __init__(
        self,
        *,
        governor: CommandGovernor | None = None,
        provenance: ToolProvenance | None = None,
        manifest_provider: ManifestProvider | None = None,
        lock: McpLock | None = None,
        block_unverified_mcp: bool = False,
        unverified_mcp_action: UnverifiedAction = "deny",
        shell_tool_names: Iterable[str] = (),
        command_arg_names: Iterable[str] = (),
        require_provenance: bool = False,
        name: str = "supply_chain_guard",
    ) -> None:
        if unverified_mcp_action not in ("deny", "require_approval", "allow"):
            raise ValueError("unverified_mcp_action must be deny, require_approval or allow")
        self.name = name
        self.governor = governor
        self.provenance = provenance
        self.manifest_provider = manifest_provider
        self.lock = lock
        self.block_unverified_mcp = block_unverified_mcp
        self.unverified_mcp_action: UnverifiedAction = unverified_mcp_action
        self.require_provenance = require_provenance
        self.shell_tool_names = SHELL_TOOL_NAMES | {n.lower() for n in shell_tool_names}
        self._extra_command_names = frozenset(arg_key(n) for n in command_arg_names)
        self._observed: dict[tuple[str, str], dict[str, Any]] = {}
        self._olock = threading.Lock()

    # ---- host-side facts ---------------------------------------------------------------------------
    def observe_tools(self, server: str, tools: Iterable[Any]) -> list[ToolChange]:
        """Record the tool definitions a host (or proxy) actually received from ``server`` (e.g. from
        ``tools/list``), so later calls are checked against what the model really saw. Returns the drift
        against the lock (empty when there is no lock or nothing drifted)."""
        from agent_security.supply_chain.scanner import normalize_tool

        changes: list[ToolChange] = []
        new: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in tools:
            t = normalize_tool(raw)
            new[(server, t.name)] = t.model_dump()
            if self.lock is not None:
                ch = self.lock.check_tool(server, t)
                if ch is not None:
                    changes.append(ch)
        with self._olock:
            for key in [k for k in self._observed if k[0] == server]:
                del self._observed[key]
            self._observed.update(new)
        return changes

    # ---- hook -------------------------------------------------------------------------------------
    @hookimpl
    def agent_security_before_check(self, request: ActionRequest, ctx: CheckContext) -> PluginResult | None:
        facts: dict[str, Any] = {}
        decision = self._check_command(request, facts)
        if decision is None:
            decision = self._check_mcp(request, facts)
        if decision is None:
            decision = self._check_provenance(request, facts)
        if facts:
            ctx.annotate(self.name, facts)
        if decision is None:
            return None
        return PluginResult(decision=decision, annotations=facts or None)

    # ---- commands ---------------------------------------------------------------------------------
    def _check_command(self, request: ActionRequest, facts: dict[str, Any]) -> Decision | None:
        if self.governor is None:
            return None
        action = request.action
        ident = action.tool_identity
        shell_like, tool_language, code_runner = _tool_facts(
            action.type, action.tool_name, ident.tool_name if ident is not None else None, self.shell_tool_names
        )
        commands, inert_code = commands_in_args(
            action.tool_args,
            code_runner=code_runner,
            extra_names=self._extra_command_names,
            tool_language=tool_language,
        )
        if not commands:
            if shell_like and not inert_code:
                facts["command"] = {"action": "block", "reason": "no command argument"}
                return self._deny(
                    "COMMAND_BLOCKED",
                    f"Shell tool {request.tool_name[:128]!r} called without a readable command "
                    "(looked for a command, script or code argument at any depth)",
                )
            return None
        worst: CommandCheckResult | None = None
        rank = {"allow": 0, "require_approval": 1, "block": 2}
        for cmd in commands:
            result = self.governor.check(cmd.text)
            if worst is None or rank[result.action] > rank[worst.action]:
                worst = result
        assert worst is not None
        facts["command"] = {**worst.summary(), "arguments": [c.where[:64] for c in commands[:8]]}
        if worst.action == "block":
            return self._deny("COMMAND_BLOCKED", worst.reason)
        if worst.action == "require_approval":
            return Decision(
                outcome=Outcome.REQUIRE_APPROVAL,
                reasons=(Reason(code="COMMAND_APPROVAL_REQUIRED", message=worst.reason),),
                plugin_source=self.name,
            )
        return None

    # ---- MCP --------------------------------------------------------------------------------------
    def _mcp_identity(self, request: ActionRequest) -> tuple[str | None, str] | None:
        parsed = parse_mcp_tool_name(request.action.tool_name)
        if parsed:
            return parsed
        ident = request.action.tool_identity
        if ident is not None and (ident.provider or "").lower() == "mcp":
            # the server is unknown from the name alone: a provider-qualified name "server/tool" or
            # "server.tool" is split; otherwise the tool must be pinned under exactly one server
            for sep in ("/", "."):
                if sep in ident.tool_name:
                    srv, _, tool = ident.tool_name.rpartition(sep)
                    return srv, tool
            return None, ident.tool_name
        return None

    def _check_mcp(self, request: ActionRequest, facts: dict[str, Any]) -> Decision | None:
        ident = self._mcp_identity(request)
        if ident is None:
            return None
        server, tool = ident
        facts["mcp"] = {"server": (server or "?")[:128], "tool": tool[:128]}
        if self.lock is None:
            if not self.block_unverified_mcp:
                facts["mcp"]["pinned"] = None
                return None
            if self.provenance is not None and self.provenance.has(tool):
                return None  # the provenance check below verifies it
            return self._unverified(f'MCP tool "{tool[:128]}" is not verified (no pin lock and no provenance record)')
        if server is None:
            servers = [s for s, e in self.lock.servers.items() if tool in e.get("tools", {})]
            if len(servers) != 1:
                why = "not pinned" if not servers else f"pinned under several servers ({len(servers)})"
                facts["mcp"]["pinned"] = False
                return self._unverified(f'MCP tool "{tool[:128]}" is {why}')
            server = servers[0]
        entry = self.lock.tool_entry(server, tool)
        if entry is None:
            facts["mcp"]["pinned"] = False
            return self._unverified(
                f'MCP tool "{tool[:128]}" of server "{server[:128]}" is not pinned in the lock file'
            )
        facts["mcp"]["pinned"] = True
        with self._olock:
            observed = self._observed.get((server, tool))
        if observed is not None:
            from agent_security.supply_chain.scanner import ScanInputError  # loaded with the lock

            try:
                change = self.lock.check_tool(server, observed)
            except ScanInputError as exc:
                return self._deny("MCP_TOOL_DRIFT", f"MCP tool definition cannot be checked: {exc}")
            if change is not None:
                facts["mcp"]["drift"] = list(change.fields)
                return self._deny(
                    "MCP_TOOL_DRIFT",
                    f'MCP tool "{tool[:128]}" of server "{server[:128]}" changed since it was pinned '
                    f"({', '.join(change.fields)})",
                )
        claimed = request.action.tool_identity.manifest_hash if request.action.tool_identity else None
        if claimed and claimed not in (entry.get("hash"), entry.get("content")):
            facts["mcp"]["drift"] = ["manifest_hash"]
            return self._deny(
                "MCP_TOOL_DRIFT",
                f'MCP tool "{tool[:128]}": the presented manifest hash differs from the pinned one',
            )
        return None

    def _unverified(self, message: str) -> Decision | None:
        if self.unverified_mcp_action == "allow":
            return None
        if self.unverified_mcp_action == "require_approval":
            return Decision(
                outcome=Outcome.REQUIRE_APPROVAL,
                reasons=(Reason(code="UNVERIFIED_MCP_TOOL", message=message),),
                plugin_source=self.name,
            )
        return self._deny("UNVERIFIED_MCP_TOOL", message)

    # ---- provenance -------------------------------------------------------------------------------
    def _check_provenance(self, request: ActionRequest, facts: dict[str, Any]) -> Decision | None:
        if self.provenance is None:
            return None
        tool = request.action.tool_name
        registered = self.provenance.has(tool)
        if not registered:
            mcp = parse_mcp_tool_name(tool)
            if mcp and self.provenance.has(mcp[1]):
                tool, registered = mcp[1], True
        if not registered:
            if self.require_provenance:
                facts["provenance"] = "unregistered"
                return self._deny("PROVENANCE_FAILED", f'Tool "{tool[:128]}" has no provenance record')
            return None
        manifest = self.manifest_provider(tool) if self.manifest_provider is not None else None
        if manifest is None:
            facts["provenance"] = "no-manifest"
            return self._deny(
                "PROVENANCE_FAILED",
                f'Tool "{tool[:128]}" is registered but no manifest is available to verify it',
            )
        result = self.provenance.verify(tool, manifest)
        claimed = request.action.tool_identity.manifest_hash if request.action.tool_identity else None
        if result.valid and claimed and claimed != result.expected_hash:
            facts["provenance"] = "claimed-hash-mismatch"
            return self._deny("PROVENANCE_FAILED", "Presented manifest hash differs from the registered one")
        facts["provenance"] = "verified" if result.valid else "mismatch"
        if not result.valid:
            return self._deny("PROVENANCE_FAILED", result.reason)
        return None

    def _deny(self, code: str, message: str) -> Decision:
        return Decision.deny(code, message, plugin_source=self.name)
