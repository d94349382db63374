"""The Redis store: state shared by a fleet of processes on any number of machines.

Selected with ``store = "redis://host:6379/0"`` (also ``rediss://`` for TLS and
``redis+sentinel://host1:26379,host2:26379/service/0`` for Sentinel); needs the ``redis`` extra
(``pip install 'agent-security-core[redis]'``), imported only when such a URL is opened.

* **One round trip per check.** Every read-then-write is a Lua script run by Redis alone
  (:mod:`~agent_security.core.store._redis_scripts`): :meth:`RedisStore.admit` reads the kill flags,
  checks and records every rate window and session counter in one ``EVALSHA``, all or nothing, so a
  limit shared by any number of processes is never over-admitted.
* **Redis's clock.** Windows are measured on the server's ``TIME`` (``now=`` only in tests) and TTLs are
  Redis expiries, so hosts whose clocks disagree still share one window. :meth:`RedisStore.time` reads it.
* **Keys** are ``{<namespace>}:<kind>:<logical key>``: the namespace (``[core] store_namespace``, default
  :data:`DEFAULT_NAMESPACE`) is the Redis Cluster hash tag of every key, so every multi-key call stays on
  one slot; ``kind`` separates values and counters (``v``), rate windows (``w``) and claims (``c``).
* **Failures.** A connection refused, a reply slower than ``timeout_s`` (default 0.5 s; a stale
  connection is retried once), a replica that refuses writes, any Redis error: the operation raises
  :class:`~agent_security.core.errors.StoreUnavailable` and the built-ins deny ``STORE_UNAVAILABLE`` (in
  observe mode the check is recorded as ``would_block``, not blocked). A server out of memory under
  ``maxmemory-policy noeviction`` (the setting this store needs: an evicting server may drop a live claim
  or a kill) raises :class:`~agent_security.core.errors.StoreFull`.
* **Publish/subscribe** is Redis's: :meth:`RedisStore.set_and_publish` writes a key and publishes in one
  ``MULTI``/``EXEC``; a subscriber thread receives messages as they arrive, and after a lost connection
  reconnects, subscribes again and delivers :data:`~agent_security.core.store.base.RESYNC` to every
  subscriber (messages may have been missed: read the state again).
* **asyncio.** The ``a*`` methods use ``redis.asyncio`` (one client per event loop), never a thread.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import redis
import redis.asyncio as aredis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.retry import Retry

from agent_security.core.clock import SYSTEM_CLOCK
from agent_security.core.errors import ConfigurationError, StoreFull, StoreUnavailable
from agent_security.core.store._redis_scripts import ADMIT, INCR, RELEASE, WINDOW_COUNT
from agent_security.core.store._redis_subscriber import Listener
from agent_security.core.store.base import (
    RESYNC,
    AdmissionVerdict,
    CounterLimit,
    Store,
    Subscriber,
    TimeSource,
    WindowLimit,
)

__all__ = ["DEFAULT_NAMESPACE", "DEFAULT_TIMEOUT_S", "RedisStore", "parse_redis_url"]

DEFAULT_NAMESPACE = "agent-security"
DEFAULT_TIMEOUT_S = 0.5
_OPTIONS = {"timeout_s"}
_KINDS = ("flag", "window", "counter")
_SCAN_BATCH = 500


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _glob(text: str) -> str:
    """``text`` with Redis's glob characters escaped (a literal prefix for ``SCAN MATCH``)."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def parse_redis_url(url: str) -> tuple[str, dict[str, Any]]:
    """Split our options (``timeout_s``) from a Redis URL: ``(url for redis-py, options)``."""
    parts = urlsplit(url)
    ours: dict[str, Any] = {}
    theirs = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in _OPTIONS:
            try:
                ours[name] = float(value)
            except ValueError:
                raise ConfigurationError(f"store URL option {name} must be a number") from None
        else:
            theirs.append(f"{name}={value}")
    return urlunsplit(parts._replace(query="&".join(theirs))), ours


def _failure(exc: RedisError) -> StoreFull | StoreUnavailable:
    if isinstance(exc, ResponseError) and str(exc).startswith("OOM"):
        return StoreFull(f"the Redis server is out of memory: {exc}")
    return StoreUnavailable(f"Redis store: {type(exc).__name__}: {exc}")


