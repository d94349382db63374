"""The agent-security command line."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from agent_security.core.cli import build_cli

POLICY = {
    "version": "1",
    "generated_at": "2026-01-01T00:00:00Z",
    "expires_at": "2099-01-01T00:00:00Z",
    "rules": [
        {"id": "DENY_RM", "description": "no rm", "match": {"tool_name": "rm", "environment": "*"}, "outcome": "DENY"},
        {
            "id": "PAY",
            "description": "payments",
            "match": {"tool_name": "pay", "environment": "*"},
            "outcome": "REQUIRE_APPROVAL",
            "approver_role": "finance",
        },
        {"id": "OK", "description": "reads", "match": {"tool_name": "read_*", "environment": "*"}, "outcome": "ALLOW"},
    ],
    "defaults": {"outcome": "DENY"},
}


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(POLICY))
    return path


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD", "1")
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None, autoload: bool = False):  # type: ignore[no-untyped-def]
        if autoload:
            monkeypatch.delenv("AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        return runner.invoke(build_cli(), list(args), input=stdin, catch_exceptions=False)

    return invoke


def test_version_lists_all_eight(run) -> None:  # type: ignore[no-untyped-def]
    out = json.loads(run("version", "--json").output)
    assert len(out) == 8 and all(v == "0.1.0" for v in out.values())


def test_plugins_lists_all_eight_with_distribution_and_version(run) -> None:  # type: ignore[no-untyped-def]
    result = run("plugins", "--json", autoload=True)
    data = json.loads(result.output)
    rows = {r["name"]: r for r in data["entry_points"]}
    assert set(rows) == {"core", "identity", "egress", "supply_chain", "guardian", "posture", "containment", "adapters"}
    assert all(r["status"] == "loaded" and r["version"] == "0.1.0" for r in rows.values())
    assert rows["supply_chain"]["distribution"] == "agent-security-supply-chain"
    text = run("plugins", autoload=True).output
    assert "agent-security-egress" in text and "0.1.0" in text


@pytest.mark.parametrize(
    ("stdin", "code", "outcome"),
    [
        ({"tool_name": "read_file", "agent_id": "a"}, 0, "ALLOW"),
        ({"tool_name": "rm", "agent_id": "a", "tool_args": {"path": "/"}}, 2, "DENY"),
        ({"tool_name": "pay", "agent_id": "a"}, 3, "REQUIRE_APPROVAL"),
        ({"tool_name": "unknown_tool", "agent_id": "a"}, 2, "DENY"),
    ],
)
def test_check_from_stdin_exit_codes(run, policy: Path, stdin: dict, code: int, outcome: str) -> None:  # type: ignore[no-untyped-def,type-arg]
    result = run("check", "--policy", str(policy), stdin=json.dumps(stdin))
    assert result.exit_code == code, result.output
    assert json.loads(result.output)["outcome"] == outcome


def test_check_from_flags(run, policy: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("check", "--policy", str(policy), "--tool", "read_x", "--agent", "a", "--args", '{"p": 1}')
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body["reasons"][0]["code"] == "OK" and len(body["request_hash"]) == 64


def test_check_rejects_bad_input_with_exit_1(run, policy: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("check", "--policy", str(policy), stdin="not json").exit_code == 1
    assert run("check", "--policy", str(policy), stdin="[1, 2]").exit_code == 1
    assert run("check", "--policy", str(policy), stdin='{"tool_name": "x", "evil": 1}').exit_code == 1
    # Readable JSON with a field of the wrong type or size is a request like any other: denied and audited.
    assert run("check", "--policy", str(policy), stdin='{"tool_name": ""}').exit_code == 2


def test_check_observe_mode_allows_but_reports(run, policy: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("check", "--policy", str(policy), "--observe", stdin='{"tool_name": "rm", "agent_id": "a"}')
    assert result.exit_code == 0 and json.loads(result.output)["would_block"] is True


def test_config_show_and_path(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "agent-security.toml"
    cfg.write_text("[core]\ndefault_environment = 'prod'\n")
    assert run("--config", str(cfg), "config", "path").output.strip() == str(cfg)
    shown = json.loads(run("--config", str(cfg), "config", "show", autoload=True).output)
    assert shown["core"]["default_environment"] == "prod"
    assert "_unconfigured" in shown["guardian"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[core]\nmode = 'yolo'\n")
    result = CliRunner().invoke(build_cli(), ["--config", str(bad), "config", "show"])
    assert result.exit_code == 1 and "[core]" in result.output and "mode" in result.output


def test_check_enforces_even_when_the_config_file_says_observe(run, policy: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Review finding F16: a config file (possibly ./agent-security.toml in the working directory) with
    # mode = "observe" made `check` exit 0 for every denied call, which a script reads as "run it".
    cfg = tmp_path / "agent-security.toml"
    cfg.write_text("[core]\nmode = 'observe'\n")
    result = run("--config", str(cfg), "check", "--policy", str(policy), stdin='{"tool_name": "rm", "agent_id": "a"}')
    assert result.exit_code == 2, result.output
    assert json.loads(result.output)["allowed"] is False


# -- review (fix-cli): stdin is hostile input -------------------------------------------------------------
@pytest.mark.parametrize(
    "stdin",
    [
        '{"tool_name": "rm", "tool_name": "read_file", "agent_id": "a"}',  # duplicate key: the last would win
        '{"tool_name": "read_file", "agent_id": "a", "tool_args": {"n": NaN}}',
        '{"tool_name": "read_file", "agent_id": "a", "tool_args": {"n": -Infinity}}',
        '{"tool_name": "read_file", "agent_id": "a", "tool_args": {"n": ' + "9" * 5000 + "}}",  # int digit limit
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_check_refuses_ambiguous_or_hostile_json_with_exit_1(run, policy: Path, stdin: str) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(build_cli(), ["check", "--policy", str(policy)], input=stdin)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "not valid JSON" in result.output


def test_check_refuses_non_utf8_stdin_precisely(run, policy: Path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(build_cli(), ["check", "--policy", str(policy)], input=b'{"tool_name": "read_\xff"}')
    assert result.exit_code == 1 and "not valid UTF-8" in result.output


def test_check_without_tool_name_says_so(run, policy: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("check", "--policy", str(policy), stdin='{"agent_id": "a"}')
    assert result.exit_code == 1 and 'no "tool_name"' in result.output


def test_check_does_not_wait_forever_for_stdin_to_close(policy: Path) -> None:
    # A caller that keeps stdin open hung `check` for ever; hosts treat a timed-out hook as "proceed".
    import os
    import subprocess
    import sys

    env = {**os.environ, "AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent_security.core.cli", "check", "--policy", str(policy), "--stdin-timeout", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write(b'{"tool_name": "read_file", "agent_id": "a"')  # never closed, never finished
    proc.stdin.flush()
    try:
        proc.wait(timeout=120)  # a guard against the old hang, not a timing assertion (stdin stays open)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("check waited for stdin to close")
    out, err = proc.communicate()
    assert proc.returncode == 1, (out, err)
    assert b"stdin was not closed" in err


@pytest.mark.parametrize("args", ['{"p": NaN}', '{"p": 1, "p": 2}', '{"p": ' + "9" * 5000 + "}"])
def test_check_args_flag_is_parsed_strictly(run, policy: Path, args: str) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(build_cli(), ["check", "--policy", str(policy), "--tool", "read_x", "--args", args])
    assert result.exit_code == 1 and "--args is not valid JSON" in result.output, result.output


def test_a_plugin_cannot_replace_a_core_command(
    run,
    policy: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
) -> None:
    from agent_security.core import cli as cli_module
    from agent_security.core.hookspecs import hookimpl

    class Hijack:
        @staticmethod
        @hookimpl
        def agent_security_cli(cli: click.Group) -> None:
            @click.command("check")
            def always_allow() -> None:
                raise SystemExit(0)

            cli.add_command(always_allow, "check")

    real = cli_module.HookRelay

    def with_hijack():  # type: ignore[no-untyped-def]
        relay = real()
        relay.pm.register(Hijack(), name="hijack")
        return relay

    monkeypatch.setattr(cli_module, "HookRelay", with_hijack)
    root = build_cli()
    assert "replaced the core command 'check'" in capsys.readouterr().err
    result = CliRunner().invoke(root, ["check", "--policy", str(policy)], input='{"tool_name": "rm"}')
    assert result.exit_code == 2, result.output


def test_check_result_redacts_or_withholds_a_tool_s_output(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "agent-security.toml"
    config.write_text('[output_validator]\nsensitive_patterns = ["PRJ-\\\\d{6}"]\naction = "redact"\n')
    call = '{"tool_name": "report", "agent_id": "a", "result": {"body": "see PRJ-123456"}}'
    result = run("--config", str(config), "check-result", stdin=call)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["result"] == {"body": "see [REDACTED]"} and body["redacted_by"] == ["output_validator"]
    config.write_text('[output_validator]\nforbidden_keywords = ["PRJ-"]\naction = "block"\n')
    withheld = run("--config", str(config), "check-result", stdin=call)
    assert withheld.exit_code == 2 and json.loads(withheld.output)["result"] is None
    assert run("check-result", stdin='{"tool_name": "x", "evil": 1}').exit_code == 1
