"""Redis Cluster compatibility: every multi-key call of the store stays on one hash slot.

A redis-server in cluster mode refuses any command or script whose keys hash to different slots
(``CROSSSLOT``), even when it owns every slot itself. So a one-node cluster that owns all 16,384 slots runs
the store's real calls (the admission script, ``MGET``, ``MULTI``/``EXEC``, multi-key ``DEL``) and fails any
that would not work on a real cluster.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from _redis_server import free_port

from agent_security.core import AgentSecurity, Decision
from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.store import CounterLimit, WindowLimit, open_store
from agent_security.core.testing import StaticEngine


@pytest.fixture
def cluster_node(tmp_path: Path, system_program: Callable[[str], str]) -> Iterator[int]:
    port = free_port()
    args = [
        system_program("redis-server"),
        "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-port", str(free_port()),
        "--cluster-config-file", str(tmp_path / "nodes.conf"), "--save", "", "--appendonly", "no",
        "--dir", str(tmp_path),
    ]  # fmt: skip
    log = (tmp_path / "redis.log").open("ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.RedisError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "redis.log").read_text()
                time.sleep(0.01)  # waiting for the server to listen, not to pass
        client.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
            assert time.monotonic() < deadline, "the one-node cluster did not become ready"
            time.sleep(0.01)  # waiting for the cluster state, not to pass
        yield port
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def test_every_multi_key_call_stays_on_one_slot(cluster_node: int) -> None:
    raw = redis.Redis(host="127.0.0.1", port=cluster_node)
    with pytest.raises(redis.exceptions.ResponseError, match="same slot"):  # CROSSSLOT: the node does check
        raw.mget(["kill_switch:global", "kill_switch:agent:a"])
    raw.close()
    url = f"redis://127.0.0.1:{cluster_node}/0"
    store = open_store(url, namespace="app:tenant")
    ks = kill_switch()
    security = AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
        store=store,
        plugins=[ks, rate_limiter(5, 3), session_context({"pay": 2})],
    )
    codes = []
    for _ in range(4):
        result = security.check_tool_call(tool_name="pay", agent_id="a:b", session_id="s")
        codes.append("ALLOW" if result.allowed else result.final_decision.reasons[0].code)
    assert codes == ["ALLOW", "ALLOW", "SESSION_LIMIT_EXCEEDED", "SESSION_LIMIT_EXCEEDED"]
    ks.kill("a:b", "stop")  # MULTI/EXEC: SET + PUBLISH
    assert security.check_tool_call(tool_name="t", agent_id="a:b").final_decision.reasons[0].code == (
        "AGENT_KILL_SWITCH"
    )
    ks.revive_all()  # SCAN + multi-key DEL
    assert store.admit(["f1", "f2"], [WindowLimit("w1", 9, 60), WindowLimit("w2", 9, 60)], [CounterLimit("c", 9)])
    assert store.get_many(["f1", "f2"]) == [None, None]
    assert store.delete("w1")  # DEL of the value and the window keys
    assert store.delete_prefix("") > 0
    security.shutdown()
    store.close()


def test_the_audit_stream_and_witness_keys_share_the_namespace_slot(cluster_node: int, tmp_path: Any) -> None:
    from agent_security.core.audit import read_redis_stream

    url = f"redis://127.0.0.1:{cluster_node}/0"
    config = tmp_path / "c.toml"
    config.write_text(f'[core]\nstore_namespace = "app"\n[core.audit]\nredis_stream = "{url}"\n')
    security = AgentSecurity(config_path=config, policy_engine=StaticEngine(lambda r: Decision.allow("OK")))
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    security.shutdown()
    assert len(list(read_redis_stream(url, namespace="app"))) >= 1
