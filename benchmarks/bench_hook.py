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
* ``python -X importtime -c "import agent_security.core.pipeline.facade"``: what an in-process check pulls in, by
  package (self time) and by the core's own direct imports (cumulative).

* ``agent-security hook <host>`` (issue 17), the command a host's hook entry runs, with a
  Claude-Code-shaped PreToolUse payload on stdin: with the local daemon up (``agent-security serve``,
  answering from a warm pipeline over its unix socket) and without it (``AGENT_SECURITY_DAEMON=off``: the
  same launcher, then the in-process check), interleaved, median and p95 of ``--runs`` each; the
  in-process one also with no bytecode cache (3 runs). The host is ``claude-code`` when
  ``agent_security.adapters.hooks.claude_code`` is installed, else the test host of
  ``tests/adapters/daemon/hookhost.py`` (a real check through the real pipeline), run through
  ``tests/adapters/daemon/run.py`` (the real launcher and daemon with that host registered);
  interleaved with them, a fresh process that imports pydantic and defines and validates one model (what
  any check that loads the core's pydantic models pays before the first line of agent-security runs: the
  in-process hook's floor).

Everything runs from an environment a user's ``pip install`` would give (the eight wheels built from this
tree with ``uv build``, installed with their bytecode compiled into a fresh virtual environment), not from
the workspace's editable install, whose path hooks and eight source folders on ``sys.path`` a user never
pays; ``--workspace`` measures the workspace's own environment instead.

Budgets (issue 17, "speed a user does not feel"): a hook call answers in <= 15 ms median with the
daemon up and <= 150 ms without it, on a 2-core machine.

