"""``agent-security identity``: manage the registries, issue and verify tokens, run the demo.

The registries live in the state store the checks use (``[core] store``, else the shared SQLite file
of the CLI), so an agent registered here is registered for every hook call and every process sharing
that store. ``verify`` reads the issuers of the ``[identity]`` section.

Exit codes: 0 success (``verify``: the token is valid), 1 usage or input error, 2 ``verify``: the
token is refused.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from agent_security.core.errors import AgentSecurityError
from agent_security.identity.config import IdentityConfig

__all__ = ["identity"]


def _config(ctx: click.Context) -> tuple[Any, IdentityConfig]:
    from agent_security.core.config import load_settings

    root = ctx.find_root().obj or {}
    try:
        settings = load_settings(root.get("config") if isinstance(root, dict) else None)
        cfg = IdentityConfig.model_validate(settings.raw.get("identity") or {})
    except (AgentSecurityError, OSError, ValueError) as exc:
        raise click.ClickException(f"the configuration cannot be read: {exc}") from exc
    return settings, cfg


def _store(ctx: click.Context) -> Any:
    from agent_security.core.store import default_store_url, open_store

    settings, _ = _config(ctx)
    try:
        return open_store(settings.core.store or default_store_url(), namespace=settings.core.store_namespace)
    except (AgentSecurityError, OSError, ValueError) as exc:
        raise click.ClickException(f"the state store cannot be opened: {exc}") from exc


def _registries(ctx: click.Context) -> tuple[Any, Any]:
    from agent_security.identity.registry import AgentRegistry
    from agent_security.identity.tools import ToolRegistry

    store = _store(ctx)
    return AgentRegistry(store=store, refresh_s=0), ToolRegistry(store=store, refresh_s=0)


@click.group("identity")
def identity() -> None:
    """Agent and tool registries, attestations and delegation tokens (agent-security-identity)."""


@identity.command("register")
@click.argument("name", required=False)
@click.option("--tool", "is_tool", is_flag=True, help="NAME is a tool, not an agent.")
@click.option("--file", "files", multiple=True, type=click.Path(dir_okay=False), help="A registry file (YAML/JSON).")
@click.option("--mcp-lock", "locks", multiple=True, type=click.Path(dir_okay=False), help="An MCP pin file.")
@click.option("--trust", type=click.Choice(["untrusted", "basic", "verified", "privileged", "system"]))
@click.option("--role", "roles", multiple=True)
@click.option("--type", "agent_type")
@click.option("--owner")
@click.option("--env", "environment")
@click.option("--capability", "capabilities", multiple=True)
@click.option("--permission", "permissions", multiple=True, help="Agent: held; tool: required.")
@click.option("--max-delegation-depth", type=click.IntRange(0, 16))
@click.option(
    "--public-key", "public_keys", multiple=True, help="KID=PEMFILE: a key this agent signs delegations with."
)
@click.option("--version", "version")
@click.option("--provider")
@click.option("--manifest-hash")
@click.pass_context
def register(ctx: click.Context, /, **opts: Any) -> None:
    """Register an agent (or a tool with --tool), or everything in registry files and MCP pin files."""
    name: str | None = opts["name"]
    is_tool: bool = opts["is_tool"]
    files: tuple[str, ...] = opts["files"]
    locks: tuple[str, ...] = opts["locks"]
    from agent_security.identity.attestation import load_public_key, public_key_pem

    agents, tools = _registries(ctx)
    try:
        for path in files:
            n_agents, n_tools = agents.load(path), tools.load(path)
            click.echo(f"{path}: {n_agents} agent(s), {n_tools} tool(s) registered")
        for path in locks:
            click.echo(f"{path}: {tools.register_mcp_lock(path)} MCP tool(s) registered")
        if name is None:
            if not files and not locks:
                raise click.UsageError("give a NAME, --file or --mcp-lock")
            return
        if is_tool:
            record = tools.register(
                tool_name=name,
                version=opts["version"],
                provider=opts["provider"],
                manifest_hash=opts["manifest_hash"],
                permissions_required=opts["permissions"],
            )
            click.echo(f'tool "{record.tool_name}" registered')
            return
        keys = {}
        for item in opts["public_keys"]:
            kid, _, path = item.partition("=")
            if not kid or not path:
                raise click.UsageError("--public-key takes KID=PEMFILE")
            keys[kid] = public_key_pem(load_public_key(path))
        fields = {
            "agent_id": name,
            "trust_level": opts["trust"] or "basic",
            "roles": opts["roles"],
            "agent_type": opts["agent_type"],
            "owner": opts["owner"],
            "environment": opts["environment"],
            "capabilities": opts["capabilities"],
            "permissions": opts["permissions"],
            "max_delegation_depth": opts["max_delegation_depth"],
            "public_keys": keys,
        }
        record = agents.register(**fields)
        click.echo(f'agent "{record.agent_id}" registered ({record.trust_level.value})')
    except (AgentSecurityError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


@identity.command("list")
@click.option("--tools", "show_tools", is_flag=True, help="List tools instead of agents.")
@click.option("--revoked", is_flag=True, help="Include revoked entries.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--save", type=click.Path(dir_okay=False), help="Write agents and tools to a registry file.")
@click.pass_context
def list_(ctx: click.Context, show_tools: bool, revoked: bool, as_json: bool, save: str | None) -> None:
    """List registered agents (or tools)."""
    from agent_security.identity._documents import write_document

    agents, tools = _registries(ctx)
    if save:
        write_document(save, agents.document() | {"tools": tools.document()["tools"]})
        click.echo(f"wrote {save}")
        return
    records = (tools if show_tools else agents).list(include_revoked=revoked)
    if as_json:
        click.echo(json.dumps([r.document() for r in records], indent=2))
        return
    for r in records:
        mark = " (revoked)" if r.revoked else ""
        if show_tools:
            click.echo(f"{r.tool_name}  version={r.version or '-'} provider={r.provider or '-'}{mark}")
        else:
            roles = ",".join(r.roles) or "-"
            click.echo(f"{r.agent_id}  trust={r.trust_level.value} type={r.agent_type or '-'} roles={roles}{mark}")


@identity.command("revoke")
@click.argument("name", required=False)
@click.option("--tool", "is_tool", is_flag=True)
@click.option("--jti", help="Revoke a token by its jti instead.")
@click.option("--exp", type=float, help="The revoked token's expiry (epoch seconds), to forget it afterwards.")
@click.option("--reason", default="")
@click.pass_context
def revoke(
    ctx: click.Context, name: str | None, is_tool: bool, jti: str | None, exp: float | None, reason: str
) -> None:
    """Revoke an agent, a tool (--tool) or a token (--jti). Revoking an agent is permanent."""
    if jti:
        from agent_security.identity.attestation import JtiRevocations

        JtiRevocations(store=_store(ctx), refresh_s=0).revoke(jti, exp=exp, reason=reason, now=time.time())
        click.echo(f"token {jti} revoked")
        return
    if not name:
        raise click.UsageError("give a NAME or --jti")
    agents, tools = _registries(ctx)
    found = (tools if is_tool else agents).revoke(name, reason)
    if not found:
        raise click.ClickException(f"{'tool' if is_tool else 'agent'} {name!r} is not registered")
    click.echo(f"{'tool' if is_tool else 'agent'} {name!r} revoked")


@identity.command("keygen")
@click.argument("private_key", type=click.Path(dir_okay=False))
def keygen(private_key: str) -> None:
    """Write a new Ed25519 private key (PEM) to PRIVATE_KEY and its public key next to it (.pub.pem)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from agent_security.identity.attestation import public_key_pem

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = Path(private_key)
    if path.exists():
        raise click.ClickException(f"{path} exists; not overwritten")
    path.write_bytes(pem)
    path.chmod(0o600)
    pub = path.with_suffix(".pub.pem")
    pub.write_text(public_key_pem(key))
    click.echo(f"wrote {path} and {pub}")


