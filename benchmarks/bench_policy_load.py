"""Policy load: time to read, parse, validate and compile a 1,000-rule bundle, JSON and YAML (not a test).

Run: ``uv run python benchmarks/bench_policy_load.py [runs]``

Each run is ``PolicyEngine(load_policy(path))`` on a file written once (the rule mix of
``bench_policy.py``: exact names, name lists, globs, environment rules, keyword, label and argument
conditions), which is what ``AgentSecurity(policy_path=...)`` and every ``reload_policy`` pay. The
figures are the median and the best of ``runs`` runs after one warm-up, printed against the target of
60 ms. The exit status is 0 whatever the figures.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from bench_policy import make_rules

from agent_security.core.policy import PolicyEngine, load_policy
from agent_security.core.policy.yaml_reader import LIBYAML

RULES = 1000
TARGET_MS = 60.0


def bundle() -> dict[str, Any]:
    return {
        "version": "bench",
        "generated_at": "2026-01-01T00:00:00Z",
        "expires_at": "2099-01-01T00:00:00Z",
        "rules": make_rules(RULES),
        "defaults": {"outcome": "DENY"},
    }


def timed(path: Path, runs: int) -> tuple[float, float]:
    engine = PolicyEngine(load_policy(path))
    assert len(engine.bundle.rules) == RULES
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        PolicyEngine(load_policy(path))
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    data = bundle()
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "JSON": Path(tmp) / "policy.json",
            "YAML": Path(tmp) / "policy.yaml",
        }
        files["JSON"].write_text(json.dumps(data, indent=2))
        files["YAML"].write_text(yaml.safe_dump(data, sort_keys=False))
        parser = "libyaml" if LIBYAML else "pure-Python parser (PyYAML without libyaml)"
        print(
            f"policy load: load_policy(file) + PolicyEngine(...), {RULES:,} rules, {runs} runs, "
            f"Python {sys.version.split()[0]}, YAML through {parser}"
        )
        print(f"{'format':<8}{'size':>10}{'median':>12}{'best':>12}   target")
        for fmt, path in files.items():
            median, best = timed(path, runs)
            verdict = "met" if median <= TARGET_MS else "NOT met"
            size = f"{path.stat().st_size // 1024} KiB"
            print(f"{fmt:<8}{size:>10}{median:>9.1f} ms{best:>9.1f} ms   <= {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
