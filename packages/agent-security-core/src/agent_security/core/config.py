"""User configuration: one file, a section per plugin, each validated by that plugin's pydantic model.

Search order (the first that exists wins; later ones are not merged):

1. the ``config_path=`` argument of :class:`~agent_security.core.AgentSecurity` or ``--config`` on the CLI;
2. the environment variable ``AGENT_SECURITY_CONFIG`` (a path; if it is set and the file is missing,
   that is an error, never a silent fall-through to defaults);
3. only when ``AGENT_SECURITY_CONFIG_SEARCH_CWD=1``: ``./agent-security.toml``, ``./agent-security.yaml``,
   ``./agent-security.yml`` in the working directory. Off by default: the working directory is usually
   the agent's workspace, and an agent that can write a file there must not be able to rewrite the rules
   that bind it (switch to observe mode, point at another policy) for the next start;
4. ``$XDG_CONFIG_HOME/agent-security/config.toml`` (``~/.config`` when unset), then ``config.yaml``;
5. nothing: every plugin runs with its documented defaults.

``AGENT_SECURITY_NO_CONFIG=1`` skips steps 3-4 (useful in tests and CI).

The file is TOML or YAML (by extension). Top-level keys are section names: ``core`` for the core, and
each plugin's ``PluginInfo.config_section``. A section no installed plugin claims is an error (a typo
must not silently drop a protection). Every error names the file, the section and the field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent_security.core.errors import ConfigFileError, ConfigurationError, PolicyLoadError
from agent_security.core.files import UnreadableFile, read_bounded

__all__ = [
    "CONFIG_ENV",
    "MAX_CONFIG_BYTES",
    "AuditConfig",
    "ConfigSection",
    "CoreConfig",
    "PluginsConfig",
    "Settings",
    "env_flag",
    "find_config_file",
    "load_settings",
    "read_config_file",
]

CONFIG_ENV = "AGENT_SECURITY_CONFIG"
NO_CONFIG_ENV = "AGENT_SECURITY_NO_CONFIG"
SEARCH_CWD_ENV = "AGENT_SECURITY_CONFIG_SEARCH_CWD"
MAX_CONFIG_BYTES = 1024 * 1024
FAMILY = (
    "agent-security-core",
    "agent-security-identity",
    "agent-security-egress",
    "agent-security-supply-chain",
    "agent-security-guardian",
    "agent-security-posture",
    "agent-security-containment",
    "agent-security-adapters",
)


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def env_flag(name: str) -> bool:
    """The boolean environment variable ``name``: unset or empty is false; ``1/true/yes/on`` and
    ``0/false/no/off`` (any case) are what they say; anything else is a :class:`ConfigurationError`.

    A value we do not understand is never guessed: ``AGENT_SECURITY_CONFIG_SEARCH_CWD=False`` once turned
    the working-directory search *on*, and ``AGENT_SECURITY_NO_CONFIG=False`` skipped the config file.
    """
    raw = os.environ.get(name)
    value = (raw or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(
        f"environment variable {name}={raw!r} is not a boolean (use 1/true/yes/on or 0/false/no/off)"
    )


class SectionModel(BaseModel):
    """Base for plugin configuration models: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class PluginsConfig(SectionModel):
    autoload: bool = True
    """Load plugins from installed distributions' ``agent_security`` entry points."""
    allow_distributions: tuple[str, ...] = ()
    """Distributions allowed to provide plugins, in addition to the eight agent-security-* ones."""
    disabled: tuple[str, ...] = ()
    """Plugin names never to load (added to ``AGENT_SECURITY_DISABLED_PLUGINS``)."""


class AuditConfig(SectionModel):
    memory_size: int = Field(10_000, ge=1, le=10_000_000)
    """Events kept by the in-memory ring (``get_audit_log``)."""
    sqlite_path: str | None = None
    """Write the trail to this SQLite database (WAL mode)."""
    jsonl_path: str | None = None
    """Write the trail to this JSON Lines file."""
    redis_stream: str | None = None
    """Also append every event to a Redis stream shared by the fleet (``redis://``, ``rediss://``,
    ``redis+sentinel://``; needs the ``redis`` extra), in the namespace of ``[core] store_namespace``."""
    redis_stream_maxlen: int = Field(1_000_000, ge=1, le=1_000_000_000)
    """Entries the Redis stream keeps (about: trimmed with ``MAXLEN ~``)."""
    lock_timeout_s: float = Field(10.0, gt=0, le=3600)
    """Seconds a write waits while another process holds the trail's file or database; past that the
    write fails, and the check it records is denied (``AUDIT_FAILURE``)."""
    signing_key_path: str | None = None
    """Ed25519 private key (PEM) used to sign the chain head every ``sign_every`` events."""
    sign_every: int = Field(100, ge=1)
    witness: str | None = None
    """Copy every signed checkpoint to a witness outside the writer's reach: ``file:///path`` (a file, or a
    directory that gets ``audit-witness.jsonl``), ``syslog:``, ``syslog:///socket``,
    ``syslog://host:port`` or a store of its own (``sqlite:///other/mount/witness.db``). Needs
    ``signing_key_path``; check with ``audit verify --witness``."""


