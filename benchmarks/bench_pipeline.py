"""Full-pipeline latency: our check against Microsoft's Agent Governance Toolkit (AGT), same run.

The workload (``_workload.py``): a 100-rule policy, kill switch, per-agent rate limiter, session tool
limits and a hash-chained in-memory audit trail; ten tool calls cycled; 1,000 warm-up then ``--n``
timed calls, each timed with ``perf_counter_ns``, the garbage collector enabled (one full collection
before timing: its pauses belong in the tail). Three pipelines, each in a fresh process:

* ``core``: the core-only full check of issue 15's budget (``_ours.build_core``: autoload off);
* ``default``: a default install's check: the same policy and controls with every installed
  distribution autoloaded (``_ours.build_default``);
* ``agt``: AGT's full stack on the same workload (``_agt.py`` installs it into ``.bench-venvs/agt``
  with uv or pip; when that fails the comparison is skipped with the reason).

The three run one after the other, ``--rounds`` times (default 3), so that a machine whose speed drifts
(a shared CI runner) slows both sides alike; each side's figure is the median over rounds, each ratio
the median of the per-round ratios. Budgets (issue 15): core p50 <= 0.35x AGT's p50, core p99 <= 0.5x
AGT's p99. A miss is reported, never an error.

Usage: ``python benchmarks/bench_pipeline.py [--n 20000] [--rounds 3] [--no-agt] [--no-default]
[--write-docs]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _report
import _workload

P50_BUDGET = 0.35
P99_BUDGET = 0.5
NAMES = {"core": "agent-security core only", "default": "agent-security default install"}


def measure(kind: str, n: int, warmup: int) -> dict[str, Any]:
    """Time ``n`` checks of the mix through our ``kind`` pipeline in this process."""
    import _ours

    security = _ours.build_core() if kind == "core" else _ours.build_default()
    kwargs_list = _ours.requests()
    # The default install adds plugins that may decide first (the supply-chain guard blocks the
    # destructive shell command itself): the same calls must be allowed or not, the codes may differ.
    _ours.check_steady_state(security, kwargs_list, codes=kind == "core")
    check = security.check_tool_call
    m = len(kwargs_list)
    for i in range(warmup):
        check(**kwargs_list[i % m])
    perf = time.perf_counter_ns
    samples = [0.0] * n
    gc.collect()
    for i in range(n):
        kwargs = kwargs_list[i % m]
        t0 = perf()
        check(**kwargs)
        samples[i] = (perf() - t0) / 1000
    log = security.get_audit_log()
    if not all(log[i].prev_hash == log[i - 1].hash for i in range(1, len(log))):
        raise SystemExit("the audit chain is broken")
    security.shutdown()
    samples.sort()
    return {
        "tool": NAMES[kind],
        "kind": kind,
        "n": n,
        "p50_us": _report.percentile(samples, 0.5),
        "p90_us": _report.percentile(samples, 0.9),
        "p99_us": _report.percentile(samples, 0.99),
        "mean_us": statistics.fmean(samples),
    }


def run_worker(kind: str, n: int) -> dict[str, Any]:
    """:func:`measure` in a fresh interpreter (same Python), so each pipeline starts from a clean heap."""
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--n", str(n)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"the {kind} worker failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return dict(json.loads(lines[-1]))


def _median(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(rows[0])
    for key in ("p50_us", "p90_us", "p99_us", "mean_us"):
        out[key] = statistics.median(r[key] for r in rows)
    out["rounds"] = len(rows)
    return out


def _ratio(ours: list[dict[str, Any]], agt: list[dict[str, Any]], key: str) -> float | None:
    if not agt:
        return None
    return statistics.median(float(o[key]) / float(a[key]) for o, a in zip(ours, agt, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=_workload.TIMED, help="timed calls per pipeline and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-agt", action="store_true", help="skip the AGT side")
    parser.add_argument("--no-default", action="store_true", help="skip the default-install pipeline")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the figures in docs/benchmarks.md")
    parser.add_argument("--worker", choices=sorted(NAMES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.n, _workload.WARMUP)))
        return

    kinds = ["core"] + ([] if args.no_default else ["default"])
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in [*kinds, "agt"]}
    agt_missing = args.no_agt
    for r in range(args.rounds):
        for kind in kinds:
            runs[kind].append(run_worker(kind, args.n))
        if not agt_missing:
            from _agt import run_agt

            agt = run_agt(n=args.n)
            if agt is None:
                agt_missing = True
                print("AGT unavailable (see the [agt] lines above): the ratios are not measured.", file=sys.stderr)
            else:
                runs["agt"].append(agt)
        print(
            f"round {r + 1}/{args.rounds}: "
            + ", ".join(f"{k} p50 {v[-1]['p50_us']:.1f} us" for k, v in runs.items() if v and len(v) == r + 1),
            flush=True,
        )
    if agt_missing:
        runs["agt"] = []

    rows = [_median(v) for v in runs.values() if v]
    print(f"machine: {_report.machine()}; {args.n} timed calls per pipeline, median of {args.rounds} rounds")
    print(f"{'pipeline':<44} {'p50 us':>8} {'p90 us':>8} {'p99 us':>8} {'mean us':>8}")
    for row in rows:
        name = row["tool"] + (f" {row['version']}" if row.get("version") else "")
        print(f"{name:<44} {row['p50_us']:>8.1f} {row['p90_us']:>8.1f} {row['p99_us']:>8.1f} {row['mean_us']:>8.1f}")
    budgets = [
        _report.Budget("core p50 / AGT p50", _ratio(runs["core"], runs["agt"], "p50_us"), P50_BUDGET, "x"),
        _report.Budget("core p99 / AGT p99", _ratio(runs["core"], runs["agt"], "p99_us"), P99_BUDGET, "x"),
    ]
    if "default" in kinds:
        budgets += [
            _report.Budget("default install p50 / AGT p50", _ratio(runs["default"], runs["agt"], "p50_us"), None, "x"),
            _report.Budget("default install p99 / AGT p99", _ratio(runs["default"], runs["agt"], "p99_us"), None, "x"),
        ]
    _report.report(budgets)
    if args.write_docs:
        lines = [
            f"Measured {_report.today()} on {_report.machine()}: {args.n:,} timed calls per pipeline, "
            f"median of {args.rounds} rounds (`python benchmarks/bench_pipeline.py`).",
            "",
            "| pipeline | p50 (µs) | p90 (µs) | p99 (µs) | mean (µs) |",
            "|---|---|---|---|---|",
        ]
        for row in rows:
            name = row["tool"] + (f" {row['version']}" if row.get("version") else "")
            lines.append(
                f"| {name} | {row['p50_us']:.1f} | {row['p90_us']:.1f} | {row['p99_us']:.1f} | {row['mean_us']:.1f} |"
            )
        if runs["agt"]:
            parts = runs["agt"][-1].get("breakdown_mean_us") or {}
            lines += [
                "",
                "AGT's components alone, mean over the mix (last round): "
                + ", ".join(f"`{name}` {us:.1f} µs" for name, us in parts.items())
                + ".",
            ]
        lines += ["", *_report.BUDGET_HEADER, *(b.row() for b in budgets)]
        _report.write_docs("pipeline", lines)


if __name__ == "__main__":
    main()
