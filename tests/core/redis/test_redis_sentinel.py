"""``redis+sentinel://``: the store finds the master through a real Sentinel (redis-server --sentinel)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from _redis_server import free_port

from agent_security.core import AgentSecurity, Decision
from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.store import WindowLimit, open_store
from agent_security.core.store.redis import RedisStore
from agent_security.core.testing import StaticEngine


@pytest.fixture
def sentinel(redis_server: Any, tmp_path: Path) -> Iterator[int]:
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor mymaster 127.0.0.1 {redis_server.port} 1\n"
        "sentinel down-after-milliseconds mymaster 60000\n"
    )
    log = (tmp_path / "sentinel.log").open("ab")
    proc = subprocess.Popen([redis_server.program, str(conf), "--sentinel"], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                if client.execute_command("SENTINEL", "get-master-addr-by-name", "mymaster"):
                    break
            except redis.exceptions.RedisError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "sentinel.log").read_text()
            time.sleep(0.01)  # waiting for the sentinel to listen, not to pass
        yield port
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


async def test_a_sentinel_url_reaches_the_master(sentinel: int) -> None:
    store = open_store(f"redis+sentinel://127.0.0.1:{sentinel}/mymaster/0?timeout_s=1", namespace="s")
    assert isinstance(store, RedisStore)
    ks = kill_switch()
    security = AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
        store=store,
        plugins=[ks, rate_limiter(2), session_context({"t": 5})],
    )
    codes = []
    for _ in range(3):
        result = security.check_tool_call(tool_name="t", agent_id="a", session_id="x")
        codes.append("ALLOW" if result.allowed else result.final_decision.reasons[0].code)
    assert codes == ["ALLOW", "ALLOW", "RATE_LIMIT_AGENT"]
    ks.kill("b")
    assert ks.is_killed("b")
    verdict = await store.aadmit(["kill_switch:agent:b"], [WindowLimit("w", 1, 60)])
    assert verdict.refused == "flag"
    await store.aclose()
    security.shutdown()
