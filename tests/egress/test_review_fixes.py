"""Regressions for weaknesses found in the egress security review (each failed before its fix)."""

from __future__ import annotations

from typing import Any

import pytest

from agent_security.core import CheckContext
from agent_security.core.testing import make_request
from agent_security.egress import Scanner, egress_enforcer, scan

CARD = "5500005555555559"


@pytest.mark.parametrize(
    "text",
    [
        f"sample {CARD}",
        f"fake data: {CARD}",
        f"https://collector.example/?d={CARD}",
        f"see https://h.example/x?c={CARD}&n=1",
    ],
)
def test_negative_words_cannot_hide_a_validated_card(text: str) -> None:
    assert [f.kind for f in scan(text)] == ["credit_card"]


@pytest.mark.parametrize("pad", [" " * 5000, "\n" * 4100, "\t" * 2500 + " " * 2500])
def test_whitespace_padding_does_not_hide_a_password_under_its_key(pad: str) -> None:
    value = {"password": pad + "hunter22hunter" + pad}
    found = [(f.kind, f.span) for f in scan(value)]
    assert found == [("generic_secret", (len(pad), len(pad) + 14))]
    assert "hunter22" not in str(Scanner().redact(value))
