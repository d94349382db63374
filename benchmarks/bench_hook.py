"""A hook's cold round trip: ``agent-security check`` in a fresh process, as a host hook runs it.

A host hook (Claude Code's PreToolUse, a Git hook, a CI step) starts ``agent-security check`` for every
tool call, pipes the call as JSON on stdin and reads the decision from stdout and the exit code. Each
call pays the interpreter's start, the imports, building the pipeline (discovering and importing every
installed distribution) and the check. Measured here:

* the round trip: the wall time of ``agent-security check --policy examples/policies/default-policy.json``
  with a small call on stdin, median of ``--runs`` (default 20) after two warm-up runs (so the bytecode
  cache is written, as it is after a user's first call), run from an empty directory with no config;
  interleaved with the interpreter-start runs and the breakdown probes below, so that all of them come
  from the same minutes of a machine whose load may change;
* the same with no bytecode cache at all (``PYTHONPYCACHEPREFIX`` pointing to an empty folder and
  ``PYTHONDONTWRITEBYTECODE``: every module compiled from source, the standard library's too, so an
  upper bound for the first call after an install that wrote no ``.pyc``), median of 3;
* where the time goes, inside a fresh process (median of 5): interpreter start (``python -c pass``),
  ``import agent_security.core``, the CLI module (click), ``AgentSecurity(policy_path=...,
  autoload=False)``, autoload (discovering and importing the other distributions), one check, shutdown,
  the interpreter's exit;
* ``python -X importtime -c "import agent_security.core"``: what importing the core pulls in, by
  package (self time) and by the core's own direct imports (cumulative).

Budget (issue 17, "speed a user does not feel"): without a daemon, a hook call answers in <= 150 ms
median on a 2-core machine.

Usage: ``python benchmarks/bench_hook.py [--runs 20] [--write-docs]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _report

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "examples" / "policies" / "default-policy.json"
CALL = {
    "tool_name": "query_database",
    "tool_args": {"query": "SELECT name FROM users LIMIT 10"},
    "agent_id": "hook",
    "environment": "dev",
    "session_id": "hook-session",
}
BUDGET_MS = 150.0
PROBES = 5

PROBE = """
import json, sys, time
t0 = time.perf_counter()
import agent_security.core
t1 = time.perf_counter()
import agent_security.core.cli
t2 = time.perf_counter()
from agent_security.core import AgentSecurity
bare = AgentSecurity(policy_path=sys.argv[1], autoload=False, mode="enforce")
t3 = time.perf_counter()
security = AgentSecurity(policy_path=sys.argv[1], mode="enforce")
t4 = time.perf_counter()
result = security.check_tool_call(**json.loads(sys.argv[2]))
t5 = time.perf_counter()
security.shutdown()
bare.shutdown()
t6 = time.perf_counter()
assert result.allowed, result
print(json.dumps({"import agent_security.core": t1 - t0, "import the CLI (click)": t2 - t1,
                  "AgentSecurity(autoload=False)": t3 - t2, "autoload: the other distributions": t4 - t3,
                  "check_tool_call": t5 - t4, "shutdown": t6 - t5}))
