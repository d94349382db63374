"""Where the active policy comes from, and how it is replaced: building the engine from a path, JSON or
YAML text, a bundle or a loader; reloading it atomically; refusing a rollback to an older bundle."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from agent_security.core.clock import Clock
from agent_security.core.errors import PolicyRollbackError

__all__ = ["PolicySource"]


def refuse_rollback(active: Any, new: Any) -> None:
    """Raise :class:`PolicyRollbackError` when ``new``'s bundle was generated before ``active``'s."""
    old_bundle: Any = getattr(active, "bundle", None)
    new_bundle: Any = getattr(new, "bundle", None)
    old_at = getattr(old_bundle, "generated_at_dt", None)
    new_at = getattr(new_bundle, "generated_at_dt", None)
    if isinstance(old_at, datetime) and isinstance(new_at, datetime) and new_at < old_at:
        raise PolicyRollbackError(
            f"refusing to reload policy bundle {new_bundle.version!r} generated at {new_bundle.generated_at}: "
            f"it is older than the active bundle {old_bundle.version!r} generated at {old_bundle.generated_at} "
            "(a rollback; pass allow_rollback=True to load an older bundle on purpose)"
        )


class PolicySource:
    """The active policy engine (anything with ``evaluate(request, now=...)``) and where it came from.

    Sources, first given wins: a path, JSON (or YAML) text, a bundle, a ready engine, a loader (called by
    :meth:`load_from_loader`), the configured ``[core] policy_path``; with none, the built-in default
    bundle, which denies every call (``DEFAULT_DENY``).
    """

    def __init__(
        self,
        *,
        path: str | Path | None,
        text: str | None,
        bundle: Any,
        engine: Any,
        loader: Callable[[], Any] | None,
        configured_path: str | None,
        trusted_keys: Sequence[Any],
        hmac_secret: str | bytes | None,
        clock: Clock,
    ) -> None:
        self._lock = threading.Lock()
        self._trusted_keys = list(trusted_keys)
        self._hmac_secret = hmac_secret
        self._clock = clock
        self.loader = loader
        self._source: Any = None
        self._builtin: Any = None
        if path is not None:
            self._source = Path(path)
        elif text is not None:
            self._source = text
        elif bundle is not None:
            self._source = bundle
        elif engine is None and loader is None and configured_path:
            self._source = Path(configured_path)
        self.engine: Any = None
        if engine is not None:
            self.engine = engine
        elif self._source is not None:
            self.engine = self.build(self._source)
        elif loader is None:
            from agent_security.core.policy import PolicyEngine, default_policy_bundle

            self.engine = self._builtin = PolicyEngine(default_policy_bundle())

    @property
    def ready(self) -> bool:
        """Whether a policy is in place (``False`` until a loader-only instance is initialised)."""
        return self.engine is not None

    @property
    def bundle(self) -> Any:
        return getattr(self.engine, "bundle", None)

    def build(self, source: Any) -> Any:
        """A policy engine for ``source`` (a path, JSON or YAML text, a bundle or its dict)."""
        from agent_security.core.policy import PolicyEngine, load_policy, load_policy_yaml

        keys = self._trusted_keys or None
        if isinstance(source, str) and not source.lstrip().startswith(("{", "[")) and "\n" in source:
            bundle = load_policy_yaml(source, trusted_keys=keys, hmac_secret=self._hmac_secret, now=self._clock.now())
        else:
            bundle = load_policy(source, trusted_keys=keys, hmac_secret=self._hmac_secret, now=self._clock.now())
        return PolicyEngine(bundle)

    def source_for_reload(self, source: Any) -> Any:
        """What a reload loads: ``source``, else the original source (``None``: ask the loader)."""
        return source if source is not None else self._source

    def swap(self, engine: Any, *, allow_rollback: bool) -> None:
        """Make ``engine`` the active one, atomically; refuse a rollback unless allowed."""
        with self._lock:  # checked and swapped together: a concurrent reload cannot slip in between
            if not allow_rollback and self.engine is not None and self.engine is not self._builtin:
                refuse_rollback(self.engine, engine)
            self.engine = engine

    def load_from_loader(self, result: Any) -> None:
        """Install what the loader returned (its awaited result), once."""
        self.swap(self.build(result), allow_rollback=True)
