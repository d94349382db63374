"""Classifiers: what sensitive data looks like, and how a candidate is confirmed.

:mod:`.base` defines :class:`Classifier` (an RE2 anchor for the scanner's one combined pass, and a detector
that confirms, scores and masks a candidate where the anchor matched) and :func:`custom_classifier`;
:mod:`.numbers` holds cards, SSNs, phone numbers, IBANs and email addresses; :mod:`.secrets` the secrets
with a shape of their own; :mod:`.rules` the platform tokens with a distinctive prefix (gitleaks' rule set),
reported as ``generic_secret`` with the rule's name; :mod:`.generic` secrets next to a secret-like key name.
"""

from __future__ import annotations

from agent_security.egress.classifiers.base import Classifier, Detector, Hit, custom_classifier, score
from agent_security.egress.classifiers.generic import GENERIC_SECRET, secret_key_type, secret_value_ok
from agent_security.egress.classifiers.numbers import CREDIT_CARD, EMAIL, IBAN, PHONE, SSN
from agent_security.egress.classifiers.rules import PLATFORM_TOKEN
from agent_security.egress.classifiers.secrets import (
    AWS_ACCESS_KEY,
    AWS_SECRET_KEY,
    GITHUB_TOKEN,
    GOOGLE_API_KEY,
    JWT,
    OPENAI_KEY,
    PASSWORD_IN_URL,
    PRIVATE_KEY,
    SLACK_TOKEN,
    STRIPE_KEY,
    aws_secret_ok,
)

__all__ = [
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "CREDIT_CARD",
    "DEFAULT_CLASSIFIERS",
    "EMAIL",
    "GENERIC_SECRET",
    "GITHUB_TOKEN",
    "GOOGLE_API_KEY",
    "IBAN",
    "JWT",
    "OPENAI_KEY",
    "PASSWORD_IN_URL",
    "PHONE",
    "PLATFORM_TOKEN",
    "PRIVATE_KEY",
    "SLACK_TOKEN",
    "SSN",
    "STRIPE_KEY",
    "Classifier",
    "Detector",
    "Hit",
    "aws_secret_ok",
    "custom_classifier",
    "score",
    "secret_key_type",
    "secret_value_ok",
]

DEFAULT_CLASSIFIERS: tuple[Classifier, ...] = (
    SSN,
    EMAIL,
    PHONE,
    CREDIT_CARD,
    IBAN,
    AWS_ACCESS_KEY,
    AWS_SECRET_KEY,
    PRIVATE_KEY,
    GITHUB_TOKEN,
    SLACK_TOKEN,
    STRIPE_KEY,
    OPENAI_KEY,
    GOOGLE_API_KEY,
    JWT,
    PASSWORD_IN_URL,
    PLATFORM_TOKEN,
    GENERIC_SECRET,
)
"""Every built-in classifier. Each has its own kind, except :data:`PLATFORM_TOKEN`, whose findings are
``generic_secret`` with the matching rule's name as ``classifier``."""