@identity.command("issue")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False), help="Ed25519 private key (PEM).")
@click.option("--issuer", help="The iss claim (default: the delegator for --delegate-to).")
@click.option("--kid", help="The key id of --key among the issuer's keys.")
@click.option("--agent", "agent_id", required=True, help="The attested agent, or the delegator with --delegate-to.")
@click.option("--delegate-to", help="Issue a delegation hop from --agent to this agent.")
@click.option("--scope", multiple=True, help="Tool name globs the delegation covers (default: *).")
@click.option("--ttl", type=click.FloatRange(1, 366 * 86400), default=3600.0, show_default=True)
@click.option("--audience", default=None, help="Default: the [identity] audience.")
@click.option("--trust", type=click.Choice(["untrusted", "basic", "verified", "privileged", "system"]))
@click.pass_context
def issue(
    ctx: click.Context,
    key_path: str,
    issuer: str | None,
    kid: str | None,
    agent_id: str,
    delegate_to: str | None,
    scope: tuple[str, ...],
    ttl: float,
    audience: str | None,
    trust: str | None,
) -> None:
    """Print a signed attestation (or, with --delegate-to, a delegation hop)."""
    from agent_security.identity.attestation import issue_attestation, load_private_key
    from agent_security.identity.delegation import issue_delegation

    _, cfg = _config(ctx)
    try:
        key = load_private_key(key_path)
        if delegate_to:
            token = issue_delegation(
                key, delegator=agent_id, delegate=delegate_to, scope=scope or ("*",), now=time.time(), ttl_s=ttl,
                issuer=issuer, audience=audience or cfg.audience, kid=kid,
            )  # fmt: skip
        else:
            if not issuer:
                raise click.UsageError("--issuer is required for an attestation")
            token = issue_attestation(
                key, issuer=issuer, agent_id=agent_id, now=time.time(), ttl_s=ttl,
                audience=audience or cfg.audience, kid=kid, trust=trust,
            )  # fmt: skip
    except (AgentSecurityError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token)


