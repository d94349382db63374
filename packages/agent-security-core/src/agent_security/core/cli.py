"""The ``agent-security`` command line.

Core commands: ``version`` (also ``--version``), ``plugins``, ``config show``, ``config path``, ``check``,
``demo``, plus the ``policy`` and ``audit`` groups. Other distributions add commands through the
``agent_security_cli`` hook; :data:`PLUGIN_COMMANDS` names the distribution behind each, so a command that
is missing says what to install (or why the installed plugin did not load).

``check`` exit codes: 0 allow, 2 deny, 3 approval-like outcome (REQUIRE_APPROVAL, STEP_UP,
REQUIRE_TICKET, REQUIRE_HUMAN), 1 when the check could not run (bad input, bad config or policy).
Every non-zero code means "do not run the tool". ``check`` enforces unless ``--observe`` is given on the
command line: ``[core] mode = "observe"`` in a config file does not make it exit 0.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from importlib import metadata
from typing import Any, TypeVar

import click

from agent_security.core.arguments import strict_json_loads
from agent_security.core.config import FAMILY, load_settings
from agent_security.core.errors import AgentSecurityError
from agent_security.core.models import Outcome
from agent_security.core.pipeline.hooks import HookRelay
from agent_security.core.plugins import load_entry_points
from agent_security.core.stdin import StdinError, read_stdin

__all__ = [
    "EXIT_ALLOW",
    "EXIT_APPROVAL",
    "EXIT_DENY",
    "EXIT_ERROR",
    "PLUGIN_COMMANDS",
    "build_cli",
    "installed_distributions",
    "main",
]

R = TypeVar("R")

EXIT_ALLOW, EXIT_ERROR, EXIT_DENY, EXIT_APPROVAL = 0, 1, 2, 3
MAX_STDIN = 10 * 1024 * 1024

PLUGIN_COMMANDS: dict[str, str] = {
    "identity": "agent-security-identity",
    "guardian": "agent-security-guardian",
    "mcp": "agent-security-supply-chain",
    "hook": "agent-security-adapters",
    "install": "agent-security-adapters",
    "doctor": "agent-security-adapters",
    "serve": "agent-security-adapters",
    "posture": "agent-security-posture",
    "audit export": "agent-security-posture",
    "audit forward": "agent-security-posture",
}
"""The subcommands other distributions add, and the distribution that adds each (kept in step with the
distributions' ``agent_security_cli`` hooks by a test). ``"group name"`` keys are added to a core group."""


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def _open_store(ctx: click.Context) -> Any:
    """The state store of a CLI call: ``[core] store`` when configured, else the SQLite file every hook
    call shares (so limits, kills and approval nonces hold from one call to the next)."""
    from agent_security.core.store import default_store_url, open_store

    try:
        core = load_settings(ctx.obj.get("config")).core
        return open_store(core.store or default_store_url(), namespace=core.store_namespace)
    except (AgentSecurityError, OSError, ValueError) as exc:
        raise click.ClickException(f"the state store cannot be opened: {exc}") from exc


def _make_security(ctx: click.Context, **kwargs: Any) -> Any:
    from agent_security.core.pipeline.facade import AgentSecurity

    try:
        return AgentSecurity(config_path=ctx.obj.get("config"), **kwargs)
    except (AgentSecurityError, OSError, ValueError) as exc:  # ValueError: e.g. an unreadable key file
        raise click.ClickException(str(exc)) from exc


def installed_distributions() -> dict[str, str]:
    """The agent-security distributions installed here, with their versions, in the family's order."""
    found: dict[str, str] = {}
    for dist in FAMILY:
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return found


def _missing_command(name: str, dist: str, plugins: list[Any] | None) -> str:
    """Why the plugin command ``name`` (added by ``dist``) is not here, and what to do about it."""
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        return (
            f"No such command {name!r}: it is added by the {dist} distribution, which is not installed. "
            f"Install it with: pip install {dist}"
        )
    head = f"No such command {name!r}: it is added by {dist} {version}, which is installed, but "
    records = [r for r in plugins or () if r.distribution == dist]
    if plugins is None:
        return head + "the plugins could not be loaded (see the warning above and `agent-security plugins`)."
    if not records:
        return (
            head + "plugin discovery is switched off (AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD, or "
            "[core.plugins] autoload = false in the config file)."
        )
    rec = records[0]
    if rec.status == "disabled":
        return (
            head + f"its plugin {rec.name!r} is disabled (AGENT_SECURITY_DISABLED_PLUGINS, or "
            "[core.plugins] disabled in the config file)."
        )
    return head + f"its plugin {rec.name!r} did not add it ({rec.status}: {rec.detail or 'no detail'})."


class _Root(click.Group):
    """The root group: a known plugin command that is missing names the distribution that adds it."""

    plugins: list[Any] | None = []
    """The entry-point records of the last :func:`build_cli` (``None``: loading failed)."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else None
        if name in PLUGIN_COMMANDS and self.get_command(ctx, name) is None:
            ctx.fail(_missing_command(name, PLUGIN_COMMANDS[name], self.plugins))
        group = self.get_command(ctx, name) if name else None
        nested = f"{name} {args[1]}" if len(args) > 1 else None
        if nested in PLUGIN_COMMANDS and isinstance(group, click.Group) and group.get_command(ctx, args[1]) is None:
            ctx.fail(_missing_command(nested, PLUGIN_COMMANDS[nested], self.plugins))
        return super().resolve_command(ctx, args)


def _print_versions(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    for dist, ver in installed_distributions().items():
        click.echo(f"{dist} {ver}")
    ctx.exit()


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (overrides AGENT_SECURITY_CONFIG and the search order).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_versions,
    help="Show the installed agent-security distributions and their versions, and exit.",
)
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """agent-security: runtime security for AI agents' tool calls."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def version(as_json: bool) -> None:
    """Show the installed agent-security distributions and their versions."""
    found = installed_distributions()
    if as_json:
        click.echo(_dump(found))
        return
    for dist, ver in found.items():
        click.echo(f"{dist} {ver}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List plugins: entry points found, whether they loaded, from which distribution and version."""
    security = _make_security(ctx)
    infos = {i.name: i for i in security.plugin_infos}
    rows = []
    for rec in security.loaded_plugins:
        info = infos.get(rec.name)
        rows.append(
            {
                **rec.as_dict(),
                "description": info.description if info else "",
                "config_section": info.config_section if info else None,
                "configured": bool(
                    info and info.config_section and security.settings.section(info.config_section) is not None
                ),
                "without_section": info.unconfigured if info else "",
            }
        )
    builtins = [n for n in security.list_plugins() if n not in {r["name"] for r in rows}]
    rows.insert(
        0,
        {
            "name": "core",
            "distribution": "agent-security-core",
            "version": metadata.version("agent-security-core"),
            "entry_point": "(host)",
            "status": "loaded",
            "detail": "",
            "description": "Pipeline, policy engine, built-ins",
            "config_section": "core",
            "configured": security.settings.path is not None,
            "without_section": "Defaults: see docs/configuration.md",
        },
    )
    if as_json:
        click.echo(_dump({"entry_points": rows, "registered": security.list_plugins(), "builtin": builtins}))
        return
    click.echo(f"{'plugin':<14} {'distribution':<30} {'version':<9} status")
    for r in rows:
        click.echo(
            f"{r['name']:<14} {r['distribution']:<30} {r['version']:<9} {r['status']}"
            + (f" ({r['detail']})" if r["detail"] else "")
        )
    click.echo(f"\nbuilt-in and registered: {', '.join(builtins)}")


@cli.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("path")
@click.pass_context
def config_path(ctx: click.Context) -> None:
    """Print the config file that the search order selects (or '(none)')."""
    from agent_security.core.config import find_config_file

    try:
        path = find_config_file(ctx.obj.get("config"))
    except AgentSecurityError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(str(path) if path else "(none)")


@config.command("show")
@click.pass_context
def config_show(ctx: click.Context) -> None:
    """Print the effective configuration (every section validated, defaults filled in) as JSON."""
    security = _make_security(ctx)
    settings = security.settings
    out: dict[str, Any] = {
        "file": str(settings.path) if settings.path else None,
        "core": settings.core.model_dump(mode="json"),
    }
    for info in security.plugin_infos:
        if not info.config_section:
            continue
        model = settings.section(info.config_section)
        out[info.config_section] = (
            model.model_dump(mode="json") if model is not None else {"_unconfigured": info.unconfigured}
        )
    click.echo(_dump(out))


def _read_stdin_bytes(timeout: float) -> bytes:
    """At most ``MAX_STDIN`` bytes of stdin, closed within ``timeout`` seconds
    (:func:`agent_security.core.stdin.read_stdin`); anything else is exit 1 with the reason."""
    try:
        return read_stdin(
            sys.stdin.buffer if sys.stdin is not None else None,
            timeout=timeout,
            limit=MAX_STDIN,
            hint="pipe a JSON object describing one tool call, or give --tool",
        )
    except StdinError as exc:
        raise click.ClickException(str(exc)) from None


def _read_stdin_json(timeout: float = 10.0) -> dict[str, Any]:
    """The JSON object on stdin, strictly: no duplicate keys (two readers could see different values), no
    NaN/Infinity, UTF-8 only. Every malformed input is a :class:`click.ClickException` (exit 1)."""
    raw = _read_stdin_bytes(timeout)
    try:
        data = strict_json_loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"stdin is not valid UTF-8: {exc}") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, duplicate keys, NaN, huge integers
        raise click.ClickException(f"stdin is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise click.ClickException("stdin must hold a JSON object describing one tool call")
    return data


CHECK_FIELDS = {
    "tool_name",
    "tool_args",
    "agent_id",
    "agent_name",
    "environment",
    "owner",
    "action_type",
    "user_input",
    "data_labels",
    "risk_hints",
    "session_id",
    "trace_id",
    "parent_agent_id",
    "agent_type",
    "trust_level",
    "roles",
    "capabilities",
    "max_delegation_depth",
    "tool_identity",
    "delegation_chain",
}


def _call_from_stdin(timeout: float, extra: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One tool call's fields from the JSON object on stdin (``extra``: fields a command adds)."""
    params = _read_stdin_json(timeout)
    unknown = sorted(set(params) - CHECK_FIELDS - extra)
    if unknown:
        raise click.ClickException(f"unknown field(s) in stdin: {', '.join(unknown)}")
    if "tool_name" not in params:
        raise click.ClickException('stdin has no "tool_name"')
    return params


def _with_security(ctx: click.Context, policy_path: str | None, observe: bool, what: str, run: Callable[[Any], R]) -> R:
    """``run(security)`` on an instance with the CLI's store, closed afterwards. Exit 0 means "run the
    tool" (or "hand the output back"): only an explicit ``--observe`` may turn a would-block into 0, never
    a config file's ``[core] mode`` (which is about the library, and may come from the working directory).
    Any failure is exit 1 with its reason: never a traceback, never exit 0."""
    kwargs: dict[str, Any] = {"policy_path": policy_path} if policy_path else {}
    kwargs["mode"] = "observe" if observe else "enforce"
    kwargs["store"] = store = _open_store(ctx)
    try:
        security = _make_security(ctx, **kwargs)
        try:
            return run(security)
        except (TypeError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        except Exception as exc:
            raise click.ClickException(f"the {what} could not run: {type(exc).__name__}: {exc}") from exc
        finally:
            security.shutdown()
    finally:
        store.close()


@cli.command()
@click.option("--tool", "tool_name", help="Tool name (else read a JSON object from stdin).")
@click.option("--args", "tool_args", help="Tool arguments as a JSON object.")
@click.option("--agent", "agent_id", help="Agent id.")
@click.option("--env", "environment", help="Environment.")
@click.option("--action-type", help="Action type (tool_call, shell, code_execute, ...).")
@click.option("--user-input", help="The user's input that led to this call.")
@click.option("--label", "data_labels", multiple=True, help="Data label (repeatable).")
@click.option("--session", "session_id", help="Session id.")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, exists=True), help="Policy file.")
@click.option("--observe", is_flag=True, help="Observe mode: decide and audit, never block.")
@click.option(
    "--stdin-timeout",
    type=click.FloatRange(0, 3600),
    default=10.0,
    show_default=True,
    help="Seconds to wait for stdin to be closed; past that, exit 1 instead of hanging.",
)
@click.pass_context
def check(
    ctx: click.Context,
    tool_name: str | None,
    tool_args: str | None,
    agent_id: str | None,
    environment: str | None,
    action_type: str | None,
    user_input: str | None,
    data_labels: tuple[str, ...],
    session_id: str | None,
    policy_path: str | None,
    observe: bool,
    stdin_timeout: float,
) -> None:
    """Decide one tool call; print the decision as JSON. Exit 0 allow, 2 deny, 3 approval-like, 1 error."""
    if tool_name is None:
        params = _call_from_stdin(stdin_timeout)
    else:
        params = {
            "tool_name": tool_name,
            "agent_id": agent_id or "cli",
            "environment": environment,
            "action_type": action_type,
            "user_input": user_input,
            "data_labels": list(data_labels) or None,
            "session_id": session_id,
        }
        if tool_args:
            try:
                params["tool_args"] = strict_json_loads(tool_args)
            except (ValueError, RecursionError) as exc:  # as strict as stdin (duplicates, NaN, huge ints)
                raise click.ClickException(f"--args is not valid JSON: {exc}") from None
        params = {k: v for k, v in params.items() if v is not None}
    params.setdefault("agent_id", "cli")
    result = _with_security(ctx, policy_path, observe, "check", lambda security: security.check_tool_call(**params))
    d = result.decision
    click.echo(
        _dump(
            {
                "allowed": result.allowed,
                "outcome": d.outcome.value,
                "final_outcome": result.final_decision.outcome.value,
                "reasons": [r.model_dump() for r in result.final_decision.reasons],
                "approver_role": d.approver_role,
                "constraints": dict(d.constraints) if d.constraints else None,
                "plugin_source": d.plugin_source,
                "request_id": result.request.request_id,
                "request_hash": result.request_hash,
                "event_id": result.event.event_id,
                "would_block": result.would_block,
            }
        )
    )
    if result.allowed:
        ctx.exit(EXIT_ALLOW)
    ctx.exit(
        EXIT_APPROVAL
        if d.outcome in (Outcome.REQUIRE_APPROVAL, Outcome.STEP_UP, Outcome.REQUIRE_TICKET, Outcome.REQUIRE_HUMAN)
        else EXIT_DENY
    )


@cli.command("check-result")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, exists=True), help="Policy file.")
@click.option("--observe", is_flag=True, help="Observe mode: check and audit, never withhold.")
@click.option(
    "--stdin-timeout",
    type=click.FloatRange(0, 3600),
    default=10.0,
    show_default=True,
    help="Seconds to wait for stdin to be closed; past that, exit 1 instead of hanging.",
)
@click.pass_context
def check_result(ctx: click.Context, policy_path: str | None, observe: bool, stdin_timeout: float) -> None:
    """Check a tool's output before the agent sees it. Reads a JSON object on stdin: the call's fields (as
    for ``check``) and ``"result"``, the tool's output. Prints the output to hand back (redacted where a
    plugin redacted it) as JSON. Exit 0 pass, 2 withheld, 1 error."""
    params = _call_from_stdin(stdin_timeout, frozenset({"result"}))
    output = params.pop("result", None)
    params.setdefault("agent_id", "cli")
    checked = _with_security(
        ctx, policy_path, observe, "result check", lambda security: security.check_result(output, **params)
    )
    click.echo(
        _dump(
            {
                "allowed": checked.allowed,
                "result": checked.result,
                "redacted_by": list(checked.redacted_by),
                "reasons": [r.model_dump() for r in checked.decision.reasons],
                "request_id": checked.request.request_id,
                "event_id": checked.event.event_id,
                "would_block": checked.would_block,
            }
        )
    )
    ctx.exit(EXIT_ALLOW if checked.allowed else EXIT_DENY)


