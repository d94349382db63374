"""Policy engine: time per evaluation with 1, 10, 100 and 1,000 rules (prints a table; not a test).

Run: ``uv run python benchmarks/bench_policy.py [iterations]``

Each bundle is a realistic mix: exact tool names (most rules), lists of names, ``prefix*`` globs,
environment-specific rules, and rules with ``when`` conditions (keywords, labels, argument
comparisons). Scenarios, each timed call by call (``perf_counter_ns``) after a warm-up:

* ``exact, last rule``   the request's tool is named by the last exact rule (worst case for a linear scan)
* ``no match -> default`` a tool no rule names (only the glob rules are candidates)
* ``when conditions``     the matching rule has contains_any + tool_args_match (searchable text built)
* ``cold (new tool)``     a different tool name on every call: index look-up without the memo
* ``linear scan``         the same request as the first scenario through the un-indexed reference path
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from agent_security.core.models import Action, ActionRequest, AgentInfo, RequestContext
from agent_security.core.policy import PolicyEngine, load_policy

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SIZES = (1, 10, 100, 1000)


def make_rules(n: int) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for i in range(n - 1):
        kind = i % 20
        rule: dict[str, Any] = {
            "id": f"R{i}",
            "description": f"rule {i}",
            "match": {"tool_name": f"tool_{i}", "environment": "*"},
            "outcome": "DENY",
        }
        if kind == 1:
            rule["match"]["tool_name"] = [f"tool_{i}", f"tool_{i}_v2", f"alias_{i}"]
        elif kind == 2:
            rule["match"]["tool_name"] = f"family_{i}_*"
        elif kind in (3, 4):
            rule["match"]["environment"] = "prod"
            rule["outcome"] = "REQUIRE_APPROVAL"
            rule["approver_role"] = "ops"
        elif kind == 5:
            rule["when"] = {"contains_any": ["export", "dump"], "data_labels_any": ["PII"]}
        elif kind == 6:
            rule["when"] = {"tool_args_match": {"amount": {"gt": 1000}}}
            rule["outcome"] = "REQUIRE_APPROVAL"
        elif kind == 7:
            rule["match"]["agent_roles_any"] = ["admin"]
            rule["outcome"] = "ALLOW"
        rules.append(rule)
    # the last rule: an exact tool with keyword and argument conditions (used by two scenarios)
    rules.append(
        {
            "id": "LAST",
            "description": "last rule",
            "outcome": "DENY",
            "match": {"tool_name": "target_tool", "environment": "prod"},
            "when": {
                "contains_any": ["all customers", "export", "select *"],
                "tool_args_match": {"limit": {"gte": 1000}},
            },
        }
    )
    return rules


def make_engine(n: int) -> PolicyEngine:
    data = {
        "version": "bench",
        "generated_at": "2026-01-01T00:00:00Z",
        "expires_at": "2027-01-01T00:00:00Z",
        "rules": make_rules(n),
        "defaults": {"outcome": "DENY"},
    }
    return PolicyEngine(load_policy(data, now=NOW))


def request(tool: str, args: dict[str, Any] | None = None, user_input: str | None = None) -> ActionRequest:
    return ActionRequest(
        agent=AgentInfo(agent_id="bench-agent", environment="prod", roles=("ops",)),
        action=Action(tool_name=tool, tool_args=args or {}),
        context=RequestContext(user_input=user_input),
    )


def timed(fn: Any, requests: list[ActionRequest], iterations: int) -> tuple[float, float]:
    for r in requests[: min(len(requests), 2000)]:
        fn(r, now=NOW)
    samples = []
    clock = time.perf_counter_ns
    count = len(requests)
    for i in range(iterations):
        r = requests[i % count]
        t0 = clock()
        fn(r, now=NOW)
        samples.append(clock() - t0)
    samples.sort()
    p50 = statistics.median(samples) / 1000
    p99 = samples[int(len(samples) * 0.99) - 1] / 1000
    return p50, p99


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(
        f"policy engine: µs per evaluation (p50 / p99), {iterations:,} timed calls per cell, "
        f"Python {sys.version.split()[0]}"
    )
    scenarios: list[tuple[str, Any]] = []
    header = f"{'scenario':<22}" + "".join(f"{f'{n} rules':>20}" for n in SIZES)
    results: dict[str, list[str]] = {}
    for n in SIZES:
        engine = make_engine(n)
        last_exact = f"tool_{max(0, n - 21)}" if n > 1 else "target_tool"
        when_req = request("target_tool", {"query": "SELECT * FROM customers", "limit": 5000})
        scenarios = [
            ("exact, last rule", engine.evaluate, [request(last_exact, {"q": "x"})]),
            ("no match -> default", engine.evaluate, [request("unknown_tool", {"q": "x"})]),
            ("when conditions", engine.evaluate, [when_req]),
            ("cold (new tool)", engine.evaluate, [request(f"fresh_{i}") for i in range(iterations + 2000)]),
            ("linear scan", engine._evaluate_unindexed, [request(last_exact, {"q": "x"})]),
        ]
        for label, fn, reqs in scenarios:
            decision = fn(reqs[0], now=NOW)
            assert decision.codes[0] != "POLICY_ERROR", (label, decision)
            p50, p99 = timed(fn, reqs, iterations)
            results.setdefault(label, []).append(f"{p50:6.2f} / {p99:7.2f}")
    print(header)
    for label, cells in results.items():
        print(f"{label:<22}" + "".join(f"{c:>20}" for c in cells))
    target = results["exact, last rule"][-1].split("/")[0].strip()
    print(f"\ntarget: p50 <= 5 µs at 1,000 rules (exact, last rule): measured {target} µs")


if __name__ == "__main__":
    main()
