"""Guardian benchmark: what the guardian adds to a check.

Measured:

* the guardian's own work per audit event: ``GuardianAgent.process_event`` on a check's ``decision``
  event, 1,000 agents x 4 tools round-robin, every detector on (finance blueprint: fixed thresholds,
  learned baselines, two sequences, allowed hours in a timezone, first use, denial bursts); p50 / p99 /
  mean in microseconds (the mean includes the writes of detection state to the store). This is the
  work the audit hook does, outside the trail's lock (under the guardian's own lock);
* the whole check (``AgentSecurity.check_tool_call``, memory store, kill switch) without the guardian,
  with it analysing inline (the default: a kill holds from the very next call) and with
  ``analysis = "background"`` (the check only queues its event), p50 and mean each, and the differences.

The usual call is analysed by the guardian's speed code (``agent_security/guardian/_speedups.py``), which
these figures cover; ``tests/guardian/test_speedups.py`` holds it equal to the reference analysis.

Budget (issue 21): <= 5 us p50 added per check. Timestamps advance 10 ms per event, so windows slide,
intervals close and baselines learn during the run; no incident is raised (the thresholds are not
reached), which is the common case being priced.

Usage: ``python benchmarks/bench_guardian.py [--iterations 50000] [--agents 1000]``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _report

from agent_security.core import AgentSecurity, AuditEvent, MemoryStore, Outcome
from agent_security.core.builtin import kill_switch
from agent_security.core.testing import FakeClock
from agent_security.guardian import BLUEPRINT_FINANCE, GuardianAgent

TOOLS = ("query_customer_db", "send_report", "list_accounts", "read_ledger")
POLICY = """{"version": "1.0.0", "generated_at": "2026-01-01T00:00:00.000Z", "expires_at": "2099-01-01T00:00:00.000Z",
 "rules": [{"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
 "defaults": {"outcome": "DENY"}}"""
CONFIG = BLUEPRINT_FINANCE.with_overrides(
    mode="monitor", frequency_threshold=10_000, volume_threshold=100_000, first_use_after_s=10**7
)


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99 and mean."""
    samples.sort()
    return _report.percentile(samples, 0.5), _report.percentile(samples, 0.99), sum(samples) / len(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=1_000)
    args = parser.parse_args()
    clock = __import__("time").perf_counter_ns

    # -- the hook's own work ----------------------------------------------------------------------------
    guardian = GuardianAgent(CONFIG, store=MemoryStore())
    start = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    events = [
        AuditEvent(
            kind="decision",
            agent_id=f"agent-{i % args.agents}",
            tool_name=TOOLS[(i // args.agents) % len(TOOLS)],
            environment="prod",
            outcome=Outcome.ALLOW,
            allowed=True,
            timestamp=start + timedelta(milliseconds=10 * i),
        )
        for i in range(args.iterations)
    ]
    for event in events[: args.agents * len(TOOLS)]:  # every agent and tool seen once (state loaded)
        guardian.process_event(event)
    process = guardian.process_event
    samples: list[float] = []
    for event in events:
        t0 = clock()
        process(event)
        samples.append((clock() - t0) / 1000)
    hook_p50, hook_p99, hook_mean = _percentiles(samples)

    # -- the whole check, with and without --------------------------------------------------------------
    def whole(analysis: str | None) -> tuple[float, float]:
        fake = FakeClock(start)
        plugins: list[object] = [kill_switch()]
        if analysis is not None:
            plugins.append(GuardianAgent(CONFIG.with_overrides(analysis=analysis)))
        security = AgentSecurity(
            policy_json=POLICY, autoload=False, plugins=plugins, store=MemoryStore(clock=fake), clock=fake
        )
        n = max(5_000, args.iterations // 5)
        for i in range(2_000):
            security.check_tool_call(tool_name=TOOLS[i % 4], agent_id=f"agent-{i % 200}", environment="prod")
        times: list[float] = []
        for i in range(n):
            fake.advance(0.01)
            t0 = clock()
            security.check_tool_call(tool_name=TOOLS[i % 4], agent_id=f"agent-{i % 200}", environment="prod")
            times.append((clock() - t0) / 1000)
        security.shutdown()
        p50, _, mean = _percentiles(times)
        return p50, mean

    without, without_mean = whole(None)
    with_guardian, with_mean = whole("inline")
    background, background_mean = whole("background")

    print(_report.machine())
    print(f"agents: {args.agents:,} x {len(TOOLS)} tools; events: {args.iterations:,}")
    print(f"guardian per event   p50 {hook_p50:8.2f} us   p99 {hook_p99:8.2f} us   mean {hook_mean:8.2f} us")
    print(f"check without        p50 {without:8.2f} us   mean {without_mean:8.2f} us")
    inline_added, background_added = with_guardian - without, background - without
    print(f"check with guardian  p50 {with_guardian:8.2f} us   mean {with_mean:8.2f} us   (+{inline_added:.2f} p50)")
    print(f"  background analysis p50 {background:8.2f} us   mean {background_mean:8.2f} us  (+{background_added:.2f})")
    _report.report(
        [
            _report.Budget("guardian per audit event p50", hook_p50, 5.0, " us"),
            _report.Budget("guardian per audit event p99", hook_p99, None, " us"),
            _report.Budget("guardian per audit event mean (state writes included)", hook_mean, None, " us"),
            _report.Budget("check with guardian - without, p50", inline_added, 5.0, " us"),
            _report.Budget("check with background guardian - without, p50", background_added, 5.0, " us"),
        ]
    )


if __name__ == "__main__":
    main()
