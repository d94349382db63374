"""The state store: every piece of mutable state that plugins share lives behind :class:`Store`.

* :mod:`~agent_security.core.store.base`: the contract (version 2), sync and async;
* :mod:`~agent_security.core.store.memory`: :class:`MemoryStore`, the default of a library instance;
* :mod:`~agent_security.core.store.sqlite`: :class:`SqliteStore`, many processes on one machine (the
  default of the CLI and hooks);
* :mod:`~agent_security.core.store.windows`: the rate window every store keeps (what is exact);
* :mod:`~agent_security.core.store.redis`: :class:`~agent_security.core.store.redis.RedisStore`, a fleet
  of processes on many machines (the ``redis`` extra; imported only when a Redis URL is opened);
* :mod:`~agent_security.core.store.keys`: namespaces and Redis Cluster hash tags;
* :mod:`~agent_security.core.store.factory`: :func:`open_store` from a URL.
"""

from __future__ import annotations

from agent_security.core.errors import StoreError, StoreFull, StoreUnavailable
from agent_security.core.store.base import (
    RESYNC,
    AdmissionVerdict,
    CounterLimit,
    Store,
    Subscriber,
    WindowLimit,
    WindowVerdict,
)
from agent_security.core.store.factory import default_state_path, default_store_url, open_store
from agent_security.core.store.keys import KeySpace
from agent_security.core.store.memory import MemoryStore
from agent_security.core.store.sqlite import SqliteStore

__all__ = [
    "RESYNC",
    "AdmissionVerdict",
    "CounterLimit",
    "KeySpace",
    "MemoryStore",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreFull",
    "StoreUnavailable",
    "Subscriber",
    "WindowLimit",
    "WindowVerdict",
    "default_state_path",
    "default_store_url",
    "open_store",
]