class RedisStore(Store):
    """A store on a Redis server (see the module documentation).

    Build it with :meth:`from_url` (what ``open_store`` does), or pass clients: ``client`` (a
    ``redis.Redis`` with ``decode_responses=True``) and optionally ``aclient_factory`` (returns a
    ``redis.asyncio.Redis``, called once per event loop).
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        aclient_factory: Callable[[], aredis.Redis] | None = None,
        pubsub_client: redis.Redis | None = None,
        namespace: str | None = None,
        clock: TimeSource = SYSTEM_CLOCK,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        description: str = "redis",
    ) -> None:
        super().__init__(clock=clock, namespace=namespace or DEFAULT_NAMESPACE)
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        self.client = client
        self.timeout_s = float(timeout_s)
        self._description = description
        self._aclient_factory = aclient_factory
        self._aclients: dict[asyncio.AbstractEventLoop, tuple[aredis.Redis, dict[str, Any]]] = {}
        self._scripts = {name: client.register_script(src) for name, src in _SCRIPTS.items()}
        self._pubsub_client = pubsub_client or client
        self._subs: dict[str, list[Subscriber]] = {}
        self._lock = threading.Lock()
        self._listener: Listener | None = None
        self._closed = False
        self._companions: list[Any] = []
        """Other synchronous clients to close with the store (a Sentinel's connections to its sentinels)."""
        self._async_companions: dict[int, list[Any]] = {}
        """For an asyncio client (by id), the clients to close with it."""

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def from_url(
        cls, url: str, *, namespace: str | None = None, clock: TimeSource = SYSTEM_CLOCK, **redis_kwargs: Any
    ) -> RedisStore:
        """A store for ``redis://``, ``rediss://`` or ``redis+sentinel://`` (``?timeout_s=`` sets the timeout
        of every call; other query options are redis-py's)."""
        plain, ours = parse_redis_url(url)
        timeout_s = float(ours.get("timeout_s", DEFAULT_TIMEOUT_S))
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ConfigurationError("store URL option timeout_s must be a positive number of seconds")
        kwargs: dict[str, Any] = {
            "socket_timeout": timeout_s,
            "socket_connect_timeout": timeout_s,
            "decode_responses": True,
            "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            # RESP2: no HELLO exchange when a connection opens (a hook process connects for one call).
            "protocol": 2,
            **redis_kwargs,
        }
        scheme = urlsplit(plain).scheme.lower()
        if scheme == "redis+sentinel":
            return cls._sentinel(plain, kwargs, namespace=namespace, clock=clock, timeout_s=timeout_s)
        if scheme not in ("redis", "rediss"):
            raise ConfigurationError(f"not a Redis URL: {url!r}")

        def async_client() -> aredis.Redis:
            return aredis.Redis.from_url(
                plain, **{**kwargs, "retry": aredis.retry.Retry(NoBackoff(), 1, (RedisConnectionError,))}
            )

        client = redis.Redis.from_url(plain, **kwargs)
        pubsub = redis.Redis.from_url(plain, **{**kwargs, "socket_timeout": None, "health_check_interval": 2})
        parts = urlsplit(plain)
        where = f"{scheme}://{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or '/0'}"
        return cls(
            client,
            aclient_factory=async_client,
            pubsub_client=pubsub,
            namespace=namespace,
            clock=clock,
            timeout_s=timeout_s,
            description=where,
        )

    @classmethod
    def _sentinel(
        cls, url: str, kwargs: dict[str, Any], *, namespace: str | None, clock: TimeSource, timeout_s: float
    ) -> RedisStore:
        from redis.asyncio.sentinel import Sentinel as ASentinel
        from redis.sentinel import Sentinel

        parts = urlsplit(url)
        hosts: list[tuple[str, int]] = []
        netloc = parts.netloc.rpartition("@")[2]
        password = unquote(parts.password) if parts.password else None
        for item in netloc.split(","):
            host, _, port = item.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ConfigurationError(f"store URL {url!r}: sentinels are host:port, comma-separated")
            hosts.append((host.strip("[]"), int(port)))
        path = [p for p in parts.path.split("/") if p]
        service = unquote(path[0]) if path else "mymaster"
        db = int(path[1]) if len(path) > 1 and path[1].isdigit() else 0
        conn = {k: v for k, v in kwargs.items() if k != "retry"}
        conn.update(db=db, password=password)
        sentinel_kwargs = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
        sentinel = Sentinel(hosts, sentinel_kwargs=sentinel_kwargs, **conn)
        client = sentinel.master_for(service, retry=kwargs["retry"])
        pubsub = sentinel.master_for(service, socket_timeout=None, health_check_interval=2)
        store = cls(
            client,
            pubsub_client=pubsub,
            namespace=namespace,
            clock=clock,
            timeout_s=timeout_s,
            description=f"redis+sentinel://{service}",
        )
        store._companions = list(sentinel.sentinels)

        def async_client() -> aredis.Redis:
            found = ASentinel(hosts, sentinel_kwargs=sentinel_kwargs, **conn)
            master: aredis.Redis = found.master_for(service)
            store._async_companions[id(master)] = list(found.sentinels)
            return master

        store._aclient_factory = async_client
        return store

    # -- plumbing ------------------------------------------------------------------------------------
    def _v(self, key: str) -> str:
        return self._keys.physical("v:" + key)

    def _w(self, key: str) -> str:
        return self._keys.physical("w:" + key)

    def _c(self, key: str) -> str:
        return self._keys.physical("c:" + key)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        if self._closed:
            raise StoreUnavailable("the Redis store is closed")
        try:
            yield
        except RedisError as exc:
            raise _failure(exc) from exc

    def _aclient(self) -> tuple[aredis.Redis, dict[str, Any]]:
        loop = asyncio.get_running_loop()
        found = self._aclients.get(loop)
        if found is None:
            if self._aclient_factory is None:
                raise StoreUnavailable("this Redis store was built without an asyncio client")
            with self._lock:
                for old in [lp for lp in self._aclients if lp.is_closed()]:
                    del self._aclients[old]
                found = self._aclients.get(loop)
                if found is None:
                    client = self._aclient_factory()
                    found = client, {name: client.register_script(src) for name, src in _SCRIPTS.items()}
                    self._aclients[loop] = found
        return found

    @staticmethod
    def _loads(raw: Any) -> Any:
        return None if raw is None else json.loads(raw)

    def time(self) -> float:
        """The Redis server's clock (epoch seconds): what windows and TTLs are measured on."""
        with self._errors():
            seconds, micros = self.client.time()
        return seconds + micros / 1_000_000

    # -- key/value -----------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self._errors():
            value = self._loads(self.client.get(self._v(key)))
        return default if value is None else value

    def get_many(self, keys: Sequence[str], default: Any = None) -> list[Any]:
        """One ``MGET``: a consistent snapshot in one round trip."""
        if not keys:
            return []
        with self._errors():
            raw = self.client.mget([self._v(k) for k in keys])
        return [default if r is None else json.loads(r) for r in raw]

    def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        with self._errors():
            if value is None:
                self.client.delete(self._v(key))
            else:
                self.client.set(self._v(key), _dumps(value), px=None if ttl_s is None else _ms(ttl_s))

    def set_and_publish(self, key: str, value: Any, channel: str, message: Any, *, ttl_s: float | None = None) -> None:
        """Write (``None``: delete) ``key`` and publish ``message`` in one ``MULTI``/``EXEC``: one round
        trip, and no process can read the new value before the message is sent."""
        body = _dumps(message)
        with self._errors():
            pipe = self.client.pipeline(transaction=True)
            if value is None:
                pipe.delete(self._v(key))
            else:
                pipe.set(self._v(key), _dumps(value), px=None if ttl_s is None else _ms(ttl_s))
            pipe.publish(self._keys.channel(channel), body)
            pipe.execute()

    def delete(self, key: str) -> bool:
        with self._errors():
            return int(self.client.delete(self._v(key), self._w(key))) > 0

    def _scan(self, kind: str, prefix: str) -> Iterator[str]:
        pattern = _glob(self._keys.physical(kind + prefix)) + "*"
        yield from self.client.scan_iter(match=pattern, count=_SCAN_BATCH)

    def delete_prefix(self, prefix: str) -> int:
        removed = 0
        with self._errors():
            for kind in ("v:", "w:"):
                batch: list[str] = []
                for key in self._scan(kind, prefix):
                    batch.append(key)
                    if len(batch) >= _SCAN_BATCH:
                        removed += int(self.client.delete(*batch))
                        batch = []
                if batch:
                    removed += int(self.client.delete(*batch))
        return removed

    def scan(self, prefix: str) -> dict[str, Any]:
        start = len(self._keys.physical("v:"))
        out: dict[str, Any] = {}
        with self._errors():
            keys = list(self._scan("v:", prefix))
            for i in range(0, len(keys), _SCAN_BATCH):
                chunk = keys[i : i + _SCAN_BATCH]
                for key, raw in zip(chunk, self.client.mget(chunk), strict=True):
                    if raw is not None:
                        out[key[start:]] = json.loads(raw)
        return out

    # -- counters and claims -------------------------------------------------------------------------
    @staticmethod
    def _ttl_arg(ttl_s: float | None) -> str | int:
        return "" if ttl_s is None else _ms(ttl_s)

    def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        with self._errors():
            return int(self._scripts["incr"](keys=[self._v(key)], args=[int(amount), self._ttl_arg(ttl_s)]))

    def release(self, key: str, amount: int = 1) -> int | None:
        with self._errors():
            value = self._scripts["release"](keys=[self._v(key)], args=[int(amount)])
        return None if value is None else int(value)

    def claim(self, key: str, *, ttl_s: float) -> bool:
        """``SET NX PX``: the first claim wins in every process; Redis keeps it until it expires (a
        ``noeviction`` server never drops it; out of memory is :class:`StoreFull`)."""
        with self._errors():
            return bool(self.client.set(self._c(key), "1", nx=True, px=_ms(ttl_s)))

    # -- admission -----------------------------------------------------------------------------------
    def _admit_call(
        self,
        flags: Sequence[str],
        windows: Sequence[WindowLimit],
        counters: Sequence[CounterLimit],
        now: float | None,
    ) -> tuple[list[str], list[Any]]:
        keys = [self._v(k) for k in flags]
        keys += [self._w(w[0]) for w in windows]
        keys += [self._v(c[0]) for c in counters]
        args: list[Any] = [len(flags), len(windows), len(counters), "" if now is None else repr(float(now))]
        for _, limit, span in windows:
            if not (math.isfinite(span) and span > 0):
                raise ValueError("a window's span must be a positive number of seconds")
            args += [int(limit), repr(float(span))]
        for _, cap, ttl_s, amount in counters:
            args += ["" if cap is None else int(cap), self._ttl_arg(ttl_s), int(amount)]
        return keys, args

    @staticmethod
    def _verdict(reply: Sequence[Any], nflags: int) -> AdmissionVerdict:
        admitted, kind, index, nw, nc = (int(x) for x in reply[:5])
        flags = tuple(None if v is None else json.loads(v) for v in reply[5 : 5 + nflags])
        windows = tuple(int(x) for x in reply[5 + nflags : 5 + nflags + nw])
        counters = tuple(int(x) for x in reply[5 + nflags + nw : 5 + nflags + nw + nc])
        if admitted:
            return AdmissionVerdict(True, flags, windows, counters)
        return AdmissionVerdict(False, flags, windows, counters, _KINDS[kind - 1], index)  # type: ignore[arg-type]

    def admit(
        self,
        flags: Sequence[str] = (),
        windows: Sequence[WindowLimit] = (),
        counters: Sequence[CounterLimit] = (),
        *,
        now: float | None = None,
    ) -> AdmissionVerdict:
        """One ``EVALSHA`` (see the module documentation)."""
        keys, args = self._admit_call(flags, windows, counters, now)
        with self._errors():
            reply = self._scripts["admit"](keys=keys, args=args)
        return self._verdict(reply, len(flags))

    def window_count(self, key: str, *, window_s: float, now: float | None = None) -> int:
        args = [repr(float(window_s)), "" if now is None else repr(float(now))]
        with self._errors():
            return int(self._scripts["window_count"](keys=[self._w(key)], args=args))

    # -- publish/subscribe ---------------------------------------------------------------------------
    def publish(self, channel: str, message: Any) -> None:
        body = _dumps(message)
        with self._errors():
            self.client.publish(self._keys.channel(channel), body)

    def subscribe(self, channel: str, callback: Subscriber) -> Callable[[], None]:
        """Messages on ``channel`` from every process (this one included), delivered on the store's
        subscriber thread; after a reconnection each callback receives :data:`RESYNC`."""
        with self._lock:
            self._subs.setdefault(channel, []).append(callback)
            if self._listener is None:
                self._listener = Listener(
                    lambda: self._pubsub_client.pubsub(), self._deliver, self._resync, self.timeout_s
                )
            listener = self._listener
        listener.add(self._keys.channel(channel))

        def unsubscribe() -> None:
            with self._lock:
                subs = self._subs.get(channel, [])
                if callback in subs:
                    subs.remove(callback)

        return unsubscribe

    @property
    def reconnects(self) -> int:
        """How many times the subscriber connection was made again after a failure."""
        return 0 if self._listener is None else self._listener.reconnects

    def _deliver(self, physical: str, body: str) -> None:
        prefix = self._keys.channel("")
        if not physical.startswith(prefix):
            return
        channel = physical[len(prefix) :]
        try:
            message = json.loads(body)
        except ValueError:
            return
        self._call(channel, message)

    def _resync(self) -> None:
        with self._lock:
            channels = [c for c, subs in self._subs.items() if subs]
        for channel in channels:
            self._call(channel, dict(RESYNC))

    def _call(self, channel: str, message: Any) -> None:
        with self._lock:
            subs = list(self._subs.get(channel, ()))
        for cb in subs:
            try:
                cb(channel, message)
            except Exception:  # noqa: S112 - a subscriber's failure is its own; the others still get it
                continue

    def close(self) -> None:
        """Stop the subscriber thread and close the connections; any later call is ``StoreUnavailable``.
        An asyncio client is closed by :meth:`aclose` in its own event loop."""
        with self._lock:
            self._closed = True
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self.client.close()
        if self._pubsub_client is not self.client:
            self._pubsub_client.close()
        for other in self._companions:
            other.close()

    # -- the asynchronous twins: redis.asyncio, no thread ---------------------------------------------
    async def aget(self, key: str, default: Any = None) -> Any:
        client, _ = self._aclient()
        with self._errors():
            value = self._loads(await client.get(self._v(key)))
        return default if value is None else value

    async def aget_many(self, keys: Sequence[str], default: Any = None) -> list[Any]:
        if not keys:
            return []
        client, _ = self._aclient()
        with self._errors():
            raw = await client.mget([self._v(k) for k in keys])
        return [default if r is None else json.loads(r) for r in raw]

    async def aset(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        client, _ = self._aclient()
        with self._errors():
            if value is None:
                await client.delete(self._v(key))
            else:
                await client.set(self._v(key), _dumps(value), px=None if ttl_s is None else _ms(ttl_s))

    async def adelete(self, key: str) -> bool:
        client, _ = self._aclient()
        with self._errors():
            return int(await client.delete(self._v(key), self._w(key))) > 0

    async def aincr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        _, scripts = self._aclient()
        with self._errors():
            return int(await scripts["incr"](keys=[self._v(key)], args=[int(amount), self._ttl_arg(ttl_s)]))

    async def arelease(self, key: str, amount: int = 1) -> int | None:
        _, scripts = self._aclient()
        with self._errors():
            value = await scripts["release"](keys=[self._v(key)], args=[int(amount)])
        return None if value is None else int(value)

    async def aclaim(self, key: str, *, ttl_s: float) -> bool:
        client, _ = self._aclient()
        with self._errors():
            return bool(await client.set(self._c(key), "1", nx=True, px=_ms(ttl_s)))

    async def aadmit(
        self,
        flags: Sequence[str] = (),
        windows: Sequence[WindowLimit] = (),
        counters: Sequence[CounterLimit] = (),
        *,
        now: float | None = None,
    ) -> AdmissionVerdict:
        keys, args = self._admit_call(flags, windows, counters, now)
        _, scripts = self._aclient()
        with self._errors():
            reply = await scripts["admit"](keys=keys, args=args)
        return self._verdict(reply, len(flags))

    async def awindow_count(self, key: str, *, window_s: float, now: float | None = None) -> int:
        _, scripts = self._aclient()
        args = [repr(float(window_s)), "" if now is None else repr(float(now))]
        with self._errors():
            return int(await scripts["window_count"](keys=[self._w(key)], args=args))

    async def apublish(self, channel: str, message: Any) -> None:
        client, _ = self._aclient()
        with self._errors():
            await client.publish(self._keys.channel(channel), _dumps(message))

    async def aclose(self) -> None:
        """Close this event loop's asyncio client (and the synchronous ones: the store is closed)."""
        loop = asyncio.get_running_loop()
        found = self._aclients.pop(loop, None)
        if found is not None:
            await found[0].aclose()
            for other in self._async_companions.pop(id(found[0]), []):
                await other.aclose()
        await asyncio.to_thread(self.close)

    def __repr__(self) -> str:
        return f"RedisStore({self._description!r}, namespace={self.namespace!r})"


_SCRIPTS = {"admit": ADMIT, "window_count": WINDOW_COUNT, "incr": INCR, "release": RELEASE}
