"""The MCP scanner keeps its precision and recall on the public efficacy set (``make efficacy-mcp``)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agent_security.supply_chain import McpScanner

ROOT = Path(__file__).resolve().parents[2]
FLOOR_PRECISION = 0.9
FLOOR_RECALL = 0.8


def _efficacy() -> ModuleType:
    spec = importlib.util.spec_from_file_location("efficacy_mcp", ROOT / "benchmarks" / "efficacy_mcp.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("efficacy_mcp", mod)  # its dataclass looks its module up while being built
    spec.loader.exec_module(mod)
    return mod


def test_every_kind_keeps_its_floor() -> None:
    scores, wrong = _efficacy().evaluate()
    low = {
        k: (round(s.precision, 2), round(s.recall, 2))
        for k, s in scores.items()
        if s.precision < FLOOR_PRECISION or s.recall < FLOOR_RECALL
    }
    assert not low, f"below the floor (precision {FLOOR_PRECISION}, recall {FLOOR_RECALL}): {low}; {wrong}"
    assert scores["high risk"].recall == 1.0, wrong  # no malicious server of the set is rated below high


def _cases() -> list[dict[str, object]]:
    data = json.loads((ROOT / "benchmarks" / "data" / "mcp_efficacy" / "cases.json").read_text(encoding="utf-8"))
    return list(data["cases"])


@pytest.mark.parametrize("case", [c for c in _cases() if str(c["id"]).startswith("reference-")], ids=lambda c: c["id"])
def test_reference_servers_are_not_high(case: dict[str, object]) -> None:
    report = McpScanner().scan(case["server"], baseline=case.get("baseline"))
    assert report.risk_level == case["expected"]["risk"], [  # type: ignore[index]
        (f.rule, f.tool, f.level) for f in report.findings if f.level not in ("info", "low")
    ]


def test_every_case_cites_its_source() -> None:
    for case in _cases():
        assert str(case["source"]).startswith("https://"), case["id"]
        assert case["how"], case["id"]
