"""Plugin discovery: a plugin-manager factory that loads the ``agent_security`` entry-point group safely.

Autoload is an injection path (any installed distribution can declare an entry point in our group), so:

* only distributions on an **allow list** are loaded: the eight ``agent-security-*`` distributions by
  exact name (a prefix match would admit any ``agent-security-whatever`` on the index), plus those named
  in ``[core.plugins] allow_distributions``;
* ``AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD=1`` turns entry-point loading off (only built-ins and plugins
  passed explicitly run);
* ``AGENT_SECURITY_DISABLED_PLUGINS=egress,guardian`` (and ``[core.plugins] disabled``) skip named plugins;
* two entry points with the same plugin name are an error, not a silent shadowing (the one exception is
  the same entry point of the same distribution seen twice on ``sys.path``: same name, same target);
* hook wrappers on check hooks are refused.

Which plugins were loaded, from which distribution and version, is returned by :func:`load_entry_points`
and recorded in the audit trail by :class:`~agent_security.core.AgentSecurity`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy
from pydantic import BaseModel

from agent_security.core import entry_points
from agent_security.core.config import FAMILY, env_flag
from agent_security.core.errors import ConfigurationError, PluginContractError, PluginLoadError
from agent_security.core.hookspecs import CHECK_HOOKS, PROJECT_NAME

__all__ = [
    "AUTOLOAD_ENV",
    "DISABLED_ENV",
    "ENTRY_POINT_GROUP",
    "RESERVED_NAMES",
    "LoadedPlugin",
    "PluginInfo",
    "check_no_wrappers",
    "disabled_from_env",
    "load_entry_points",
]

ENTRY_POINT_GROUP = PROJECT_NAME
AUTOLOAD_ENV = "AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD"
DISABLED_ENV = "AGENT_SECURITY_DISABLED_PLUGINS"


@dataclass(frozen=True)
class PluginInfo:
    """What a distribution's plugin says about itself (``agent_security_plugin_info``)."""

    name: str
    """Plugin name; equal to the entry-point name."""
    description: str
    config_section: str | None = None
    """Top-level config section this plugin reads, if any."""
    config_model: type[BaseModel] | None = None
    """Pydantic model that validates the section."""
    unconfigured: str = ""
    """What the plugin does when installed without a config section (shown by ``agent-security plugins``)."""
    distribution: str | None = None
    version: str | None = None


@dataclass
class LoadedPlugin:
    """One entry point considered by discovery, and what happened to it."""

    name: str
    distribution: str
    version: str
    value: str
    status: str
    """``loaded``, ``disabled`` (by env/config), ``not-allowed`` (not on the allow list) or ``error``."""
    detail: str = ""
    plugin: Any = field(default=None, repr=False)

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "entry_point": self.value,
            "status": self.status,
            "detail": self.detail,
        }


_DIST_NAME = re.compile(r"[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]")
"""A valid distribution name (core metadata ``Name``): ASCII only."""


RESERVED_NAMES = frozenset(
    {
        "core",
        "policy",
        "callbacks",
        "on_audit_event",
        "audit_memory",
        "audit_sqlite",
        "audit_jsonl",
        "kill_switch",
        "rate_limiter",
        "session_context",
        "output_validator",
        "kill_switch_config",
        "rate_limiter_config",
        "session_context_config",
        "output_validator_config",
    }
)
"""Names of the core's own plugins: an entry point may not take one (it would pass for the built-in in
``agent-security plugins`` and the audit trail, and keep the real one from being registered)."""


def _norm(dist: object) -> str | None:
    """The PEP 503 normalised form of a valid distribution name, or ``None`` for anything else.

    Only ASCII names are valid, and only ASCII is folded: ``str.lower()`` alone maps the Kelvin sign
    ``\u212a`` to ``k``, so a distribution named ``acme-\u212ait`` passed for an allowed ``acme-kit``.
    """
    if not isinstance(dist, str) or not _DIST_NAME.fullmatch(dist):
        return None
    return re.sub(r"[-_.]+", "-", dist).lower()


