"""Which of the upstream server's tools the proxy serves: scanned, pinned, checked for drift, filtered by
policy. Pure logic over tool definitions (dicts in MCP's wire shape); no MCP SDK import.

A tool is *withheld* (not listed, its calls refused with the reason) when:

* its scan reaches ``hide_at_risk`` (``MCP_TOOL_UNSAFE``), using agent-security-supply-chain's
  :class:`~agent_security.supply_chain.McpScanner`;
* its definition differs from its pin and ``on_drift = "refuse"`` (``MCP_TOOL_DRIFT``): the canonical hashes
  of :class:`~agent_security.supply_chain.McpLock` (every field a model reads; renames recognised);
* the policy denies a call to it outright (``POLICY_DENIED``; only for listing: every call is checked anyway);
* its inputSchema cannot be used to validate arguments (``MCP_TOOL_SCHEMA``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_security.adapters.mcp_proxy.config import McpProxyConfig
from agent_security.adapters.mcp_proxy.schema import ArgumentValidator, SchemaError
from agent_security.supply_chain import LockFileError, McpLock, McpScanner, ScanInputError, tool_hash

__all__ = ["Gate", "GateView", "Withheld", "proxied_tool_name"]

_LEVELS = ("info", "low", "medium", "high", "critical")


def proxied_tool_name(server: str, tool: str) -> str:
    """The tool's name in every check: ``mcp__<server>__<tool>``, as Claude Code names MCP tools."""
    return f"mcp__{server}__{tool}"


@dataclass(frozen=True)
class Withheld:
    code: str
    message: str


@dataclass(frozen=True)
class GateView:
    """One listing's verdicts: the tools served (definition, validator) and the tools withheld (why)."""

    served: dict[str, tuple[dict[str, Any], ArgumentValidator]] = field(default_factory=dict)
    withheld: dict[str, Withheld] = field(default_factory=dict)
    drift: tuple[str, ...] = ()
    """Descriptions of every drift seen (served in flag mode, withheld in refuse mode)."""


class Gate:
    """Scan, pin, drift and policy verdicts for one upstream server. Thread-safe."""

    def __init__(
        self,
        server: str,
        config: McpProxyConfig,
        *,
        base_dir: Path | None = None,
        policy_denies: Callable[[str], str | None] | None = None,
    ) -> None:
        self.server = server
        self.config = config
        self.scanner = McpScanner()
        self.policy_denies = policy_denies
        self._lock_path: Path | None = None
        if config.lock_file:
            p = Path(config.lock_file).expanduser()
            self._lock_path = base_dir / p if base_dir is not None and not p.is_absolute() else p
        self.lock = McpLock()
        self._mutex = threading.Lock()

    def start(self, tools: Sequence[Mapping[str, Any]]) -> GateView:
        """First listing: load the lock file (or pin in memory), then judge."""
        with self._mutex:
            if self._lock_path is not None and self._lock_path.exists():
                self.lock = McpLock.load(self._lock_path)
            first_use = self._lock_path is None or self.config.pin_on_first_use
            if self.server not in self.lock.servers and first_use:
                # pin what passes the scan (trust on first use); an unsafe or duplicated tool is never pinned
                names = [t.get("name") for t in tools]
                pinnable = [t for t in tools if names.count(t.get("name")) == 1 and self._scan_level(t) is None]
                self.lock.pin(self.server, pinnable)
                if self._lock_path is not None:
                    self.lock.save(self._lock_path)
        return self.judge(tools)

    def judge(self, tools: Sequence[Mapping[str, Any]]) -> GateView:
        """The verdicts on one listing of the server's tools."""
        if len(tools) > self.config.max_tools:
            raise ScanInputError(f"the server lists {len(tools)} tools; the limit is {self.config.max_tools}")
        names = [t.get("name") for t in tools]
        served: dict[str, tuple[dict[str, Any], ArgumentValidator]] = {}
        withheld: dict[str, Withheld] = {}
        drift: list[str] = []
        report = self.lock.verify(self.server, tools)
        changed = {c.tool: c for c in report.changes if c.tool is not None and c.kind != "removed"}
        for raw in tools:
            name = raw.get("name")
            if not isinstance(name, str) or not name:
                continue
            if names.count(name) > 1:
                withheld[name] = Withheld("MCP_TOOL_DRIFT", f'MCP tool "{name[:128]}" is defined more than once')
                continue
            verdict = self._judge_one(raw, changed.get(name), drift)
            if isinstance(verdict, Withheld):
                withheld[name] = verdict
            else:
                served[name] = (dict(raw), verdict)
        return GateView(served=served, withheld=withheld, drift=tuple(drift))

    def _judge_one(self, raw: Mapping[str, Any], change: Any, drift: list[str]) -> Withheld | ArgumentValidator:
        name = str(raw["name"])
        level = self._scan_level(raw)
        if level is not None:
            return Withheld("MCP_TOOL_UNSAFE", f'MCP tool "{name[:128]}" failed the supply-chain scan ({level})')
        if change is not None:
            what = change.describe()
            drift.append(what)
            if self.config.on_drift == "refuse":
                return Withheld("MCP_TOOL_DRIFT", f"MCP tool definition drifted from its pin: {what}")
        try:
            validator = ArgumentValidator(raw.get("inputSchema"), max_schema_bytes=self.config.max_schema_bytes)
        except SchemaError as exc:
            return Withheld("MCP_TOOL_SCHEMA", f'MCP tool "{name[:128]}": {exc}')
        if self.config.list_policy_filter and self.policy_denies is not None:
            why = self.policy_denies(proxied_tool_name(self.server, name))
            if why is not None:
                return Withheld("POLICY_DENIED", why)
        return validator

    def _scan_level(self, raw: Mapping[str, Any]) -> str | None:
        """The worst finding's level when it reaches ``hide_at_risk``, else ``None``."""
        if self.config.hide_at_risk == "never":
            return None
        try:
            report = self.scanner.scan({"name": self.server, "tools": [dict(raw)]})
        except ScanInputError as exc:
            return f"unscannable: {exc}"
        floor = _LEVELS.index(self.config.hide_at_risk)
        ignored = set(self.config.scan_ignore_kinds)
        worst = max((_LEVELS.index(f.level) for f in report.findings if f.kind not in ignored), default=-1)
        return _LEVELS[worst] if worst >= floor else None

    def manifest_hash(self, raw: Mapping[str, Any]) -> str | None:
        try:
            return tool_hash(dict(raw))
        except (ScanInputError, LockFileError):
            return None


def dumps_bounded(value: Any, limit: int) -> str | None:
    """``value`` as JSON, or ``None`` when it is larger than ``limit`` bytes or not JSON."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None
    return text if len(text.encode("utf-8", "surrogatepass")) <= limit else None
