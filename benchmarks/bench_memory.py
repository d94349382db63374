"""Memory over a million checks: resident set size sampled while one instance checks ``--n`` calls.

Every built-in enabled on one ``AgentSecurity`` (autoload off): the workload's 100-rule policy, the kill
switch (one agent in a hundred killed), the rate limiter (the workload's per-agent limit and the same
per agent and tool: 1,000,000 calls per 60 s, counted on every call, never tripping), session context
(the workload's per-session tool limits; the counters live in the store for their TTL), the output validator
(``action="redact"``: every tenth call goes through a ``protect()``-wrapped tool whose result holds a
token half the time) and the hash-chained audit trail with its in-memory ring (10,000 events).

Many distinct callers: 10,000 agents and 100,000 sessions, each agent running the workload's ten calls
in turn with arguments that differ on every call. A call refused by the rate limiter (or because a
store bound was reached) stops the run: the limits are set never to trip. What the instance keeps must be bounded by its
configuration (store size, session cap, ring size, the limits), not by the number of calls: the RSS
should stay flat once the caches and bounded structures are full.

Time is simulated (``--hours``, default 24): the instance's clock, the public injectable
:class:`~agent_security.core.clock.Clock`, advances evenly so that the million checks span a day of
traffic, about a dozen checks a second. Session counters then expire an hour after they were made, as
they do in production, and what the run holds is what is live, whatever the number of calls seen. On
the wall clock (``--hours 0``) the million checks take a few minutes, every session opened in the run
is still live at its end, and the store holds them all, up to its bound (``max_keys``, 100,000 keys):
that growth is the state the limits need, not a leak, which is why the budget is measured on
simulated time.

The checks run in a fresh interpreter (``--worker``), so the figures are that process's alone; the RSS
(``/proc/self/statm``; elsewhere the peak from ``getrusage``) and the number of objects the collector
tracks are sampled every ``--n``/10 checks. Budget: RSS growth from the 20% sample (200,000 checks by
default) to the end below 5%.

Usage: ``python benchmarks/bench_memory.py [--n 1000000] [--hours 24] [--write-docs]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _report
import _workload

AGENTS = 10_000
SESSIONS = 100_000
SAMPLES = 10
BUDGET_PERCENT = 5.0
SECRET = "token=sk_live_4eC39HqLyjWDarjtT1zdp7dc"


def rss_bytes() -> tuple[int, str]:
    """The current resident set size (Linux), else the peak one; and which of the two it is."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"), "current"
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak * (1 if sys.platform == "darwin" else 1024), "peak"