def _dist_of(ep: Any) -> tuple[str | None, str]:
    """(name, version) of the distribution that declares ``ep``; hostile or broken metadata gives
    ``None`` / ``"?"`` rather than an exception (it must not stop discovery of everything else)."""
    if isinstance(ep, entry_points.FoundEntryPoint):
        name, version = ep.dist_name, ep.version
        return name, (version if version is not None else "?")
    try:
        dist = ep.dist
        if dist is None:
            return None, "?"
        name, version = dist.name, dist.version
    except Exception:
        return None, "?"
    return (name if isinstance(name, str) else None), (version if isinstance(version, str) else "?")


def _group_entry_points() -> list[Any]:
    """The group's entry points: read directly (:mod:`agent_security.core.entry_points`) where that gives
    what :mod:`importlib.metadata` gives, else from it."""
    found = entry_points.find(ENTRY_POINT_GROUP)
    if found is not None:
        return list(found)
    from importlib import metadata

    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


def disabled_from_env() -> set[str]:
    return {n.strip() for n in os.environ.get(DISABLED_ENV, "").split(",") if n.strip()}


def check_no_wrappers(pm: pluggy.PluginManager, plugin: object) -> None:
    """Refuse a plugin that wraps a check hook (a wrapper could rewrite any decision)."""
    for caller in pm.get_hookcallers(plugin) or ():
        if caller.name not in CHECK_HOOKS:
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                raise PluginContractError(
                    f"plugin {pm.get_name(plugin)!r} declares {caller.name} as a hook wrapper; "
                    "wrappers are not allowed on check hooks"
                )


def load_entry_points(
    pm: pluggy.PluginManager,
    *,
    autoload: bool = True,
    allow_distributions: Iterable[str] = (),
    disabled: Iterable[str] = (),
) -> list[LoadedPlugin]:
    """Register the allowed plugins of the ``agent_security`` entry-point group with ``pm``.

    Returns one record per entry point seen (loaded or not, and why). Raises
    :class:`~agent_security.core.errors.PluginLoadError` when an allowed entry point cannot be imported
    or two allowed distributions claim the same plugin name: an expected protection that fails to load
    must stop the application, not run it unprotected.
    """
    records: list[LoadedPlugin] = []
    if not autoload or env_flag(AUTOLOAD_ENV):
        return records
    allowed: set[str] = set()
    for name in (*FAMILY, *allow_distributions):
        norm = _norm(name)
        if norm is None:
            raise ConfigurationError(f"allow_distributions: {name!r} is not a valid distribution name")
        allowed.add(norm)
    blocked = set(disabled) | disabled_from_env()
    seen: dict[str, tuple[str, str]] = {}  # plugin name -> (distribution, entry-point target)
    eps = sorted(_group_entry_points(), key=lambda e: (e.name, e.value))
    for ep in eps:
        dist_name, version = _dist_of(ep)
        dist = dist_name if dist_name is not None else "<unknown>"
        rec = LoadedPlugin(ep.name, dist, version, ep.value, "loaded")
        records.append(rec)
        norm = _norm(dist_name)
        if norm is None:
            rec.status, rec.detail = "not-allowed", "distribution has no valid (ASCII) name"
            continue
        if norm not in allowed:
            rec.status, rec.detail = "not-allowed", "distribution is not on the plugin allow list"
            continue
        if ep.name in RESERVED_NAMES:
            raise PluginLoadError(
                f"plugin name {ep.name!r} from {dist} {version} is reserved for a built-in "
                "plugin of agent-security-core"
            )
        if ep.name in blocked:
            rec.status, rec.detail = "disabled", "disabled by configuration or environment"
            continue
        if ep.name in seen:
            first_dist, first_value = seen[ep.name]
            if _norm(first_dist) == _norm(dist) and first_value == ep.value:  # one install seen twice
                rec.status, rec.detail = "disabled", "duplicate of an already loaded entry point"
                continue
            raise PluginLoadError(
                f"plugin name {ep.name!r} is declared by both {first_dist!r} ({first_value}) and {dist!r} ({ep.value})"
            )
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginLoadError(f"cannot load plugin {ep.name!r} from {dist} {version}: {exc!r}") from exc
        if pm.get_plugin(ep.name) is not None:
            raise PluginLoadError(f"plugin name {ep.name!r} from {dist} is already registered")
        pm.register(plugin, name=ep.name)
        check_no_wrappers(pm, plugin)
        seen[ep.name] = (dist, ep.value)
        rec.plugin = plugin
    pm.check_pending()
    return records
