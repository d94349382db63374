"""Posture throughput: exporting a trail to each SIEM format (events/s) and building the full posture report
(read, verify, summarise, score, four compliance frameworks, HTML) on a 100,000-event trail.

Prints figures, then budget lines (PASS/MISS, never a failure). ``python benchmarks/bench_posture.py
[--events N]``.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _report import Budget, machine, report

from agent_security.core.audit import AuditTrail, JsonlAuditSink
from agent_security.core.models import AuditEvent, Outcome, Reason
from agent_security.posture.report import PostureReport
from agent_security.posture.soc import AuditExporter
from agent_security.posture.trail import TrailReader

OUTCOMES = [Outcome.ALLOW] * 7 + [Outcome.DENY] * 2 + [Outcome.REQUIRE_APPROVAL]
TOOLS = ["query_db", "send_email", "read_file", "delete_records", "http_request", "shell", "write_file"]


def write_trail(path: Path, n: int) -> None:
    """A trail of ``n`` chained events: decisions of 200 agents over 50 tools across a week, with some
    guardian incidents and kills."""
    sink = JsonlAuditSink(path, fsync=False)
    trail = AuditTrail.open(sink.agent_security_audit_event, [sink])
    start = datetime(2026, 6, 1, tzinfo=UTC)
    trail.record(
        AuditEvent(
            kind="lifecycle",
            timestamp=start,
            data={
                "lifecycle": "startup",
                "registered": [
                    "kill_switch",
                    "egress-enforcer",
                    "identity-enforcer",
                    "supply_chain_guard",
                    "rate_limiter",
                ],
            },
        )
    )
    for i in range(1, n):
        when = start + timedelta(seconds=i * 6)
        agent = f"agent-{i % 200}"
        if i % 5000 == 0:
            trail.record(
                AuditEvent(
                    kind="guardian.incident",
                    timestamp=when,
                    agent_id=agent,
                    data={
                        "incident_id": f"inc-{i}",
                        "type": "frequency_spike",
                        "severity": "high",
                        "description": "spike",
                    },
                )
            )
            continue
        if i % 20000 == 0:
            trail.record(AuditEvent(kind="kill_switch.kill", timestamp=when, agent_id=agent, data={"reason": "x"}))
            continue
        outcome = OUTCOMES[i % len(OUTCOMES)]
        tool = f"{TOOLS[i % len(TOOLS)]}_{i % 50}"
        trail.record(
            AuditEvent(
                kind="decision",
                timestamp=when,
                request_id=f"r{i}",
                agent_id=agent,
                tool_name=tool,
                environment="prod",
                outcome=outcome,
                allowed=outcome is Outcome.ALLOW,
                reasons=(Reason(code=f"RULE_{outcome.value}", message="matched rule | with = signs"),),
                plugin_source="policy",
            )
        )
    sink.close()


def best(runs: int, fn: object) -> tuple[float, float]:
    """Best and worst wall time of ``runs`` calls."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"posture benchmark on {machine()}")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "trail.jsonl"
        t = time.perf_counter()
        write_trail(path, args.events)
        print(
            f"  wrote {args.events:,} chained events in {time.perf_counter() - t:.1f} s "
            f"({path.stat().st_size / 1e6:.0f} MB)"
        )
        events = list(TrailReader(path).events())
        read_best, _ = best(args.runs, lambda: sum(1 for _ in TrailReader(path).events()))
        print(f"  read and parse                            {len(events) / read_best:>10,.0f} events/s")
        exporter = AuditExporter()
        rates: dict[str, float] = {}
        for fmt in ("cef", "leef", "ocsf", "syslog", "csv", "jsonl"):
            fast, slow = best(args.runs, lambda fmt=fmt: exporter.write(events, fmt, io.StringIO()))
            rates[fmt] = len(events) / fast
            print(
                f"  export {fmt:<7} (formatting only)          {rates[fmt]:>10,.0f} events/s "
                f"(spread {len(events) / slow:,.0f}-{rates[fmt]:,.0f})"
            )
        now = datetime(2026, 6, 9, tzinfo=UTC)
        timings: dict[str, tuple[float, float]] = {
            "report, verified": best(args.runs, lambda: PostureReport.from_trail(path, now=now)),
            "report, not verified": best(args.runs, lambda: PostureReport.from_trail(path, now=now, verify=False)),
        }
        report_obj = PostureReport.from_trail(path, now=now, verify=False)
        timings["HTML render"] = best(args.runs, report_obj.to_html)
        for name, (fast, slow) in timings.items():
            print(f"  {name:<40} {fast:>8.2f} s   (spread {fast:.2f}-{slow:.2f} s, {args.events:,} events)")
    report(
        [
            Budget("export CEF events/s", rates["cef"], 20_000, "", at_most=False, digits=0),
            Budget("export OCSF events/s", rates["ocsf"], 15_000, "", at_most=False, digits=0),
            Budget("export syslog events/s", rates["syslog"], 15_000, "", at_most=False, digits=0),
            Budget(
                f"posture report, {args.events // 1000}k events, verified (s)",
                timings["report, verified"][0],
                20.0,
                " s",
            ),
            Budget(
                f"posture report, {args.events // 1000}k events, no verify (s)",
                timings["report, not verified"][0],
                10.0,
                " s",
            ),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
