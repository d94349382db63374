"""Every demo, runnable: each script under examples/demos/ (and the examples no other test runs) runs in a
fresh process, exits 0 and prints its key line; ``agent-security demo --list`` / ``demo NAME`` behave.

``fleet.py`` needs ``redis-server`` (``make system-deps``): absent, its test skips locally and fails in CI
(``AGENT_SECURITY_REQUIRE_SYSTEM=1``).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from agent_security.core.cli import build_cli
from agent_security.core.demos.catalogue import CATALOGUE, catalogue_table
from agent_security.core.demos.kit import Table, progress

ROOT = Path(__file__).resolve().parents[1]
DEMOS = ROOT / "examples" / "demos"

KEY_LINES: dict[str, str] = {
    "core.py": "0 unexpected result(s)",
    "quick.py": "every outcome is the documented one",
    "identity.py": "all outcomes as expected",
    "egress.py": "all outcomes as expected",
    "supply_chain.py": "every outcome is the documented one",
    "guardian.py": "all outcomes as expected",
    "guardian_posture.py": "all outcomes as expected",
    "full.py": "all outcomes as expected",
    "adapters.py": "hosts run: claude-code, cursor, copilot",
    "containment.py": "all outcomes as expected",
    "fleet.py": "the two instances shared one kill switch and one rate limit",
}
"""The last line each demo prints when every outcome is the documented one."""
OTHER_EXAMPLES: dict[str, str] = {
    "identity/run.py": "ghost        DENY  AGENT_UNREGISTERED",
    "cursor/sample_payloads.py": "agent-security blocked mcp__prod__deploy: DENY_PROD_DEPLOY",
    "copilot/sample_payloads.py": "COMMAND_BLOCKED: Network transfer tools are blocked",
    "mcp-proxy/client.py": "delete_note({'name': 'welcome'}) -> ERROR agent-security: blocked: POLICY_DENIED",
    "claude-code/run.sh": "DENY_SENSITIVE_FILE_WRITE",
}
"""Examples outside examples/demos/ that no other test runs (quickstart, guardian, containment have theirs;
the framework examples run in their framework's environment: tests/adapters/frameworks/<name>)."""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_SECURITY_")}
    env.update(
        {
            "AGENT_SECURITY_NO_CONFIG": "1",
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "COLUMNS": "120",
        }
    )
    env.update(extra)
    return env


def _run(script: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=_env(tmp_path, **env),
        cwd=tmp_path,
        timeout=600,
        check=False,
    )


def test_every_demo_script_has_a_key_line() -> None:
    assert {p.name for p in DEMOS.glob("*.py")} == set(KEY_LINES)


@pytest.mark.parametrize("name", sorted(KEY_LINES))
def test_demo_script_runs_and_prints_its_key_line(
    name: str, tmp_path: Path, system_program: Callable[[str], str]
) -> None:
    if name == "fleet.py":
        system_program("redis-server")
    proc = _run(DEMOS / name, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert KEY_LINES[name] in proc.stdout.splitlines()[-1], proc.stdout[-3000:]
    assert "UNEXPECTED" not in proc.stdout


@pytest.mark.parametrize("path", sorted(OTHER_EXAMPLES))
def test_other_example_runs(path: str, tmp_path: Path) -> None:
    script = ROOT / "examples" / path
    if script.suffix == ".sh":  # the hook command a host runs, from this environment
        cli = str(Path(sys.executable).parent / "agent-security")
        proc = subprocess.run(
            ["sh", str(script)], capture_output=True, text=True, env=_env(tmp_path, AGENT_SECURITY=cli),
            cwd=tmp_path, timeout=600, check=False,
        )  # fmt: skip
    else:
        proc = _run(script, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert OTHER_EXAMPLES[path] in proc.stdout, proc.stdout[-3000:]


def test_fleet_without_redis_server_says_so_and_fails_only_when_required(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = _run(DEMOS / "fleet.py", tmp_path, PATH=str(empty))
    assert proc.returncode == 0, proc.stderr
    assert "redis-server is not on PATH" in proc.stdout and "skipped" in proc.stdout
    proc = _run(DEMOS / "fleet.py", tmp_path, PATH=str(empty), AGENT_SECURITY_REQUIRE_SYSTEM="1")
    assert proc.returncode == 1
    assert "AGENT_SECURITY_REQUIRE_SYSTEM=1" in proc.stdout


def _cli(*args: str) -> click.testing.Result:
    return CliRunner().invoke(build_cli(), list(args), env={"AGENT_SECURITY_NO_CONFIG": "1"})


def test_demo_list_shows_every_catalogued_demo_and_each_registered_one() -> None:
    result = _cli("demo", "--list")
    assert result.exit_code == 0, result.output
    first_column = {line.split()[0] for line in result.output.splitlines() if line.strip()}
    assert {info.name for info in CATALOGUE} <= first_column
    assert {"core", "quick", "identity", "egress", "supply-chain", "guardian-posture", "full"} <= first_column
    assert {"adapters", "containment", "fleet", "guardian"} <= first_column
    rows = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    for name in ("core", "quick", "fleet", "identity", "supply-chain", "guardian-posture", "full"):
        assert rows[name].split()[1] == "yes", rows[name]


def test_catalogue_marks_missing_demos_and_lists_unknown_registered_ones() -> None:
    extra = click.Command("brand-new", help="A demo nobody catalogued yet.")
    lines = "\n".join(catalogue_table({"core": click.Command("core"), "brand-new": extra}).lines())
    rows = {line.split()[0]: line for line in lines.splitlines() if line.strip()}
    assert rows["core"].split()[1] == "yes"
    assert rows["quick"].split()[1] == "no:"  # not registered here
    assert "A demo nobody catalogued yet." in rows["brand-new"]


def test_demo_without_a_name_runs_the_core_demo_and_quick_has_two_spellings() -> None:
    bare = _cli("demo")
    assert bare.exit_code == 0 and "0 unexpected result(s)" in bare.output
    quick, flag = _cli("demo", "quick"), _cli("demo", "--quick")
    assert quick.exit_code == flag.exit_code == 0
    assert quick.output == flag.output and "every outcome is the documented one" in quick.output


def test_table_wraps_long_cells_and_rejects_a_short_row() -> None:
    table = Table(["a", "b"], widths=[None, 10])
    table.add("x", "one two three four five")
    lines = table.lines()
    assert lines[0].split() == ["a", "b"] and len(lines) > 3
    assert all(len(line) <= 1 + 2 + 10 for line in lines)
    with pytest.raises(ValueError, match="needs 2 cells"):
        table.add("only one")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    plain = io.StringIO()
    assert list(progress([1, 2, 3], "work", stream=plain)) == [1, 2, 3]
    assert plain.getvalue() == ""
    tty = _Tty()
    assert list(progress([1, 2, 3], "work", stream=tty)) == [1, 2, 3]
    assert "work [" in tty.getvalue() and "2/3" in tty.getvalue()
