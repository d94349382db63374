"""Issue 19: platform tokens after gitleaks' rules, card brands, the IBAN registry and phone numbers through
libphonenumber (coverage); code and references that name a secret without holding one (precision); the
encodings a payload hides behind (decoding); and limits users can live with."""

from __future__ import annotations

import base64
import gzip
import json
import random
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent_security.core import AgentSecurity
from agent_security.egress import ScanLimits, Scanner, scan
from agent_security.egress.classifiers.rules import RULES
from agent_security.egress.scanner import LIMIT_REASONS
from agent_security.egress.testing import generate
from agent_security.egress.validators import IBAN_LENGTHS, iban_valid

GH = generate("github_token", 7)
EMAIL = "jane.doe@mail-corp.com"
PAYLOAD = f"user {EMAIL} token {GH}"


def found(value: Any) -> set[tuple[str, str]]:
    return {(f.kind, f.classifier) for f in scan(value)}


@pytest.mark.parametrize(
    ("token", "rule"),
    [
        ("glpat-" + "Ab3dE6gH9jK2mN5pQ8sT", "gitlab_pat"),
        ("npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "npm_token"),
        ("hf_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeFgH", "huggingface_token"),
        ("dop_v1_" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "digitalocean_token"),
        ("SG." + "aB3dE6gH9jK2mN5pQ8sT1u" + "." + "X" * 10 + "aB3dE6gH9jK2mN5pQ8sT1uV2wX3yZ4aB5", "sendgrid_key"),
        ("AccountKey=" + base64.b64encode(bytes(range(64))).decode(), "azure_storage_key"),
        ("pypi-AgEIcHlwaS5vcmc" + "Q2xhdWRlIHNheXMgaGkgdG8geW91IGZyb20gdGhlIHRlc3Qgc3VpdGU", "pypi_token"),
        ("1234567890:AA" + "Hk3jL9mN2pQ5rS8tU1vW4xY7zA0bC3dE6", "telegram_bot_token"),
        ("PuTTY-User-Key-File-3: ssh-ed25519", "putty_private_key"),
    ],
)
def test_platform_tokens_are_generic_secrets_with_their_rule(token: str, rule: str) -> None:
    kinds = found(f"config: {token}\n")
    assert any(c == rule for _, c in kinds), kinds


def test_rule_names_are_unique_and_placeholders_stay_negatives() -> None:
    assert len({r.name for r in RULES}) == len(RULES) >= 75
    for text in ("glpat-xxxxxxxxxxxxxxxxxxxx", "npm_" + "x" * 36, "hf_" + "a" * 34, "dop_v1_" + "0" * 64):
        assert scan(f"token {text}") == [], text


def test_iban_registry_includes_recent_countries() -> None:
    assert {"RU", "OM", "YE", "SO", "LY", "SD", "NI", "HN", "MN", "FK", "DJ", "BI"} <= set(IBAN_LENGTHS)
    for cc in ("RU", "OM", "NI"):
        iban = generate("iban", 3, country=cc) if "country" in generate.__code__.co_varnames else None
        if iban is not None:
            assert iban_valid(iban)
    assert found("pay to RU0204452560040702810412345678901") == {("iban", "iban")}


@pytest.mark.parametrize("text", ["call +44 20 7946 0958", "Tel: 030 12345678", "mobile: +91 98765 43210"])
def test_phone_numbers_through_libphonenumber(text: str) -> None:
    assert ("phone", "phone") in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Please reset your password: https://accounts.example.com/reset",
        "password = getpass()",
        'password = os.getenv("DB_PASSWORD")',
        "api_key = settings.API_KEY",
        "password: ${DB_PASSWORD}",
        "password: vault:secret/data/db#password",
        "client_secret = op://infra/db/password",
        "token = 123e4567-e89b-12d3-a456-426614174000",
        'integrity: "sha512-abc123def456ghi789jkl012mno345pqr678stu901vwx234yz=="',
        "public_key = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl u@h",
        "password_hash = $2b$12$KIXQJQz5l6H5pN8x9bQ2UeW1r5rG6k3m7n8o9p0q1r2s3t4u5v6w7",
        "The password must be at least 12 characters long.",
        "secret_ref = arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
    ],
)
def test_code_and_references_that_name_a_secret_report_nothing(text: str) -> None:
    assert scan(text) == [], text


def test_command_line_passwords_are_found() -> None:
    assert ("generic_secret", "generic_secret") in found("mysql --password hunter2Xy9 -h db")
    assert ("generic_secret", "generic_secret") in found("curl --token=Zq8xW3vB7nM2kL5pR9tY ...")


