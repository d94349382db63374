"""Threads sharing one AgentSecurity: total checks per second with 1, 2 and 8 threads.

The core-only full check of ``bench_pipeline.py`` (100 rules, kill switch, rate limiter, session
context, hash-chained audit), ONE instance shared by every thread. Each thread cycles the workload's
ten calls under its own agent and session ids (``agent-ops@t3``), so no thread uses up another's
limits and every decision is known in advance: each thread counts its allowed calls and the run fails
if the count differs from the workload's (a race that changes a decision is an error, not a timing).

One measurement: a fresh instance, the mix run single-threaded until each thread's session limit is
used up, then ``--n`` checks split evenly over the threads, started together by a barrier; the wall
time from the barrier to the last join gives checks/s, and the process's CPU time (all threads) per
check is reported beside it (a machine shared with other work slows the wall clock, less so the CPU
time; lock hand-offs and convoys show in both). Each round measures 1 and 8 threads next to each other,
in alternating order (1, 8, 2 then 2, 8, 1), for ``--rounds`` rounds (default 7), so that a machine
whose speed drifts slows both alike; the ratio is the median of the per-round ratios. Budget (issue
15): 8 threads >= 0.9x the single-thread throughput. The CPython GIL lets one thread run Python at a
time: the budget asks that sharing the instance costs little, not that threads add speed.

Usage: ``python benchmarks/bench_threads.py [--n 20000] [--rounds 7] [--write-docs]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _ours
import _report
import _workload

THREADS = (1, 2, 8)
ORDERS = ((1, 8, 2), (2, 8, 1))
BUDGET = 0.9


def expected_allowed(k: int) -> int:
    """Allowed calls among the first ``k`` calls of the mix in the steady state."""
    allowed = [bool(req["expected"]["allowed"]) for req in _workload.REQUESTS]
    full, rest = divmod(k, len(allowed))
    return full * sum(allowed) + sum(allowed[:rest])


def measure(threads: int, n: int) -> tuple[float, float]:
    """Checks per wall-clock second of ``threads`` threads sharing one instance (``n`` checks in total),
    and the process's CPU time per check in microseconds (all threads)."""
    tags = [f"t{i}" for i in range(threads)]
    security = _ours.build_core(tags)
    mixes = [_ours.requests(tag) for tag in tags]
    for mix in mixes:
        _ours.check_steady_state(security, mix)
    per_thread = n // threads
    barrier = threading.Barrier(threads + 1)
    allowed = [0] * threads
    errors: list[BaseException] = []

    def work(index: int) -> None:
        check = security.check_tool_call
        mix = mixes[index]
        m = len(mix)
        count = 0
        try:
            barrier.wait()
            for i in range(per_thread):
                count += check(**mix[i % m]).allowed
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        allowed[index] = count

    workers = [threading.Thread(target=work, args=(i,), name=f"bench-{i}") for i in range(threads)]
    for w in workers:
        w.start()
    gc.collect()
    barrier.wait()
    t0, c0 = time.perf_counter(), time.process_time()
    for w in workers:
        w.join()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if errors:
        raise SystemExit(f"a checking thread failed: {errors[0]!r}")
    if allowed != [expected_allowed(per_thread)] * threads:
        raise SystemExit(
            f"decisions changed under {threads} threads: allowed {allowed}, "
            f"expected {expected_allowed(per_thread)} each"
        )
    log = security.get_audit_log()
    if not all(log[i].prev_hash == log[i - 1].hash for i in range(1, len(log))):
        raise SystemExit(f"the audit chain is broken under {threads} threads")
    security.shutdown()
    done = per_thread * threads
    return done / elapsed, cpu / done * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="checks per measurement (split over the threads)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--write-docs", action="store_true", help="rewrite the figures in docs/benchmarks.md")
    args = parser.parse_args()
    rates: dict[int, list[float]] = {t: [] for t in THREADS}
    cpu: dict[int, list[float]] = {t: [] for t in THREADS}
    measure(1, min(args.n, 2_000))  # warm the interpreter (first imports, caches) before any timing
    for r in range(args.rounds):
        # 1 and 8 threads next to each other, in alternating order, so that drift cancels out.
        for t in ORDERS[r % 2]:
            rate, cpu_us = measure(t, args.n)
            rates[t].append(rate)
            cpu[t].append(cpu_us)
        print(
            f"round {r + 1}/{args.rounds}: " + ", ".join(f"{t} threads {rates[t][-1]:,.0f}/s" for t in THREADS),
            flush=True,
        )
    ratios = {t: statistics.median(x / y for x, y in zip(rates[t], rates[1], strict=True)) for t in THREADS}
    cpu_ratios = {t: statistics.median(x / y for x, y in zip(cpu[t], cpu[1], strict=True)) for t in THREADS}
    print(f"machine: {_report.machine()}; {args.n:,} checks per measurement, median of {args.rounds} rounds")
    print(
        f"{'threads on one instance':<24} {'checks/s':>10} {'vs 1 thread':>12} {'CPU us/check':>13} {'vs 1 thread':>12}"
    )
    for t in THREADS:
        print(
            f"{t:<24} {statistics.median(rates[t]):>10,.0f} {ratios[t]:>11.2f}x "
            f"{statistics.median(cpu[t]):>13.1f} {cpu_ratios[t]:>11.2f}x"
        )
    budgets = [
        _report.Budget("8 threads / 1 thread throughput", ratios[8], BUDGET, "x", at_most=False),
        _report.Budget("2 threads / 1 thread throughput", ratios[2], None, "x", at_most=False),
        _report.Budget("8 threads / 1 thread CPU time per check", cpu_ratios[8], None, "x"),
    ]
    _report.report(budgets)
    if args.write_docs:
        lines = [
            f"Measured {_report.today()} on {_report.machine()}: {args.n:,} checks per measurement, "
            f"median of {args.rounds} rounds (`python benchmarks/bench_threads.py`).",
            "",
            "| threads on one instance | checks/s | vs 1 thread | CPU µs per check | vs 1 thread |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {t} | {statistics.median(rates[t]):,.0f} | {ratios[t]:.2f}x | {statistics.median(cpu[t]):.1f} "
            f"| {cpu_ratios[t]:.2f}x |"
            for t in THREADS
        ]
        lines += ["", *_report.BUDGET_HEADER, *(b.row() for b in budgets)]
        _report.write_docs("threads", lines)


if __name__ == "__main__":
    main()
