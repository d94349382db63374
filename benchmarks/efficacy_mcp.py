"""MCP scanner efficacy: per-kind precision and recall on real tool definitions from public material.

The set (``benchmarks/data/mcp_efficacy/cases.json``, sources in its README) holds the official reference
servers as negatives and published poisoning, shadowing and rug-pull examples and deliberately vulnerable
servers as positives. A kind counts as detected when the report has a finding of that kind at level high or
above; the ``high risk`` row compares the server's risk level (high or critical) with the label.

Usage: ``python benchmarks/efficacy_mcp.py [--cases PATH]`` (``make efficacy-mcp``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_security.supply_chain import McpScanner

CASES = Path(__file__).parent / "data" / "mcp_efficacy" / "cases.json"
KINDS = (
    "tool_poisoning",
    "data_exfiltration",
    "sensitive_file_access",
    "tool_shadowing",
    "rug_pull",
    "dangerous_capability",
)
HIGH = ("high", "critical")


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def add(self, expected: bool, found: bool) -> None:
        if expected and found:
            self.tp += 1
        elif found:
            self.fp += 1
        elif expected:
            self.fn += 1
        else:
            self.tn += 1


def evaluate(path: Path = CASES) -> tuple[dict[str, Score], list[str]]:
    """Scores per kind (and ``high risk``) and a line per wrong answer."""
    cases: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["cases"]
    scanner = McpScanner()
    scores = {k: Score() for k in (*KINDS, "high risk")}
    wrong: list[str] = []
    for case in cases:
        report = scanner.scan(
            case["server"], baseline=case.get("baseline"), other_servers=case.get("other_servers") or ()
        )
        expected = set(case["expected"]["kinds"])
        found = {f.kind for f in report.findings if f.level in HIGH}
        for kind in KINDS:
            scores[kind].add(kind in expected, kind in found)
            if (kind in expected) != (kind in found):
                what = "missed" if kind in expected else "false alarm"
                wrong.append(f"{case['id']}: {kind} {what}")
        risky = case["expected"]["risk"] in HIGH
        scores["high risk"].add(risky, report.risk_level in HIGH)
        if risky != (report.risk_level in HIGH):
            wrong.append(f"{case['id']}: risk {report.risk_level}, expected {case['expected']['risk']}")
    return scores, wrong


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=Path, default=CASES)
    args = ap.parse_args()
    scores, wrong = evaluate(args.cases)
    n = len(json.loads(args.cases.read_text(encoding="utf-8"))["cases"])
    print(f"MCP scanner efficacy on {n} servers ({args.cases.name})")
    print(f"{'kind':24} {'precision':>9} {'recall':>7} {'tp':>3} {'fp':>3} {'fn':>3} {'tn':>3}")
    for kind, s in scores.items():
        print(f"{kind:24} {s.precision:9.2f} {s.recall:7.2f} {s.tp:3d} {s.fp:3d} {s.fn:3d} {s.tn:3d}")
    for line in wrong:
        print("  " + line)


if __name__ == "__main__":
    main()
