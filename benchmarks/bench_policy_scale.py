"""Policy engine at scale: a 1,000-rule bundle where hundreds of rules apply to every tool (``*``).

Run: ``python benchmarks/bench_policy_scale.py [iterations]``

The bundle (seeded, deterministic): 1,000 rules; 400 of them match every tool (``tool_name: "*"``) and
carry ``when`` conditions: keyword rules (``contains_any``, some with a ``not_contains`` exemption),
regex rules, argument rules (``tool_args_match``), and label rules; the other 600 name tools exactly or
by glob. The requests are ordinary tool calls that most rules do not concern (so, without a prefilter,
every one of the 400 rules is evaluated), plus one that a keyword rule near the end denies.

Budget (issue 20): p50 <= 50 µs per evaluation, pure policy (no pipeline), for the ordinary requests.
Figures are per call (``perf_counter_ns``) after a warm-up; a miss is reported, never an error.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _report

from agent_security.core.models import Action, ActionRequest, AgentInfo, RequestContext
from agent_security.core.policy import PolicyEngine, load_policy

NOW = datetime(2026, 6, 1, tzinfo=UTC)
P50_BUDGET_US = 50.0
WORDS = [
    "export",
    "dump",
    "truncate",
    "shutdown",
    "wipe",
    "exfil",
    "keylog",
    "rootkit",
    "payload",
    "beacon",
    "implant",
    "spray",
    "pivot",
    "escalate",
    "tamper",
    "overwrite",
    "purge",
    "scrape",
    "harvest",
    "siphon",
    "leak",
    "smuggle",
    "tunnel",
    "bypass",
    "disable",
]


def make_rules(seed: int = 20) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rules: list[dict[str, Any]] = []
    for i in range(1000):
        rule: dict[str, Any] = {"id": f"R{i}", "description": f"rule {i}", "outcome": "DENY"}
        if i % 5 in (0, 1):  # 400 rules on every tool, with conditions
            rule["match"] = {"tool_name": "*"}
            kind = (i // 5) % 8
            term = f"{rng.choice(WORDS)}_{i}"
            if kind in (0, 1, 2):
                rule["when"] = {"contains_any": [term, f"{term}-all", f"zz{i}zz"]}
            elif kind == 3:
                rule["when"] = {"contains_any": [term], "not_contains": ["--dry-run"]}
                rule["outcome"] = "REQUIRE_APPROVAL"
            elif kind == 4:
                rule["when"] = {"matches_regex": rf"\b{term}\s+(now|all)\b"}
            elif kind == 5:
                rule["when"] = {"tool_args_match": {f"flag_{i}": True}}
            elif kind == 6:
                rule["when"] = {"tool_args_match": {"amount": {"gt": 10_000 + i}}, "contains_any": [term]}
                rule["outcome"] = "REQUIRE_APPROVAL"
            else:
                rule["when"] = {"data_labels_any": [f"label_{i}"], "contains_any": [term]}
        elif i % 5 == 2:
            rule["match"] = {"tool_name": f"family_{i}_*"}
        else:
            rule["match"] = {"tool_name": f"tool_{i}", "environment": rng.choice(["*", "prod"])}
            if i % 10 == 3:
                rule["when"] = {"contains_any": [f"secret_{i}"]}
        rules.append(rule)
    return rules


def make_engine() -> PolicyEngine:
    data = {
        "version": "bench-scale",
        "generated_at": "2026-01-01T00:00:00Z",
        "expires_at": "2027-01-01T00:00:00Z",
        "rules": make_rules(),
        "defaults": {"outcome": "ALLOW"},
    }
    return PolicyEngine(load_policy(data, now=NOW))


def request(tool: str, args: dict[str, Any], user_input: str | None = None) -> ActionRequest:
    return ActionRequest(
        agent=AgentInfo(agent_id="bench-agent", environment="prod"),
        action=Action(tool_name=tool, tool_args=args),
        context=RequestContext(user_input=user_input),
    )


ORDINARY = [
    request("read_file", {"path": "/home/user/project/README.md"}),
    request("search_web", {"query": "weather in Paris tomorrow", "max_results": 5}),
    request("send_email", {"to": "bob@example.com", "subject": "Notes", "body": "See you at 10. Thanks!"}),
    request(
        "query_database",
        {"sql": "SELECT id, name FROM orders WHERE status = 'open' LIMIT 50", "amount": 120},
        user_input="show me the open orders",
    ),
    request("write_file", {"path": "notes.txt", "content": "meeting notes\n" * 20}),
]


def timed(engine: PolicyEngine, requests: list[ActionRequest], iterations: int) -> list[float]:
    for r in requests * 200:
        engine.evaluate(r, now=NOW)
    clock = time.perf_counter_ns
    samples = []
    count = len(requests)
    for i in range(iterations):
        r = requests[i % count]
        t0 = clock()
        engine.evaluate(r, now=NOW)
        samples.append((clock() - t0) / 1000)
    samples.sort()
    return samples


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    engine = make_engine()
    for r in ORDINARY:
        d = engine.evaluate(r, now=NOW)
        assert d.codes == ("DEFAULT_ALLOW",), (r.action.tool_name, d.codes)
    hit_term = next(
        r["when"]["contains_any"][0]
        for r in reversed(make_rules())
        if r["match"]["tool_name"] == "*" and set(r.get("when", {})) == {"contains_any"}
    )
    hit = request("run_task", {"task": f"please {hit_term} now"})
    assert engine.evaluate(hit, now=NOW).outcome.value != "ALLOW"
    print(f"policy at scale: 1,000 rules (400 on every tool, with conditions); {_report.machine()}")
    print(f"{'requests':<34}{'p50 us':>10}{'p90 us':>10}{'p99 us':>10}")
    ordinary = timed(engine, ORDINARY, iterations)
    denied = timed(engine, [hit], iterations // 4)
    for label, s in (("ordinary calls (default ALLOW)", ordinary), ("call a late keyword rule denies", denied)):
        print(
            f"{label:<34}{statistics.median(s):>10.1f}{_report.percentile(s, 0.9):>10.1f}"
            f"{_report.percentile(s, 0.99):>10.1f}"
        )
    _report.report(
        [
            _report.Budget(
                "policy 1,000 rules (400 on *) p50", statistics.median(ordinary), P50_BUDGET_US, " us", digits=1
            ),
            _report.Budget("policy 1,000 rules, late DENY p50", statistics.median(denied), None, " us", digits=1),
        ]
    )


if __name__ == "__main__":
    main()