@cli.group(invoke_without_command=True)
@click.option("--quick", is_flag=True, help="The five-scenario quick demo (the same as `demo quick`).")
@click.option("--list", "list_", is_flag=True, help="List every demo, what it shows and whether it is installed.")
@click.pass_context
def demo(ctx: click.Context, quick: bool, list_: bool) -> None:
    """Run a demo: ``agent-security demo NAME`` (``--list`` shows them all). With no name, the core demo:
    the original's core scenarios, the bypasses we close and the audit trail, through the default pipeline."""
    if ctx.invoked_subcommand is not None:
        return
    if list_:
        from agent_security.core.demos.catalogue import catalogue_table

        group = ctx.command
        assert isinstance(group, click.Group)
        catalogue_table(group.commands).render()
        click.echo("\nrun one with: agent-security demo NAME")
        return
    if quick:
        from agent_security.core.demos.quick import run_quick_demo

        raise SystemExit(run_quick_demo())
    from agent_security.core.demo import run_demo

    raise SystemExit(run_demo())


@demo.command("core")
def demo_core() -> None:
    """The original's 9 core scenarios on its default policy, the bypasses we close, the audit trail."""
    from agent_security.core.demo import run_demo

    raise SystemExit(run_demo())


@demo.command("quick")
def demo_quick() -> None:
    """The original's 5-scenario quick demo, with our outcomes beside its own."""
    from agent_security.core.demos.quick import run_quick_demo

    raise SystemExit(run_quick_demo())


