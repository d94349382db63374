from __future__ import annotations

import random

import pytest

from agent_security.egress import validators as v
from agent_security.egress.testing import GENERATORS, generate


def test_luhn_known_numbers() -> None:
    assert v.luhn_valid("4111111111111111")
    assert v.luhn_valid("378282246310005")
    assert not v.luhn_valid("4111111111111112")
    assert not v.luhn_valid("41111111111a1111")


@pytest.mark.parametrize(
    ("digits", "brand"),
    [
        ("4111111111111111", "visa"),
        ("5555555555554444", "mastercard"),
        ("2221000000000009", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3530111333300000", "jcb"),
        ("30569309025904", "diners"),
        ("1234567812345670", None),
        ("41111111111111", None),
    ],
)
def test_card_brand_needs_prefix_and_length(digits: str, brand: str | None) -> None:
    assert v.card_brand(digits) == brand


def test_iban_mod97_and_country_length() -> None:
    assert v.iban_valid("GB82WEST12345698765432")
    assert v.iban_valid("DE89370400440532013000")
    assert not v.iban_valid("GB82WEST12345698765433")  # check digits wrong
    assert not v.iban_valid("GB82WEST1234569876543")  # one short for GB
    assert not v.iban_valid("ZZ82WEST12345698765432")  # unknown country
    for seed in range(20):
        assert v.iban_valid(generate("iban", seed).replace(" ", ""))
        assert not v.iban_valid(generate("bad_iban", seed))


@pytest.mark.parametrize(
    ("area", "group", "serial", "ok"),
    [
        ("123", "45", "6789", True),
        ("000", "45", "6789", False),
        ("666", "45", "6789", False),
        ("900", "45", "6789", False),
        ("999", "45", "6789", False),
        ("123", "00", "6789", False),
        ("123", "45", "0000", False),
        ("899", "99", "9999", True),
    ],
)
def test_ssn_rules(area: str, group: str, serial: str, ok: bool) -> None:
    assert v.ssn_valid(area, group, serial) is ok


def test_github_checksum_round_trip() -> None:
    for seed in range(20):
        tok = generate("github_token", seed)
        assert v.github_token_valid(tok)
        assert not v.github_token_valid(generate("bad_github_token", seed))
    assert v.base62(0) == "000000"
    assert v.base62(61, 1) == "z"


def test_jwt_structure() -> None:
    tok = generate("jwt", 1)
    assert v.jwt_valid(tok)
    h, p, s = tok.split(".")
    assert not v.jwt_valid(f"{h}.{p}")
    assert not v.jwt_valid(f"{h}.bm90anNvbg.{s}")  # payload is not JSON
    assert not v.jwt_valid(f"{h}.{p}.short")
    assert not v.jwt_valid("a.b.c")


@pytest.mark.parametrize(
    "value",
    [
        "${DB_PASSWORD}",
        "$TOKEN",
        "{{ api_key }}",
        "<your-token>",
        "%s",
        "%(password)s",
        "[REDACTED]",
        "your_api_key",
        "changeme",
        "********",
        "xxxxxxxxxxxxxxxx",
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "sk_live_XXXXXXXXXXXXXXXXXXXXXXXX",
        "process.env.SECRET",
        "AKIAIOSFODNN7EXAMPLE",
        "",
    ],
)
def test_placeholders(value: str) -> None:
    assert v.is_placeholder(value)


@pytest.mark.parametrize("kind", ["password", "api_secret", "github_token", "aws_secret_key", "stripe_key"])
def test_generated_secrets_are_not_placeholders(kind: str) -> None:
    for seed in range(10):
        assert not v.is_placeholder(generate(kind, seed))


def test_entropy() -> None:
    assert v.shannon_entropy("") == 0.0
    assert v.shannon_entropy("aaaa") == 0.0
    assert v.shannon_entropy("abcd") == pytest.approx(2.0)
    rng = random.Random(3)
    assert v.shannon_entropy(GENERATORS["api_secret"](rng)) > 4.0
