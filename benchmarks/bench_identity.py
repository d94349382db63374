"""Identity benchmark: the per-check cost of the identity enforcer with 10,000 registered agents.

Measured:

* the enforcer's own hook: ``agent_security_identify`` called directly in a loop with a realistic
  request (a registered agent, claimed fields as a host sends them, a registered tool) and a check
  context, round-robin over 1,000 of the 10,000 agents; p50 / p99 in microseconds;
* the whole check (``AgentSecurity.check_tool_call`` with the example policy) with and without the
  enforcer, p50 each, and the difference.

Budget (issue 18): the enforcer's hook, p50 <= 5 us. Registry lookups are dict reads of an in-process
snapshot refreshed through the store's version key (``refresh_s``, default 1 s), so the cost does not
grow with the number of agents.

Usage: ``python benchmarks/bench_identity.py [--agents 10000] [--iterations 20000]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _report

from agent_security.core import AgentSecurity, MemoryStore
from agent_security.core.pipeline.request import RequestDefaults, build_request
from agent_security.core.testing import make_context
from agent_security.identity import AgentRegistry, ToolRegistry, identity_enforcer

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "examples" / "identity" / "policy.json"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    return _report.percentile(samples, 0.5), _report.percentile(samples, 0.99)


def _call(i: int) -> dict[str, object]:
    return {
        "tool_name": "query_customer_db",
        "agent_id": f"agent-{i}",
        "tool_args": {"query": "SELECT 1"},
        "environment": "prod",
        "trust_level": "verified",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=20_000)
    args = parser.parse_args()

    store = MemoryStore()
    agents, tools = AgentRegistry(store=store), ToolRegistry(store=store)
    agents.load_records(
        {"agent_id": f"agent-{i}", "trust_level": "verified", "roles": ["db.reader"], "environment": "prod"}
        for i in range(args.agents)
    )
    tools.register(tool_name="query_customer_db", version="1.0.0", provider="built-in")
    enforcer = identity_enforcer(agent_registry=agents, tool_registry=tools, minimum_trust_level="basic")
    enforcer.bind_store(store)

    defaults = RequestDefaults("prod", "unknown")
    ctx = make_context(store)
    live = 1_000
    requests = [
        build_request(
            defaults,
            ctx.now,
            tool_name="query_customer_db",
            agent_id=f"agent-{i}",
            tool_args={"query": "SELECT 1"},
            environment="prod",
            trust_level="verified",
        )
        for i in range(live)
    ]
    hook = enforcer.agent_security_identify
    for r in requests:  # warm up
        hook(r, ctx)
    samples: list[float] = []
    clock = time.perf_counter_ns
    for n in range(args.iterations):
        request = requests[n % live]
        t0 = clock()
        hook(request, ctx)
        samples.append((clock() - t0) / 1000)
    hook_p50, hook_p99 = _percentiles(samples)

    def whole(plugins: list[object]) -> float:
        security = AgentSecurity(policy_path=POLICY, autoload=False, plugins=plugins, store=store)
        call = {"tool_name": "query_customer_db", "tool_args": {"query": "SELECT 1"}, "environment": "prod"}
        for i in range(200):
            security.check_tool_call(**call, agent_id=f"agent-{i}")
        times: list[float] = []
        for n in range(max(2_000, args.iterations // 10)):
            t0 = clock()
            security.check_tool_call(**call, agent_id=f"agent-{n % live}")
            times.append((clock() - t0) / 1000)
        security.shutdown()
        return _percentiles(times)[0]

    without = whole([])
    fresh = identity_enforcer(agent_registry=agents, tool_registry=tools, minimum_trust_level="basic")
    with_enforcer = whole([fresh])

    print(_report.machine())
    print(f"registered agents: {agents.size:,}; hook iterations: {args.iterations:,}")
    print(f"identify hook       p50 {hook_p50:8.2f} us   p99 {hook_p99:8.2f} us")
    print(f"check without       p50 {without:8.2f} us")
    print(f"check with enforcer p50 {with_enforcer:8.2f} us   (+{with_enforcer - without:.2f} us)")
    _report.report(
        [
            _report.Budget("identity hook p50 (10,000 agents)", hook_p50, 5.0, " us"),
            _report.Budget("identity hook p99 (10,000 agents)", hook_p99, None, " us"),
            _report.Budget("check with identity - without, p50", with_enforcer - without, None, " us"),
        ]
    )


if __name__ == "__main__":
    main()
