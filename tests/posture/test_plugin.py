"""agent-security-posture: discovered, described, config section validated, no decision changed, light to load."""

from __future__ import annotations

from pathlib import Path

from agent_security.core.testing import check_placeholder_plugin


def test_placeholder_plugin_contract(tmp_path: Path) -> None:
    check_placeholder_plugin("posture", "agent-security-posture", tmp_path)


def test_loading_the_plugin_imports_neither_rich_nor_opentelemetry() -> None:
    import subprocess
    import sys

    code = (
        "import sys, agent_security.posture, agent_security.posture.plugin\n"
        "from agent_security.core import AgentSecurity\n"
        "AgentSecurity()\n"
        "print(sorted(m for m in ('rich', 'opentelemetry', 'agent_security.posture.report') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_benchmark_runs_on_a_small_trail() -> None:
    import subprocess
    import sys

    bench = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_posture.py"
    proc = subprocess.run(
        [sys.executable, str(bench), "--events", "400", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=bench.parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("budget  ") == 5 and "export cef" in proc.stdout