class CoreConfig(SectionModel):
    policy_path: str | None = None
    default_environment: str = "unknown"
    mode: Literal["enforce", "observe"] = "enforce"
    approval_timeout_s: float = Field(300.0, gt=0, le=86_400)
    plugins: PluginsConfig = PluginsConfig()
    audit: AuditConfig = AuditConfig()
    trusted_policy_keys: tuple[str, ...] = ()
    """Paths of Ed25519 public keys (PEM); when set, only bundles signed by one of them load."""
    store: str | None = None
    """The state store's URL (``memory://``, ``sqlite:///path/state.db``; ``redis://``, ``rediss://``,
    ``redis+sentinel://`` with the ``redis`` extra), opened with :func:`agent_security.core.store.open_store`.
    Unset: the library default (memory) for ``AgentSecurity``, a SQLite file
    (:func:`~agent_security.core.store.default_state_path`) for the CLI and hooks."""
    store_namespace: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")
    """Prefix of every store key (``"app:tenant"``): stores sharing one database but not their state."""


@dataclass(frozen=True)
class ConfigSection:
    """A config section declared by a plugin."""

    name: str
    model: type[BaseModel]
    plugin: str


@dataclass
class Settings:
    """Validated configuration: the core section plus one validated model per plugin section."""

    core: CoreConfig = field(default_factory=CoreConfig)
    sections: dict[str, BaseModel] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def section(self, name: str) -> Any:
        """The validated model for ``name``, or ``None`` if the file had no such section."""
        return self.sections.get(name)

    def validate_sections(self, declared: Mapping[str, ConfigSection]) -> None:
        """Validate every raw plugin section with its declared model (called once plugins are known)."""
        where = str(self.path) if self.path else "<config>"
        for name, raw in self.raw.items():
            if name == "core":
                continue
            decl = declared.get(name)
            if decl is None:
                known = ", ".join(sorted(["core", *declared])) or "core"
                raise ConfigFileError(
                    f"no installed plugin uses this section (known: {known})", path=where, section=name
                )
            self.sections[name] = _validate(decl.model, raw, where, name)


def _validate(model: type[BaseModel], raw: Any, where: str, section: str) -> BaseModel:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigFileError("expected a table of settings", path=where, section=section)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        extra = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigFileError(err["msg"] + extra, path=where, section=section, field=loc) from None


def _candidates(cwd: Path) -> list[Path]:
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    local = (
        [cwd / "agent-security.toml", cwd / "agent-security.yaml", cwd / "agent-security.yml"]
        if env_flag(SEARCH_CWD_ENV)
        else []
    )
    return [
        *local,
        Path(xdg) / "agent-security" / "config.toml",
        Path(xdg) / "agent-security" / "config.yaml",
    ]


def find_config_file(explicit: str | os.PathLike[str] | None = None, *, cwd: Path | None = None) -> Path | None:
    """Apply the documented search order and return the file to use, or ``None``."""
    if explicit is not None:
        path = Path(explicit)
        _require_file(path, "config file")
        return path
    env = os.environ.get(CONFIG_ENV)
    if env is not None:
        if not env.strip():  # e.g. AGENT_SECURITY_CONFIG=$UNSET_VARIABLE: not a licence to use defaults
            raise ConfigurationError(
                f"environment variable {CONFIG_ENV} is set but empty; unset it to use the search order"
            )
        path = Path(env)
        _require_file(path, f"config file named by {CONFIG_ENV}")
        return path
    if env_flag(NO_CONFIG_ENV):
        return None
    for path in _candidates(cwd or Path.cwd()):
        if path.is_file():
            return path
    return None


def _require_file(path: Path, what: str) -> None:
    if path.is_file():
        return
    if path.exists():
        raise ConfigFileError(f"{what} is not a regular file", path=str(path))
    raise ConfigFileError(f"{what} not found", path=str(path))


def _parse_yaml(text: str, where: str) -> Any:
    # The policy loader's YAML: JSON-like (YAML 1.2 booleans and numbers, no timestamps), no duplicate
    # keys (PyYAML lets the last one win: an appended `mode: observe` overrode the first), no aliases (a
    # few lines of anchors expand to millions of values), bounded depth.
    import yaml

    from agent_security.core.policy.yaml_reader import read_yaml

    try:
        return read_yaml(text, source=where, what="config file")
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"cannot parse: {exc}", path=where) from None


def _parse_toml(text: str, where: str) -> Any:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"cannot parse: {exc}", path=where) from None


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML or YAML config file into a dict (bounded size; top level must be a table)."""
    where = str(path)
    try:
        text = read_bounded(path, MAX_CONFIG_BYTES, what="config file").decode("utf-8")
    except UnreadableFile as exc:
        raise ConfigFileError(str(exc), path=where) from None
    except OSError as exc:
        raise ConfigFileError(f"cannot read: {exc.strerror or exc}", path=where) from None
    except UnicodeDecodeError:
        raise ConfigFileError("not valid UTF-8", path=where) from None
    try:
        data = _parse_yaml(text, where) if path.suffix.lower() in (".yaml", ".yml") else _parse_toml(text, where)
    except PolicyLoadError as exc:
        raise ConfigFileError(f"cannot parse: {exc.args[0] if exc.args else exc}", path=where) from None
    except RecursionError as exc:
        raise ConfigFileError(f"cannot parse: {exc}", path=where) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigFileError("the top level must be a table of sections", path=where)
    return data


def load_settings(
    explicit: str | os.PathLike[str] | None = None, *, data: Mapping[str, Any] | None = None, cwd: Path | None = None
) -> Settings:
    """Find, read and validate the core section. Plugin sections are validated later, by
    :meth:`Settings.validate_sections`, once the installed plugins have declared their models."""
    path: Path | None = None
    if data is None:
        path = find_config_file(explicit, cwd=cwd)
        data = read_config_file(path) if path else {}
    raw = dict(data)
    where = str(path) if path else "<config>"
    core = _validate(CoreConfig, raw.get("core"), where, "core")
    assert isinstance(core, CoreConfig)
    return Settings(core=core, raw=raw, path=path)