def run_worker(n: int, hours: float) -> None:
    """Check ``n`` calls and print one JSON line per sample (``checks``, ``rss``, ``objects``, ``seconds``)."""
    from agent_security.core import AgentSecurity, SecurityError
    from agent_security.core.builtin import kill_switch, output_validator, rate_limiter, session_context
    from agent_security.core.testing import FakeClock

    clock = FakeClock() if hours > 0 else None
    step = hours * 3600 / n if hours > 0 else 0.0

    controls = _workload.CONTROLS
    limit = controls["rate_limiter"]["max_per_minute"]
    ks = kill_switch()
    security = AgentSecurity(
        policy_bundle=_workload.POLICY,
        autoload=False,
        config={"core": {"audit": {"memory_size": 10_000}}},
        clock=clock,
        plugins=[
            ks,
            rate_limiter(
                max_per_minute=limit, max_per_minute_per_tool=limit, window_s=controls["rate_limiter"]["window_s"]
            ),
            session_context(**controls["session_context"]),
            output_validator(sensitive_patterns=[r"sk_live_[0-9A-Za-z]{16,}"], action="redact"),
        ],
    )
    for a in range(0, AGENTS, 100):
        ks.kill(f"agent-{a}", "benchmark: killed")

    def read_file(path: str) -> str:
        return f"contents of {path}" + (f" {SECRET}" if len(path) % 2 else "")

    # protect() binds the caller at wrap time: 100 wrapped tools, one per (agent, session) pair.
    protected = [
        security.protect(
            "read_file", read_file, agent_id=f"agent-{a * 97 + 1}", environment="prod", session_id=f"sess-protected-{a}"
        )
        for a in range(100)
    ]
    mix = [_workload.check_kwargs(req) for req in _workload.REQUESTS]
    m = len(mix)
    every = max(1, n // SAMPLES)
    check = security.check_tool_call
    t0 = time.perf_counter()
    allowed = 0
    redacted = 0
    for i in range(n + 1):
        if i % every == 0:
            rss, kind = rss_bytes()
            print(
                json.dumps(
                    {
                        "checks": i,
                        "rss": rss,
                        "rss_kind": kind,
                        "objects": len(gc.get_objects()),
                        "seconds": time.perf_counter() - t0,
                    }
                ),
                flush=True,
            )
        if i == n:
            break
        if clock is not None:
            clock.advance(step)
        j = i // m
        if i % 10 == 9:
            try:
                out = protected[j % 100](f"/srv/data/{i}.txt")
            except SecurityError:
                continue
            redacted += SECRET not in out and "sk_live" not in out and len(out) > 40
            continue
        kwargs = dict(mix[i % m])
        kwargs["tool_args"] = {**kwargs["tool_args"], "request": i}
        kwargs["agent_id"] = f"agent-{j % AGENTS}"
        kwargs["session_id"] = f"sess-{j % SESSIONS}"
        result = check(**kwargs)
        allowed += result.allowed
        code = result.final_decision.codes[0]
        if code.startswith("RATE_LIMIT") or code.endswith("_UNAVAILABLE"):
            # The limits are set never to trip: a refusal means a bound was reached, and the run would
            # measure refusals instead of checks.
            raise SystemExit(f"check {i} was refused by a control: {code}")
    log = security.get_audit_log()
    if not all(log[k].prev_hash == log[k - 1].hash for k in range(1, len(log))):
        raise SystemExit("the audit chain is broken")
    if not (0 < allowed < n and redacted > 0):
        raise SystemExit(f"unexpected decisions: {allowed} allowed, {redacted} redacted results")
    security.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="checks in total (sampled every n/10)")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the figures in docs/benchmarks.md")
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours the run spans (0: wall clock)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.n, args.hours)
        return
    print(f"{'checks':>10} {'RSS MB':>9} {'objects':>10} {'seconds':>8}")
    samples: list[dict[str, Any]] = []
    with subprocess.Popen(
        [sys.executable, __file__, "--worker", "--n", str(args.n), "--hours", str(args.hours)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            s = json.loads(line)
            samples.append(s)
            print(f"{s['checks']:>10,} {s['rss'] / 2**20:>9.1f} {s['objects']:>10,} {s['seconds']:>8.1f}", flush=True)
    if proc.returncode != 0 or len(samples) < 3:
        raise SystemExit(f"the memory worker failed (exit {proc.returncode})")
    base = samples[min(2, len(samples) - 1)]  # 20% of the run
    last = samples[-1]
    growth = (last["rss"] - base["rss"]) / base["rss"] * 100
    rate = last["checks"] / last["seconds"]
    print(
        f"machine: {_report.machine()}; RSS ({last['rss_kind']}) {base['rss'] / 2**20:.1f} MB at "
        f"{base['checks']:,} checks, {last['rss'] / 2**20:.1f} MB at {last['checks']:,}; {rate:,.0f} checks/s"
    )
    budgets = [
        _report.Budget(
            f"RSS growth {base['checks'] // 1000}k -> {last['checks'] // 1000}k checks",
            growth,
            BUDGET_PERCENT,
            "%",
            digits=1,
        )
    ]
    _report.report(budgets)
    if args.write_docs:
        lines = [
            f"Measured {_report.today()} on {_report.machine()}: {last['checks']:,} checks, "
            f"{rate:,.0f} checks/s, "
            + (f"spanning {args.hours:g} simulated hours" if args.hours > 0 else "on the wall clock")
            + " (`python benchmarks/bench_memory.py`).",
            "",
            "| checks | RSS (MB) | objects tracked by the collector |",
            "|---|---|---|",
        ]
        lines += [f"| {s['checks']:,} | {s['rss'] / 2**20:.1f} | {s['objects']:,} |" for s in samples]
        lines += ["", *_report.BUDGET_HEADER, *(b.row() for b in budgets)]
        _report.write_docs("memory", lines)


if __name__ == "__main__":
    main()
