"""Fixtures of the Redis store tests: a real redis-server (``make system-deps`` installs it).

``redis_server`` is one server for the module, emptied (``FLUSHALL``) before each test; ``own_redis`` is a
server for one test (restarted or stopped by it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).parent))

from _redis_server import RedisServer


@pytest.fixture(scope="module")
def _module_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Callable[[str], str]], RedisServer]]:
    servers: list[RedisServer] = []

    def start(system_program: Callable[[str], str]) -> RedisServer:
        if not servers:
            server = RedisServer(system_program("redis-server"), tmp_path_factory.mktemp("redis"))
            server.start()
            servers.append(server)
        return servers[0]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def redis_server(
    _module_redis: Callable[[Callable[[str], str]], RedisServer], system_program: Callable[[str], str]
) -> RedisServer:
    server = _module_redis(system_program)
    if server.proc is None:
        server.start()
    client = redis.Redis(host="127.0.0.1", port=server.port)
    client.flushall()
    client.close()
    return server


@pytest.fixture
def own_redis(tmp_path: Path, system_program: Callable[[str], str]) -> Iterator[RedisServer]:
    server = RedisServer(system_program("redis-server"), tmp_path / "redis")
    server.start()
    yield server
    server.stop()
