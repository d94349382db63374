"""Opening a store from configuration: ``open_store("sqlite:///var/lib/agent-security/state.db")``.

Accepted URLs:

* ``memory://``: a :class:`~agent_security.core.store.MemoryStore` (private to the process);
* ``sqlite:///absolute/path.db`` or ``sqlite://relative/path.db`` (also a plain ``sqlite:path``): a
  :class:`~agent_security.core.store.SqliteStore`, shared by the processes of one machine. The query
  string may set ``timeout_s`` and ``poll_interval_s`` (``sqlite:///s.db?timeout_s=2``);
* ``redis://host:6379/0``, ``rediss://`` (TLS), ``redis+sentinel://host1:26379,host2:26379/service/0``:
  a :class:`~agent_security.core.store.redis.RedisStore` shared by a fleet; ``?timeout_s=`` bounds every
  call (default 0.5 s). Needs the ``redis`` extra (``pip install 'agent-security-core[redis]'``),
  imported only here: without it a clear :class:`~agent_security.core.errors.ConfigurationError` says so.

:func:`default_state_path` is where the CLI and the hooks keep their state when nothing is configured.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from agent_security.core.clock import SYSTEM_CLOCK
from agent_security.core.errors import ConfigurationError
from agent_security.core.store.base import Store, TimeSource
from agent_security.core.store.memory import MemoryStore
from agent_security.core.store.sqlite import SqliteStore

__all__ = ["STATE_DIR_ENV", "default_state_path", "default_store_url", "open_store", "redact_url"]

STATE_DIR_ENV = "AGENT_SECURITY_STATE_DIR"
REDIS_EXTRA = "agent-security-core[redis]"
_SQLITE_OPTIONS = {"timeout_s", "poll_interval_s", "message_ttl_s"}


def default_state_path() -> Path:
    """``$AGENT_SECURITY_STATE_DIR/state.db``, else ``$XDG_STATE_HOME/agent-security/state.db``, else
    ``~/.local/state/agent-security/state.db``."""
    explicit = os.environ.get(STATE_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser() / "state.db"
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / "agent-security" / "state.db"


def default_store_url() -> str:
    """The store of the CLI and hooks when the configuration names none: SQLite at :func:`default_state_path`."""
    return "sqlite:///" + str(default_state_path()).lstrip("/")


def open_store(url: str, *, clock: TimeSource = SYSTEM_CLOCK, namespace: str | None = None) -> Store:
    """The store ``url`` names (see the module documentation). A SQLite store's directory is created
    (mode 0700) when missing."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        if parts.netloc or parts.path or parts.query:
            raise ConfigurationError(f"store URL {url!r}: memory:// takes no path or options")
        return MemoryStore(clock=clock, namespace=namespace)
    if scheme == "sqlite":
        raw = parts.netloc + parts.path if parts.netloc else parts.path
        path = unquote(raw)
        if not path:
            raise ConfigurationError(f"store URL {url!r} names no file (sqlite:///absolute/path.db)")
        options: dict[str, float] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name not in _SQLITE_OPTIONS:
                raise ConfigurationError(
                    f"store URL {url!r}: unknown option {name!r} (known: {', '.join(sorted(_SQLITE_OPTIONS))})"
                )
            try:
                options[name] = float(value)
            except ValueError:
                raise ConfigurationError(f"store URL {url!r}: {name} must be a number") from None
        file = Path(path).expanduser()
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            return SqliteStore(file, namespace=namespace, clock=clock, **options)
        except ValueError as exc:
            raise ConfigurationError(f"store URL {url!r}: {exc}") from None
    if scheme in ("redis", "rediss", "redis+sentinel"):
        return _open_redis(url, clock=clock, namespace=namespace)
    raise ConfigurationError(f"store URL {url!r}: unknown scheme (use memory://, sqlite:///path or redis://)")


def _open_redis(url: str, *, clock: TimeSource, namespace: str | None) -> Store:
    try:
        from agent_security.core.store.redis import RedisStore
    except ImportError as exc:
        if getattr(exc, "name", None) not in ("redis", "redis.asyncio") and "redis" not in str(exc):
            raise
        raise ConfigurationError(
            f"store URL {redact_url(url)!r}: Redis stores need redis-py (pip install '{REDIS_EXTRA}')"
        ) from None
    try:
        return RedisStore.from_url(url, clock=clock, namespace=namespace)
    except ValueError as exc:
        raise ConfigurationError(f"store URL {redact_url(url)!r}: {exc}") from None


def redact_url(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{host}").geturl()