@identity.command("verify")
@click.argument("token", required=False)
@click.option("--agent", "agent_id", help="The agent the attestation must be for (default: its subject).")
@click.pass_context
def verify(ctx: click.Context, token: str | None, agent_id: str | None) -> None:
    """Verify an attestation (TOKEN, or stdin) against the configured issuers. Exit 0 valid, 2 refused."""
    import jwt

    from agent_security.identity.attestation import JtiRevocations, TokenVerifier
    from agent_security.identity.errors import TokenError
    from agent_security.identity.plugin import build_issuer

    _, cfg = _config(ctx)
    text = (token or sys.stdin.read(16384)).strip()
    try:
        subject = agent_id or str(jwt.decode(text, options={"verify_signature": False}).get("sub", ""))
    except jwt.PyJWTError:
        subject = agent_id or ""
    verifier = TokenVerifier(
        issuers=[build_issuer(i) for i in cfg.issuers],
        audience=cfg.audience,
        leeway_s=cfg.leeway_s,
        revocations=JtiRevocations(store=_store(ctx), refresh_s=0),
    )
    try:
        att = verifier.verify_attestation(text, agent_id=subject or "?", now=time.time())
    except TokenError as exc:
        click.echo(json.dumps({"valid": False, "code": exc.code, "reason": str(exc)}))
        raise SystemExit(2) from None
    answer = {"valid": True, "issuer": att.issuer, "subject": att.subject, "grants": att.grants.value}
    click.echo(json.dumps(answer | {"jti": att.jti, "expires_at": att.expires_at, "kid": att.kid}))


@identity.command("demo")
def demo() -> None:
    """Run the original's identity demo scenarios (examples/01-identity-authz and the identity part of
    examples/05-full-spm) through agent-security-identity, with our outcomes."""
    from agent_security.identity.demo import run_demo

    raise SystemExit(run_demo())