Usage: ``python benchmarks/bench_hook.py [--runs 20] [--write-docs]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
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
PYDANTIC_FLOOR = "from pydantic import BaseModel\nclass Probe(BaseModel):\n    x: int = 0\nProbe(x=1)"
DAEMON_BUDGET_MS = 15.0
PROBES = 5
TEST_HOST_RUNNER = ROOT / "tests" / "adapters" / "daemon" / "run.py"
CLAUDE_CODE_CALL = {
    "session_id": "bench-session",
    "transcript_path": "/tmp/bench-transcript.jsonl",
    "cwd": "/tmp",
    "permission_mode": "default",
    "hook_event_name": "PreToolUse",
    "tool_name": "Bash",
    "tool_input": {"command": "ls -la", "description": "List files"},
    "tool_use_id": "toolu_bench",
}

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
print(json.dumps({"import agent_security.core": t1 - t0, "import the CLI (click, config, models, pydantic)": t2 - t1,
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


PYTHON = sys.executable
"""The interpreter of the environment measured (see :func:`installed_environment`)."""


def cli_path() -> str:
    script = Path(PYTHON).parent / ("agent-security.exe" if os.name == "nt" else "agent-security")
    if not script.exists():
        raise SystemExit(f"{script} not found: install the workspace first (make sync)")
    return str(script)


def installed_environment(folder: Path) -> str:
    """Build the eight wheels from this tree and install them, bytecode compiled, into a fresh virtual
    environment in ``folder``, as ``pip install agent-security-adapters ...`` would; its interpreter."""
    # make bench passes the uv it runs with (UV); else the uv on PATH
    uv = shlex.split(os.environ.get("UV", "")) or [shutil.which("uv") or "uv"]
    dist, venv = folder / "dist", folder / "venv"
    steps = [
        [*uv, "build", "--all-packages", "--no-sources", "--quiet", "-o", str(dist)],
        [*uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
    ]
    for step in steps:
        subprocess.run(step, cwd=ROOT, check=True)
    wheels = sorted(str(w) for w in dist.glob("*.whl"))
    python = venv / "bin" / "python"
    subprocess.run([*uv, "pip", "install", "--quiet", "--compile-bytecode", "-p", str(python), *wheels], check=True)
    return str(python)


IMPORTED = "agent_security.core.pipeline.facade"
"""What an in-process check imports first (``agent_security.core`` itself resolves its names lazily)."""


def importtime(env: dict[str, str], cwd: Path) -> tuple[float, list[tuple[str, float]], list[tuple[str, float]]]:
    """Total, self time per package, and cumulative time per direct import of :data:`IMPORTED`
    (milliseconds, as ``-X importtime`` reports them: inflated by its own bookkeeping)."""
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", f"import {IMPORTED}"],
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
            if name.strip() == IMPORTED:
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


def hook_commands(cli: str) -> tuple[list[str], list[str], str]:
    """The hook command, the daemon command and the host's name."""
    try:
        import agent_security.adapters.hooks.claude_code  # noqa: F401
    except ImportError:
        runner = [PYTHON, str(TEST_HOST_RUNNER)]
        return [*runner, "hook", "test-host"], [*runner, "serve"], "test host (claude-code not installed)"
    return [cli, "hook", "claude-code"], [cli, "serve"], "claude-code"


def wait_for_daemon(cli: str, env: dict[str, str], cwd: Path, daemon: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise SystemExit(f"the daemon exited {daemon.returncode}")
        status = subprocess.run([cli, "serve", "--status"], env=env, cwd=cwd, capture_output=True, check=False)
        if status.returncode == 0:
            return
        time.sleep(0.05)
    raise SystemExit("the daemon did not come up")


def hook_round_trips(cli: str, runs: int) -> dict[str, list[float]]:
    """Daemon and in-process hook round trips, interleaved; plus the in-process one with no bytecode."""
    hook, serve, _ = hook_commands(cli)
    stdin = json.dumps(CLAUDE_CODE_CALL)
    with tempfile.TemporaryDirectory(prefix="bh-", dir="/tmp") as tmp:  # short: a socket path is <= 107 bytes
        home = Path(tmp)
        home.chmod(0o700)
        work = home / "project"
        work.mkdir()
        config = home / "config.toml"
        config.write_text(f'[core]\npolicy_path = "{POLICY}"\n\n[adapters]\ndaemon = "manual"\n')
        env = clean_env(home, XDG_RUNTIME_DIR=str(home), AGENT_SECURITY_CONFIG=str(config))
        cold_env = {**env, "AGENT_SECURITY_DAEMON": "off"}
        daemon = subprocess.Popen([*serve, "--idle-timeout", "600"], env=env, cwd=work, stderr=subprocess.DEVNULL)
        try:
            wait_for_daemon(cli, env, work, daemon)
            for _ in range(3):
                timed_run(hook, env, work, stdin)
                timed_run(hook, cold_env, work, stdin)
            out: dict[str, list[float]] = {"daemon": [], "in-process": [], "no-pyc": [], "pydantic": []}
            for _ in range(runs):
                out["daemon"].append(timed_run(hook, env, work, stdin))
                out["in-process"].append(timed_run(hook, cold_env, work, stdin))
                out["pydantic"].append(timed_run([PYTHON, "-c", PYDANTIC_FLOOR], cold_env, work))
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
        for i in range(3):
            no_pyc = {**cold_env, "PYTHONPYCACHEPREFIX": str(home / f"no-pyc-{i}"), "PYTHONDONTWRITEBYTECODE": "1"}
            out["no-pyc"].append(timed_run(hook, no_pyc, work, stdin))
    return {k: sorted(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed hook calls")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the figures in docs/benchmarks.md")
    parser.add_argument(
        "--workspace", action="store_true", help="measure the workspace's editable install, not installed wheels"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-hook-env-") as envdir:
        global PYTHON
        if not args.workspace:
            PYTHON = installed_environment(Path(envdir))
        run(args)


def run(args: argparse.Namespace) -> None:
    cli = cli_path()
    installed = "the workspace's editable install" if args.workspace else "installed wheels"
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
            starts.append(timed_run([PYTHON, "-c", "pass"], env, work))
            if i % max(1, args.runs // PROBES) == 0 and len(probes) < PROBES:
                t0 = time.perf_counter()
                proc = subprocess.run(
                    [PYTHON, "-c", PROBE, str(POLICY), stdin],
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

    trips = hook_round_trips(cli, args.runs)
    host = hook_commands(cli)[2]
    d_med, d_p95 = statistics.median(trips["daemon"]), _report.percentile(trips["daemon"], 0.95)
    c_med, c_p95 = statistics.median(trips["in-process"]), _report.percentile(trips["in-process"], 0.95)
    n_med = statistics.median(trips["no-pyc"])
    p_med = statistics.median(trips["pydantic"])
    median = statistics.median(warm)
    breakdown = [("interpreter start (python -c pass)", startup)]
    breakdown += [(step, statistics.median(v)) for step, v in steps.items()]
    rest = median - sum(ms for _, ms in breakdown)
    breakdown.append(("the rest (click, stdin, the JSON answer; by difference)", rest))
    print(f"machine: {_report.machine()}; measured from {installed}")
    print(
        f"agent-security hook ({host}), {args.runs} runs each: with the daemon median {d_med:.1f} ms, "
        f"p95 {d_p95:.1f}; without it (in-process) median {c_med:.0f} ms, p95 {c_p95:.0f}; "
        f"in-process with no bytecode cache median {n_med:.0f} ms (3 runs); a fresh process importing pydantic "
        f"and validating one model (the in-process floor) median {p_med:.0f} ms"
    )
    print(
        f"hook round trip: median {median:.0f} ms, min {warm[0]:.0f}, max {warm[-1]:.0f} ({args.runs} runs); "
        f"with no bytecode cache: median {statistics.median(cold):.0f} ms (3 runs)"
    )
    print(f"where the time goes (median of {len(probes)} fresh processes):")
    for step, ms in breakdown:
        print(f"  {step:<56} {ms:>7.1f} ms")
    print(
        f"python -X importtime -c 'import {IMPORTED}': {total_it:.0f} ms (inflated by importtime); "
        "self time by package:"
    )
    for package, ms in packages[:12]:
        print(f"  {package:<56} {ms:>7.1f} ms  {ms / total_it:>4.0%}")
    print(f"  cumulative, by direct import of {IMPORTED} (the first importer pays):")
    for module, ms in direct[:8]:
        print(f"    {module:<54} {ms:>7.1f} ms")
    budgets = [
        _report.Budget("hook with the daemon, median", d_med, DAEMON_BUDGET_MS, " ms", digits=1),
        _report.Budget("hook with the daemon, p95", d_p95, None, " ms", digits=1),
        _report.Budget("hook without the daemon, median", c_med, BUDGET_MS, " ms", digits=0),
        _report.Budget("hook without the daemon, p95", c_p95, None, " ms", digits=0),
        _report.Budget("hook without the daemon, no bytecode cache", n_med, None, " ms", digits=0),
        _report.Budget("python + pydantic + one model (in-process floor)", p_med, None, " ms", digits=0),
        _report.Budget("check round trip, median", median, None, " ms", digits=0),
        _report.Budget("check round trip, no bytecode cache", statistics.median(cold), None, " ms", digits=0),
        _report.Budget(
            "import agent_security.core", statistics.median(steps["import agent_security.core"]), None, " ms", digits=0
        ),
    ]
    _report.report(budgets)
    if args.write_docs:
        lines = [
            f"Measured {_report.today()} on {_report.machine()} (`python benchmarks/bench_hook.py`, {installed}): "
            f"`agent-security hook` ({host}, a Claude-Code-shaped PreToolUse payload), {args.runs} runs each: "
            f"with the daemon median {d_med:.1f} ms (p95 {d_p95:.1f}); without it, in-process, median "
            f"{c_med:.0f} ms (p95 {c_p95:.0f}); in-process with no bytecode cache {n_med:.0f} ms.",
            "",
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
            f'`python -X importtime -c "import {IMPORTED}"`: {total_it:.0f} ms in all '
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
