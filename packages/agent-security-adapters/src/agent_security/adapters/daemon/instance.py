"""The pipeline a hook call is checked by, built as the CLI builds it: the user's config, enforce mode and
the state store every hook call shares (``[core] store``, else the SQLite file of
:func:`agent_security.core.store.default_store_url`), so limits, kills and nonces hold across calls
whether the daemon or an in-process check answers them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_security.core.pipeline.facade import AgentSecurity
    from agent_security.core.store import Store

__all__ = ["DAEMON_MODES", "HookPipeline", "build_pipeline", "configured_mode", "daemon_setting"]

MAX_DEPENDENCIES = 64
DAEMON_MODES = ("auto", "manual", "off")


@dataclass
class HookPipeline:
    """A built pipeline, its store, and what it read (for the daemon's freshness checks)."""

    security: AgentSecurity
    store: Store
    files: list[str] = field(default_factory=list)
    """Every existing file the config names (plus the config file itself), as absolute paths."""
    cwd_matters: bool = False
    """Some config value is a relative path: the pipeline depends on the working directory."""
    settings_raw: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        try:
            self.security.shutdown()
        finally:
            self.store.close()


def build_pipeline(config_path: str | None, policy_path: str | None = None) -> HookPipeline:
    """The pipeline of a hook call (``policy_path`` overrides ``[core] policy_path``); raises what the
    core raises for a bad config or policy, or a store that cannot be opened."""
    from agent_security.core.config import load_settings
    from agent_security.core.pipeline.facade import AgentSecurity
    from agent_security.core.store import default_store_url, open_store

    settings = load_settings(config_path)
    core = settings.core
    try:
        store = open_store(core.store or default_store_url(), namespace=core.store_namespace)
    except Exception as exc:
        from agent_security.core.errors import StoreUnavailable

        raise StoreUnavailable(f"the state store cannot be opened ({type(exc).__name__}: {exc})") from exc
    try:
        kwargs: dict[str, Any] = {"policy_path": policy_path} if policy_path else {}
        security = AgentSecurity(config_path=config_path, store=store, mode="enforce", **kwargs)
    except BaseException:
        store.close()
        raise
    files = [str(settings.path.resolve())] if settings.path else []
    cwd_matters = False
    for value in _strings(settings.raw):
        if len(files) >= MAX_DEPENDENCIES or len(value) > 4096 or "\0" in value:
            continue
        path = Path(value)
        if path.exists():
            files.append(str(path.absolute()))
            cwd_matters = cwd_matters or not path.is_absolute()
    return HookPipeline(security, store, sorted(set(files)), cwd_matters, dict(settings.raw))


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            yield from _strings(value)


def daemon_setting(raw: dict[str, Any]) -> str:
    """``[adapters] daemon`` of a loaded config (``auto`` when unset); the plugin's model validates it."""
    section = raw.get("adapters")
    value = section.get("daemon", "auto") if isinstance(section, dict) else "auto"
    return value if value in DAEMON_MODES else "off"


def configured_mode(config_path: str | None) -> str:
    """``[adapters] daemon`` of the config a hook call loads; ``off`` when the config cannot be read."""
    from agent_security.core.config import load_settings

    try:
        return daemon_setting(load_settings(config_path).raw)
    except Exception:
        return "off"