"""


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a hook: no agent-security config, no Python overrides, a private home."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGENT_SECURITY_", "PYTHON")) and k not in {"VIRTUAL_ENV"}
    }
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **extra)
    return env


def timed_run(cmd: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-1000:]}{proc.stderr[-2000:]}")
    return elapsed * 1000


def cli_path() -> str:
    script = Path(sys.executable).parent / ("agent-security.exe" if os.name == "nt" else "agent-security")
    if not script.exists():
        raise SystemExit(f"{script} not found: install the workspace first (make sync)")
    return str(script)


def importtime(env: dict[str, str], cwd: Path) -> tuple[float, list[tuple[str, float]], list[tuple[str, float]]]:
    """Total, self time per package, and cumulative time per direct import of ``agent_security.core``
    (milliseconds, as ``-X importtime`` reports them: inflated by its own bookkeeping)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import agent_security.core"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=True,
    )
    # Children are printed before their parent: the lines since the previous top-level line are the
    # import tree of the next top-level module (the interpreter's own start-up imports come first).
    tree: list[tuple[int, str, int, int]] = []
    total = 0.0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        own, cumulative, name = line[len("import time:") :].split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        tree.append((depth, name.strip(), int(own), int(cumulative)))
        if depth == 0:
            if name.strip() == "agent_security.core":
                total = int(cumulative) / 1000
                break
            tree = []
    by_package: dict[str, float] = defaultdict(float)
    direct: list[tuple[str, float]] = []
    for depth, module, self_us, cumulative_us in tree:
        parts = module.split(".")
        if parts[0] == "agent_security":
            package = ".".join(parts[:3])
        elif parts[0] in sys.stdlib_module_names or parts[0].startswith("_"):
            package = f"{parts[0]} (standard library)"
        else:
            package = parts[0]
        by_package[package] += self_us / 1000
        if depth == 1:
            direct.append((module, cumulative_us / 1000))
    return total, sorted(by_package.items(), key=lambda kv: -kv[1]), sorted(direct, key=lambda kv: -kv[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed hook calls")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the figures in docs/benchmarks.md")
    args = parser.parse_args()
    cli = cli_path()
    stdin = json.dumps(CALL)
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        home = Path(tmp)
        work = home / "project"
        work.mkdir()
        env = clean_env(home)
        hook = [cli, "check", "--policy", str(POLICY)]
        for _ in range(2):
            timed_run(hook, env, work, stdin)
        # The round trips, the interpreter's start and the breakdown probes are interleaved, so that all
        # come from the same minutes of a machine whose load may change.
        warm: list[float] = []
        starts: list[float] = []
        probes: list[tuple[float, dict[str, float]]] = []
        for i in range(args.runs):
            warm.append(timed_run(hook, env, work, stdin))
            starts.append(timed_run([sys.executable, "-c", "pass"], env, work))
            if i % max(1, args.runs // PROBES) == 0 and len(probes) < PROBES:
                t0 = time.perf_counter()
                proc = subprocess.run(
                    [sys.executable, "-c", PROBE, str(POLICY), stdin],
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=work,
                    check=True,
                )
                wall = (time.perf_counter() - t0) * 1000
                probes.append((wall, json.loads(proc.stdout.strip().splitlines()[-1])))
        warm.sort()
        cold = []
        for i in range(3):
            cache = home / f"no-pyc-{i}"
            cold.append(
                timed_run(
                    hook, clean_env(home, PYTHONPYCACHEPREFIX=str(cache), PYTHONDONTWRITEBYTECODE="1"), work, stdin
                )
            )
        startup = statistics.median(starts)
        steps: dict[str, list[float]] = defaultdict(list)
        for wall, inside in probes:
            for step, seconds in inside.items():
                steps[step].append(seconds * 1000)
            steps["interpreter exit (module teardown)"].append(wall - startup - sum(inside.values()) * 1000)
        total_it, packages, direct = importtime(env, work)

    median = statistics.median(warm)
    breakdown = [("interpreter start (python -c pass)", startup)]
    breakdown += [(step, statistics.median(v)) for step, v in steps.items()]
    rest = median - sum(ms for _, ms in breakdown)
    breakdown.append(("the rest (click, stdin, the JSON answer; by difference)", rest))
    print(f"machine: {_report.machine()}")
    print(
        f"hook round trip: median {median:.0f} ms, min {warm[0]:.0f}, max {warm[-1]:.0f} ({args.runs} runs); "
        f"with no bytecode cache: median {statistics.median(cold):.0f} ms (3 runs)"
    )
    print(f"where the time goes (median of {len(probes)} fresh processes):")
    for step, ms in breakdown:
        print(f"  {step:<56} {ms:>7.1f} ms")
    print(
        f"python -X importtime -c 'import agent_security.core': {total_it:.0f} ms (inflated by importtime); "
        "self time by package:"
    )
    for package, ms in packages[:12]:
        print(f"  {package:<56} {ms:>7.1f} ms  {ms / total_it:>4.0%}")
    print("  cumulative, by direct import of agent_security.core (the first importer pays):")
    for module, ms in direct[:8]:
        print(f"    {module:<54} {ms:>7.1f} ms")
    budgets = [
        _report.Budget("hook round trip, median (no daemon)", median, BUDGET_MS, " ms", digits=0),
        _report.Budget("hook round trip, no bytecode cache", statistics.median(cold), None, " ms", digits=0),
        _report.Budget(
            "import agent_security.core", statistics.median(steps["import agent_security.core"]), None, " ms", digits=0
        ),
    ]
    _report.report(budgets)
    if args.write_docs:
        lines = [
            f"Measured {_report.today()} on {_report.machine()} (`python benchmarks/bench_hook.py`): "
            f"`agent-security check` round trip median {median:.0f} ms (min {warm[0]:.0f}, {args.runs} runs); "
            f"with no bytecode cache {statistics.median(cold):.0f} ms.",
            "",
            f"| where the time goes (fresh process, median of {len(probes)}) | ms |",
            "|---|---|",
        ]
        lines += [f"| {step} | {ms:.1f} |" for step, ms in breakdown]
        lines += [
            "",
            f'`python -X importtime -c "import agent_security.core"`: {total_it:.0f} ms in all '
            "(inflated by importtime's own bookkeeping); self time by package:",
            "",
            "| package | ms | share |",
            "|---|---|---|",
        ]
        lines += [f"| {package} | {ms:.1f} | {ms / total_it:.0%} |" for package, ms in packages[:12]]
        lines += ["", *_report.BUDGET_HEADER, *(b.row() for b in budgets)]
        _report.write_docs("hook", lines)


if __name__ == "__main__":
    main()