@demo.command("fleet")
def demo_fleet() -> None:
    """Two AgentSecurity instances sharing a kill and a rate limit through a real Redis (redis-server)."""
    from agent_security.core.demos.fleet import run_fleet_demo

    raise SystemExit(run_fleet_demo())


def build_cli() -> click.Group:
    """The root command with the core groups and every plugin's subcommands attached."""
    from agent_security.core.audit.cli import audit_group
    from agent_security.core.policy.cli import policy_group

    if "policy" not in cli.commands:
        cli.add_command(policy_group, "policy")
    if "audit" not in cli.commands:
        cli.add_command(audit_group, "audit")
    relay = HookRelay()
    try:
        settings = load_settings()
        _Root.plugins = load_entry_points(
            relay.pm,
            autoload=settings.core.plugins.autoload,
            allow_distributions=settings.core.plugins.allow_distributions,
            disabled=settings.core.plugins.disabled,
        )
    except AgentSecurityError as exc:
        _Root.plugins = None
        click.echo(f"warning: plugins not loaded: {exc}", err=True)
    core_commands = dict(cli.commands)
    relay.cli(cli)
    for name, command in core_commands.items():
        if cli.commands.get(name) is not command:
            # a plugin must add commands, never replace a core one (`check` decides exit codes)
            click.echo(f"warning: a plugin replaced the core command {name!r}; the core one is kept", err=True)
            cli.add_command(command, name)
    return cli


def main() -> None:
    build_cli()(prog_name="agent-security")


if __name__ == "__main__":  # pragma: no cover
    main()
