"""The ``policy`` click group: exit codes 0/1/2, JSON output, signing round trips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_security.core.policy import load_policy
from agent_security.core.policy.cli import policy_group

NOW = ["--now", "2026-06-01T00:00:00Z"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def policy_file(tmp_path, examples_dir) -> Path:
    target = tmp_path / "policy.yaml"
    shutil.copy(examples_dir / "default-policy.yaml", target)
    return target


def _run(runner, *args, env=None):
    return runner.invoke(policy_group, [str(a) for a in args], env=env, catch_exceptions=False)


def test_validate(runner, policy_file, tmp_path):
    ok = _run(runner, "validate", policy_file, *NOW)
    assert ok.exit_code == 0, ok.output
    assert "8 rules, default DENY" in ok.output
    data = json.loads(_run(runner, "validate", policy_file, *NOW, "--json").output)
    assert data["ok"] is True and data["rules"] == 8 and data["signed_ed25519"] == []
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "version": "1",
                "generated_at": "2026-01-01",
                "expires_at": "2027-01-01",
                "defaults": {"outcome": "DENY"},
                "rules": [{"id": "X", "match": {"tool_name": "t"}, "outcome": "NOPE"}],
            }
        )
    )
    result = _run(runner, "validate", bad, *NOW, "--json")
    assert result.exit_code == 2
    err = json.loads(result.output)
    assert (err["rule_id"], err["field"]) == ("X", "outcome")
    expired = _run(runner, "validate", policy_file, "--now", "2100-01-01T00:00:00Z")
    assert expired.exit_code == 2 and "expired" in expired.output
    assert _run(runner, "validate", policy_file, "--now", "2100-01-01T00:00:00Z", "--allow-expired").exit_code == 0
    assert _run(runner, "validate", tmp_path / "missing.json").exit_code == 2
    assert _run(runner, "validate", policy_file, "--now", "tomorrow").exit_code == 2


def test_validate_json_reports_an_oversized_yaml_integer(runner, tmp_path):
    big = tmp_path / "bigint.yaml"
    big.write_text(
        'version: "1"\ngenerated_at: "2026-01-01"\nexpires_at: "2027-01-01"\n'
        "defaults: {outcome: ALLOW}\nrules:\n- id: A\n  match: {tool_name: x}\n"
        "  when: {tool_args_match: {n: {gt: " + "9" * 5000 + "}}}\n  outcome: DENY\n"
    )
    result = _run(runner, "validate", big, *NOW, "--json")
    assert result.exit_code == 2
    assert "too long" in json.loads(result.output)["error"]


def test_lint(runner, policy_file, tmp_path, build_bundle, make_rule):
    clean = _run(runner, "lint", policy_file, *NOW)
    assert clean.exit_code == 0 and "0 error(s), 0 warning(s)" in clean.output
    shadowed = tmp_path / "shadowed.json"
    shadowed.write_text(json.dumps(build_bundle(make_rule("ALL", "*", "ALLOW"), make_rule("NEVER", "t"))))
    result = _run(runner, "lint", shadowed, *NOW, "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["findings"][0]["code"] == "SHADOWED"
    warn_only = tmp_path / "warn.json"
    warn_only.write_text(json.dumps(build_bundle(make_rule("A", "t"), default="ALLOW")))
    assert _run(runner, "lint", warn_only, *NOW).exit_code == 0
    assert _run(runner, "lint", warn_only, *NOW, "--strict").exit_code == 1
    expired = _run(runner, "lint", policy_file, "--now", "2100-01-01T00:00:00Z")
    assert expired.exit_code == 1 and "EXPIRED" in expired.output


def test_test_command(runner, examples_dir, policy_file, tmp_path):
    cases = examples_dir / "default-policy.cases.yaml"
    result = _run(runner, "test", cases)
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    data = json.loads(_run(runner, "test", cases, "--policy", examples_dir / "default-policy.json", "--json").output)
    assert data["failed"] == 0 and data["passed"] >= 19
    failing = tmp_path / "cases.json"
    failing.write_text(
        json.dumps(
            {
                "now": "2026-06-01T00:00:00Z",
                "cases": [
                    {
                        "name": "wrong on purpose",
                        "request": {"tool_name": "send_email", "environment": "prod"},
                        "expect": {"outcome": "ALLOW", "code": "X"},
                    },
                    {
                        "name": "right",
                        "request": {"tool_name": "send_email", "environment": "prod"},
                        "expect": {"approver_role": "ops_manager"},
                    },
                    {"name": "bad request", "request": {"tool_nam": "x"}, "expect": "DENY"},
                    {
                        "name": "full form",
                        "request": {"agent": {"agent_id": "a", "environment": "dev"}, "action": {"tool_name": "x"}},
                        "expect": "ALLOW",
                    },
                ],
            }
        )
    )
    result = _run(runner, "test", failing, "--policy", policy_file, "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert [r["passed"] for r in data["results"]] == [False, True, False, True]
    assert data["results"][0]["problems"] == [
        "outcome REQUIRE_APPROVAL, expected ALLOW",
        "code REQUIRE_APPROVAL_EMAIL_PROD, expected X",
    ]
    assert "invalid request" in data["results"][2]["problems"][0]
    assert data["results"][0]["trace"] == [
        "DENY_PCI_EMAIL (DENY): skipped — when.data_labels_any does not hold",
        "DENY_PII_EXTERNAL (DENY): skipped — when.data_labels_any does not hold",
        "REQUIRE_APPROVAL_EMAIL_PROD (REQUIRE_APPROVAL): matched",
    ]
    assert data["results"][1]["trace"] == []
    text = _run(runner, "test", failing, "--policy", policy_file).output
    assert "    REQUIRE_APPROVAL_EMAIL_PROD (REQUIRE_APPROVAL): matched" in text
    assert _run(runner, "test", failing).exit_code == 2  # no policy given anywhere
    broken = tmp_path / "broken.yaml"
    broken.write_text("cases: []\n")
    assert _run(runner, "test", broken, "--policy", policy_file).exit_code == 2
    no_expect = tmp_path / "noexpect.yaml"
    no_expect.write_text("cases:\n  - request: {tool_name: x}\n    expect: {}\n")
    result = _run(runner, "test", no_expect, "--policy", policy_file)
    assert result.exit_code == 2 and "at least one of" in result.output


def test_keygen_sign_verify(runner, policy_file, tmp_path):
    keys = tmp_path / "keys"
    result = _run(runner, "keygen", "--out-dir", keys, "--json")
    assert result.exit_code == 0
    info = json.loads(result.output)
    assert _run(runner, "keygen", "--out-dir", keys).exit_code == 2  # refuses to overwrite
    assert _run(runner, "keygen", "--out-dir", keys, "--force").exit_code == 0
    info = json.loads(_run(runner, "keygen", "--out-dir", keys, "--force", "--json").output)
    private, public = keys / "policy.key", keys / "policy.pub"

    signed_yaml = tmp_path / "signed.yaml"
    env = {"POLICY_HMAC": "hmac-secret"}
    result = _run(
        runner,
        "sign",
        policy_file,
        "--key",
        private,
        "--hmac-secret-env",
        "POLICY_HMAC",
        "--out",
        signed_yaml,
        "--allow-expired",
        env=env,
    )
    assert result.exit_code == 0, result.output
    bundle = load_policy(signed_yaml, trusted_keys=[public], hmac_secret="hmac-secret", allow_expired=True)
    assert bundle.signatures is not None and bundle.signatures[0].key_id == info["key_id"]

    ok = _run(
        runner, "verify", signed_yaml, "--trusted-key", public, "--hmac-secret-env", "POLICY_HMAC", "--json", env=env
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ed25519_key_id"] == info["key_id"]
    assert _run(runner, "validate", signed_yaml, "--trusted-key", public, "--allow-expired").exit_code == 0

    tampered = tmp_path / "tampered.yaml"
    tampered.write_text(signed_yaml.read_text().replace("outcome: DENY", "outcome: ALLOW", 1))
    bad = _run(runner, "verify", tampered, "--trusted-key", public)
    assert bad.exit_code == 1 and "tampered" in bad.output
    assert _run(runner, "verify", tampered, "--hmac-secret-env", "POLICY_HMAC", env=env).exit_code == 1
    assert _run(runner, "validate", tampered, "--trusted-key", public, "--allow-expired").exit_code == 2
    assert _run(runner, "verify", signed_yaml).exit_code == 2  # nothing to verify with
    assert _run(runner, "verify", signed_yaml, "--hmac-secret-env", "UNSET_VAR_X").exit_code == 2

    to_stdout = _run(runner, "sign", policy_file, "--key", private, "--allow-expired")
    assert to_stdout.exit_code == 0 and "signatures:" in to_stdout.output
    secret_file = tmp_path / "secret"
    secret_file.write_text("hmac-secret\n")
    as_json = tmp_path / "signed.json"
    assert (
        _run(
            runner, "sign", signed_yaml, "--hmac-secret-file", secret_file, "--out", as_json, "--allow-expired"
        ).exit_code
        == 0
    )
    assert json.loads(as_json.read_text())["signatures"][0]["key_id"] == info["key_id"]  # kept
    assert _run(runner, "verify", as_json, "--hmac-secret-file", secret_file).exit_code == 0
    assert _run(runner, "sign", policy_file).exit_code == 2  # nothing to sign with
