"""``agent-security guardian``: what the guardian knows about an agent, its incidents, and reviving it.

``status`` and ``revive`` work on the state store the checks use (``[core] store``, else the shared
SQLite file of the CLI), so they see and lift what every hook process and every instance sharing that
store decided. ``revive`` goes through an ``AgentSecurity`` built from the configuration, so the revival
is in the audit trail (``kill_switch.revive``). ``incidents`` reads them from an audit trail file.

Exit codes: 0 success, 1 usage or input error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from agent_security.core.errors import AgentSecurityError

__all__ = ["guardian"]


def _config_path(ctx: click.Context) -> Any:
    root = ctx.find_root().obj or {}
    return root.get("config") if isinstance(root, dict) else None


def _security(ctx: click.Context) -> Any:
    """An ``AgentSecurity`` from the configuration, on the CLI's store (its guardian and kill switch)."""
    from agent_security.core import AgentSecurity
    from agent_security.core.config import load_settings
    from agent_security.core.store import default_store_url, open_store

    try:
        core = load_settings(_config_path(ctx)).core
        store = open_store(core.store or default_store_url(), namespace=core.store_namespace)
        return AgentSecurity(config_path=_config_path(ctx), store=store)
    except (AgentSecurityError, OSError, ValueError) as exc:
        raise click.ClickException(f"the configuration or the state store cannot be opened: {exc}") from exc


def _guardian(security: Any) -> Any:
    guardian = security.get_plugin("guardian-agent")
    if guardian is None:
        security.shutdown()
        raise click.ClickException("no guardian is configured: add a [guardian] section to the config file")
    return guardian


@click.group("guardian")
def guardian() -> None:
    """Anomaly detection, incidents and auto-kill (agent-security-guardian)."""


@guardian.command("status")
@click.argument("agent_id")
@click.pass_context
def status(ctx: click.Context, agent_id: str) -> None:
    """What the shared store holds about AGENT_ID: incidents counted, kill, review, known tools."""
    from agent_security.core.normalize import canonical_agent_id
    from agent_security.guardian.state import key, state_key

    security = _security(ctx)
    try:
        g = _guardian(security)
        agent = canonical_agent_id(agent_id)
        store = security.store
        state = store.get(state_key(agent))
        out = {
            "agent_id": agent,
            "mode": g.mode,
            "incidents_counted": int(store.get(key("violations", agent)) or 0),
            "auto_kill_threshold": g.config.auto_kill_threshold,
            "killed": g.is_killed(agent),
            "under_review": g.under_review(agent),
            "known_tools": sorted(state.get("tools", {})) if isinstance(state, dict) else [],
        }
    finally:
        security.shutdown()
    click.echo(json.dumps(out, indent=2))


@guardian.command("revive")
@click.argument("agent_id")
@click.pass_context
def revive(ctx: click.Context, agent_id: str) -> None:
    """Lift the guardian's kill (or review) of AGENT_ID and restart its incident count (audited)."""
    security = _security(ctx)
    try:
        _guardian(security).revive(agent_id)
    finally:
        security.shutdown()
    click.echo(f"revived {agent_id}")


@guardian.command("incidents")
@click.option("--trail", "trail", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="An audit trail file (JSON Lines).")  # fmt: skip
@click.option("--agent", "agent_id", default=None, help="Only this agent's incidents.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per incident.")
def incidents(trail: Path, agent_id: str | None, as_json: bool) -> None:
    """The guardian's incidents in an audit trail, oldest first."""
    from agent_security.core.audit import read_jsonl_lines
    from agent_security.core.normalize import canonical_agent_id

    agent = canonical_agent_id(agent_id) if agent_id else None
    try:
        for _, raw in read_jsonl_lines(trail):
            if raw is None or b'"guardian.incident"' not in raw:
                continue
            event = json.loads(raw)
            if event.get("kind") != "guardian.incident" or (agent is not None and event.get("agent_id") != agent):
                continue
            data = event.get("data") or {}
            if as_json:
                click.echo(json.dumps({"timestamp": event.get("timestamp"), "agent_id": event.get("agent_id"), **data}))
            else:
                click.echo(
                    f"{event.get('timestamp', '')}  {event.get('agent_id', ''):16} {data.get('type', ''):20} "
                    f"{data.get('severity', ''):8} {data.get('action_taken', ''):10} {data.get('description', '')}"
                )
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"the trail cannot be read: {exc}") from exc
