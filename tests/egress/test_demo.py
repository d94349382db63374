"""``agent-security demo egress`` runs the original's egress demo scenarios and the evasions of issue 19,
with the expected outcomes (the demo itself exits 1 on any other outcome)."""

from __future__ import annotations

from click.testing import CliRunner

from agent_security.core.cli import build_cli
from agent_security.egress.demo import run_demo, scenarios


def test_every_scenario_has_the_expected_outcome() -> None:
    lines: list[str] = []
    assert run_demo(lines.append) == 0
    text = "\n".join(lines)
    assert text.count(" ok") == len(scenarios()) and "UNEXPECTED" not in text
    assert "no_secrets_egress=True" in text


def test_demo_egress_is_a_subcommand_of_the_core_demo() -> None:
    result = CliRunner().invoke(build_cli(), ["demo", "egress"])
    assert result.exit_code == 0, result.output
    assert "all outcomes as expected" in result.output