@pytest.mark.parametrize(
    ("encoded", "label"),
    [
        (base64.b32encode(PAYLOAD.encode()).decode(), ("base32",)),
        (base64.b64encode(gzip.compress(PAYLOAD.encode())).decode(), ("base64", "gzip")),
        (base64.b64encode(zlib.compress(PAYLOAD.encode())).decode(), ("base64", "zlib")),
        ("<~" + base64.a85encode(PAYLOAD.encode()).decode() + "~>", ("ascii85",)),
        (PAYLOAD.encode().hex(), ("hex",)),
        ("x = [" + ", ".join(str(b) for b in PAYLOAD.encode()) + "]", ("chars",)),
        ("x = {" + ",".join(hex(b) for b in PAYLOAD.encode()) + "}", ("chars",)),
        (base64.urlsafe_b64encode(PAYLOAD.encode()).decode().rstrip("="), ("base64",)),
    ],
)
def test_payloads_behind_an_encoding_are_found(encoded: str, label: tuple[str, ...]) -> None:
    got = {(f.kind, f.decoding) for f in scan({"data": encoded})}
    assert {("email", label), ("github_token", label)} <= got


def test_html_references_and_obfuscation_are_folded() -> None:
    assert {f.kind for f in scan("mail jane.doe&#64;mail-corp&#46;com")} == {"email"}
    assert {f.kind for f in scan("mail jane.doe&commat;mail-corp&period;com")} == {"email"}
    assert {f.kind for f in scan("write jane [at] mail-corp [dot] com")} == {"email"}


def test_a_gzip_bomb_is_over_budget_not_silently_passed() -> None:
    bomb = base64.b64encode(gzip.compress(b"A" * 8_000_000)).decode()
    rep = Scanner(limits=ScanLimits(max_decoded_bytes=1_000_000)).scan({"data": bomb})
    assert not rep.complete and "max_decoded_bytes" in rep.limits_hit


def _bundle() -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "version": "1.0.0",
        "generated_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rules": [{"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
        "defaults": {"outcome": "ALLOW"},
    }


def test_a_700_kb_base64_file_write_is_scanned_not_denied() -> None:
    sec = AgentSecurity(policy_bundle=_bundle())
    # random bytes as an image's base64; seed 28 once met a two-letter platform prefix with no keyword
    image = base64.encodebytes(random.Random(28).randbytes(525_000)).decode()
    res = sec.check_tool_call(
        tool_name="write_file", tool_args={"path": "/tmp/logo.png.b64", "content": image}, agent_id="a"
    )
    assert res.allowed, res.final_decision.reasons
    dirty = base64.b64encode(("x" * 500_000 + " key " + GH).encode()).decode()
    res = sec.check_tool_call(
        tool_name="write_file", tool_args={"path": "/tmp/notes.b64", "content": dirty}, agent_id="a"
    )
    assert not res.allowed and "EGRESS_BLOCKED" in res.decision.codes


def test_each_limit_has_a_reason_code_a_config_key_and_a_documented_default() -> None:
    from agent_security.egress.plugin import LimitsConfig

    fields = set(ScanLimits.__dataclass_fields__)
    assert set(LIMIT_REASONS) == fields == set(LimitsConfig.model_fields)
    assert len(set(LIMIT_REASONS.values())) == len(LIMIT_REASONS)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "egress.md").read_text()
    defaults = ScanLimits()
    for name, code in LIMIT_REASONS.items():
        assert f"`{name}`" in doc and f"`{code}`" in doc, name
        assert LimitsConfig.model_fields[name].default == getattr(defaults, name), name


def test_an_incomplete_scan_names_its_limit_in_the_denial() -> None:
    sec = AgentSecurity(policy_bundle=_bundle(), config={"egress": {"limits": {"max_total_bytes": 2048}}})
    res = sec.check_tool_call(tool_name="write_file", tool_args={"path": "/tmp/a", "content": "x" * 5000}, agent_id="a")
    assert not res.allowed
    assert res.decision.codes[:2] == ("EGRESS_SCAN_LIMIT", "EGRESS_LIMIT_TOTAL_BYTES")
    assert json.dumps(res.decision.codes)


def test_values_split_across_fields_and_character_arrays_are_joined() -> None:
    assert {(f.kind, f.path, f.decoding) for f in scan({"a": "4111 1111", "b": " 1111 1111"})} == {
        ("credit_card", "$", ("joined",))
    }
    assert {(f.kind, f.decoding) for f in scan({"parts": [GH[:10], GH[10:]]})} == {("github_token", ("joined",))}
    assert {(f.kind, f.decoding) for f in scan({"c": list(PAYLOAD.encode())})} == {
        ("email", ("chars",)),
        ("github_token", ("chars",)),
    }
    assert {(f.kind, f.decoding) for f in scan({"c": list(PAYLOAD)})} >= {("github_token", ("chars",))}
    # a finding inside one field is reported once, at that field
    assert [(f.kind, f.path) for f in scan({"to": "a@b.com", "x": "hello"})] == [("email", "$.to")]
    assert scan({"first": "John", "last": "Smith", "zip": "94107", "ext": "12"}) == []
