"""The budget benchmarks' plumbing: what they time is the work they claim, and their reports are right.

No timing is asserted here (performance targets live in ``make bench``): these tests run the benchmarks'
own correctness checks on tiny inputs, so a pipeline change that alters the workload's decisions, or a
race under threads, fails the suite instead of silently changing what ``make bench`` measures.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The benchmarks folder importable (as the scripts make it for themselves)."""
    monkeypatch.syspath_prepend(str(BENCH))
    import _report

    return _report


def test_budget_status(bench: ModuleType) -> None:
    budget = bench.Budget
    assert budget("p50", 0.3, 0.35, "x").status == "PASS"
    assert budget("p50", 0.36, 0.35, "x").status == "MISS"
    assert budget("p50", None, 0.35, "x").status == "SKIP"
    assert budget("p50", 0.3, None, "x").status == "INFO"
    assert budget("threads", 0.95, 0.9, "x", at_most=False).status == "PASS"
    assert budget("threads", 0.4, 0.9, "x", at_most=False).status == "MISS"
    line = budget("core p50 / AGT p50", 0.26, 0.35, "x").line()
    assert line.split()[-3:] == ["<=", "0.35x", "PASS"]
    assert "0.26x" in line


def test_report_appends_to_the_summary(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.txt"
    monkeypatch.setenv("BENCH_SUMMARY", str(summary))
    bench.report([bench.Budget("a", 1.0, 2.0), bench.Budget("b", 3.0, 2.0)])
    lines = summary.read_text().splitlines()
    assert [ln.split()[-1] for ln in lines] == ["PASS", "MISS"]
    assert capsys.readouterr().out.splitlines() == lines


def test_write_docs_replaces_only_its_block(bench: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# B\n\nintro\n\n<!-- bench:x:start -->\nold\n<!-- bench:x:end -->\n\ntail\n")
    bench.write_docs("x", ["new figures"], doc)
    text = doc.read_text()
    assert "old" not in text and "new figures" in text and text.startswith("# B\n\nintro") and text.endswith("tail\n")
    bench.write_docs("y", ["appended"], doc)
    assert doc.read_text().rstrip().endswith("<!-- bench:y:end -->")
    assert "new figures" in doc.read_text()


@pytest.mark.parametrize("tag", [None, "t3"])
def test_core_pipeline_decides_the_workload(bench: ModuleType, tag: str | None) -> None:
    import _ours

    security = _ours.build_core([tag])
    _ours.check_steady_state(security, _ours.requests(tag))
    log = security.get_audit_log()
    assert all(log[i].prev_hash == log[i - 1].hash for i in range(1, len(log)))


def test_default_install_allows_what_the_core_allows(bench: ModuleType) -> None:
    import _ours

    security = _ours.build_default()
    assert len(security.list_plugins()) > len(_ours.build_core().list_plugins())
    _ours.check_steady_state(security, _ours.requests(), codes=False)


def test_pipeline_worker_measures(bench: ModuleType) -> None:
    import bench_pipeline

    result = bench_pipeline.measure("core", 50, 10)
    assert result["n"] == 50 and 0 < result["p50_us"] <= result["p99_us"]


def test_threads_keep_every_decision(bench: ModuleType) -> None:
    import bench_threads

    assert bench_threads.expected_allowed(10) == 4
    assert bench_threads.expected_allowed(13) == 4 + 2
    rate, cpu_us = bench_threads.measure(4, 400)  # raises if a decision or the audit chain differs
    assert rate > 0 and cpu_us > 0
    core = bench_threads.one_core()
    if core is not None:
        before = os.sched_getaffinity(0)
        assert bench_threads.measure(4, 400, core)[0] > 0
        assert os.sched_getaffinity(0) == before  # the confinement is undone


def test_memory_worker_samples_and_redacts(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    import bench_memory

    bench_memory.run_worker(400, hours=24.0)  # raises unless results were redacted and the audit chain holds
    samples = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    assert [s["checks"] for s in samples] == list(range(0, 401, 40))
    assert all(s["rss"] > 0 for s in samples)


def test_hook_benchmark_finds_its_cli_and_reads_importtime(bench: ModuleType, tmp_path: Path) -> None:
    import bench_hook

    assert Path(bench_hook.cli_path()).exists()
    assert bench_hook.POLICY.exists()
    total, packages, direct = bench_hook.importtime(bench_hook.clean_env(tmp_path), tmp_path)
    names = dict(packages)
    assert total > 0 and "pydantic" in names and "agent_security.core.models" in names
    assert sum(names.values()) <= total * 1.01
    assert any(module.startswith("agent_security.core.") for module, _ in direct)
