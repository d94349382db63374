"""Secrets with a recognisable shape: cloud keys, private keys, platform tokens, credentials in URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from agent_security.egress._speedups.deferred import compile_on_use
from agent_security.egress.classifiers.base import (
    Classifier,
    Hit,
    alnum_at,
    full,
    s_,
    score,
    word_bounded,
)
from agent_security.egress.findings import Classification
from agent_security.egress.validators import github_token_valid, is_placeholder, jwt_valid, shannon_entropy

if TYPE_CHECKING:
    from agent_security.egress.scanner import LayerView

# ------------------------------------------------------------------------------------------------
# secrets with a recognisable shape
# ------------------------------------------------------------------------------------------------

_AWS_EXAMPLES = {b"AKIAIOSFODNN7EXAMPLE", b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
_AWS_SECRET_VALUE_RX = compile_on_use(rb"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def aws_secret_ok(v: bytes) -> bool:
    if v in _AWS_EXAMPLES or b"EXAMPLE" in v or is_placeholder(s_(v)):
        return False
    has = (any(65 <= c <= 90 for c in v), any(97 <= c <= 122 for c in v), any(48 <= c <= 57 for c in v))
    return all(has) and shannon_entropy(s_(v)) >= 4.0


def _detect_aws_access(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = data[s:e]
    if not word_bounded(data, s, e) or raw in _AWS_EXAMPLES or b"EXAMPLE" in raw or is_placeholder(s_(raw)):
        return
    conf = score(view, s, 0.9, (b"aws", b"access"), ("aws", "accesskey"))
    yield Hit("aws_access_key", Classification.SECRET, s, e, conf, s_(raw[:4]) + "****", 90, "aws_access_key")
    # a secret access key printed next to its key id
    m = _AWS_SECRET_VALUE_RX.search(data, e, min(len(data), e + 256))
    if m is not None and aws_secret_ok(m.group(0)):
        yield Hit("aws_secret_key", Classification.SECRET, m.start(), m.end(), 0.8, "****", 85, "aws_secret_key")


_AWS_SECRET_SEP_RX = compile_on_use(rb"[A-Za-z_\-. ]{0,24}[\s\"'\\]*[:=]{1,2}>?[\s\"'\\]*")


def _detect_aws_secret(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    sep = _AWS_SECRET_SEP_RX.match(data, e, min(len(data), e + 64))
    start = sep.end() if sep else e
    m = _AWS_SECRET_VALUE_RX.match(data, start, min(len(data), start + 41))
    if m is None or not aws_secret_ok(m.group(0)):
        return
    yield Hit("aws_secret_key", Classification.SECRET, m.start(), m.end(), 0.9, "****", 85, "aws_secret_key")


def _detect_private_key(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    header = data[s:e]
    label = header[len(b"-----BEGIN ") : -len(b"-----")]
    end_marker = b"-----END " + label + b"-----"
    j = data.find(end_marker, e, min(len(data), e + 65536))
    body = data[e:j] if j >= 0 else data[e : min(len(data), e + 128)]
    compact = re.sub(rb"[\s\\n]|\\n|Proc-Type:[^\n]*|DEK-Info:[^\n]*", b"", body)
    b64 = re.fullmatch(rb"[A-Za-z0-9+/=]*", compact) is not None
    if j >= 0 and b64 and len(compact) >= 64 and not is_placeholder(s_(compact[:64])):
        conf, end = 0.97, j + len(end_marker)
    elif j >= 0:
        conf, end = 0.4, j + len(end_marker)  # a header with a non-key body ("..." in docs)
    else:
        conf, end = 0.75, e
        if b"..." in body[:16] or b"<" in body[:4]:
            conf = 0.4
    yield Hit(
        "private_key",
        Classification.SECRET,
        s,
        end,
        conf,
        "-----BEGIN " + s_(label) + "----- ****",
        95,
        "private_key",
    )


def _detect_github(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = s_(data[s:e])
    if not word_bounded(data, s, e, b"_") or is_placeholder(raw):
        return
    # fine-grained tokens: structure only; classic new-format tokens: CRC32 checksum
    conf = 0.9 if raw.startswith("github_pat_") else 0.95 if github_token_valid(raw) else 0.3
    yield Hit(
        "github_token",
        Classification.SECRET,
        s,
        e,
        conf,
        raw[: raw.index("_") + 1] + "****",
        90,
        "github_token",
    )


_SLACK_SHAPES = (
    compile_on_use(rb"xox[bar]-\d{8,14}-\d{8,14}(?:-\d{8,14})?-[A-Za-z0-9]{20,40}"),
    compile_on_use(rb"xoxp-\d{8,14}-\d{8,14}-\d{8,14}-[a-f0-9]{32}"),
    compile_on_use(rb"xox[eo]-\d-[A-Za-z0-9-]{40,}"),
    compile_on_use(rb"xoxs-[A-Za-z0-9-]{40,}"),
    compile_on_use(rb"hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}"),
)


def _detect_slack(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    for rx in _SLACK_SHAPES:
        m = rx.match(data, s, min(len(data), s + 256))
        if m is not None and not is_placeholder(s_(m.group(0)).rsplit("-", 1)[-1]):
            masked = (
                "https://hooks.slack.com/services/****"
                if m.group(0).startswith(b"hooks")
                else s_(m.group(0)[:5]) + "****"
            )
            yield Hit("slack_token", Classification.SECRET, s, m.end(), 0.93, masked, 90, "slack_token")
            return


def _detect_stripe(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = s_(data[s:e])
    prefix, _, body = raw.rpartition("_")
    if len(body) < 24 or not word_bounded(data, s, e) or is_placeholder(body):
        return
    conf = 0.95 if "_live" in prefix or prefix == "whsec" else 0.8
    yield Hit("stripe_key", Classification.SECRET, s, e, conf, prefix + "_****", 90, "stripe_key")


def _detect_openai(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = s_(data[s:e])
    if not word_bounded(data, s, e, b"-_") or is_placeholder(raw[3:]):
        return
    body = raw[3:]
    if body.startswith("ant-"):  # Anthropic, same family of risk: a generic secret
        yield Hit("generic_secret", Classification.SECRET, s, e, 0.85, "sk-ant-****", 15, "generic_secret")
        return
    if "T3BlbkFJ" in body:
        conf = 0.98
    elif body.split("-", 1)[0] in ("proj", "svcacct", "admin") and len(body) >= 40:
        conf = 0.92
    else:
        has_digit = any(c.isdigit() for c in body)
        conf = 0.7 if has_digit and len(body) >= 32 and shannon_entropy(body) >= 3.5 else 0.4
        conf = score(view, s, conf, (b"openai", b"api key", b"api_key", b"apikey", b"key"), ("openai", "apikey", "key"))
    masked = "sk-" + (body.split("-", 1)[0] + "-" if "-" in body[:8] else "") + "****"
    yield Hit("openai_key", Classification.SECRET, s, e, conf, masked, 88, "openai_key")


def _detect_google(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = s_(data[s:e])
    if not word_bounded(data, s, e, b"-_") or is_placeholder(raw[4:]):
        return
    yield Hit("google_api_key", Classification.SECRET, s, e, 0.9, "AIza****", 90, "google_api_key")


def _detect_jwt(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = s_(data[s:e]).rstrip(".")
    if alnum_at(data, s - 1) or not jwt_valid(raw):
        return
    yield Hit("jwt", Classification.SECRET, s, s + len(raw), 0.9, "eyJ****.eyJ****.****", 85, "jwt")


_URL_CRED_RX = compile_on_use(
    rb"([A-Za-z][A-Za-z0-9+.\-]{0,15})://([^\s:/@?#\"']{1,128}):([^\s/@?#\"']{1,256})@"
    rb"([A-Za-z0-9.\-\[\]:]{1,255})"
)


_SCHEME_BACK = compile_on_use(rb"[A-Za-z][A-Za-z0-9+.\-]{0,15}\Z")


def _detect_password_in_url(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    sm = _SCHEME_BACK.search(data, max(0, s - 16), s)
    if sm is None:
        return
    s = sm.start()
    m = _URL_CRED_RX.match(data, s, min(len(data), s + 700))
    if m is None:
        return
    password = s_(m.group(3))
    if is_placeholder(password) or password.startswith("$") or len(password) < 3:
        return
    masked = f"{s_(m.group(1))}://{s_(m.group(2)[:1])}***:****@{s_(m.group(4))}"
    yield Hit("password_in_url", Classification.SECRET, s, m.end(3) + 1, 0.9, masked, 80, "password_in_url")


# ------------------------------------------------------------------------------------------------
# the classifiers (anchors are whole token shapes: benign text rarely wakes a detector)
# ------------------------------------------------------------------------------------------------

_SECRET = Classification.SECRET

AWS_ACCESS_KEY = Classifier(
    "aws_access_key",
    "aws_access_key",
    _SECRET,
    r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
    _detect_aws_access,
    90,
    "AWS access key id (AWS's EXAMPLE keys excluded)",
    True,
)
AWS_SECRET_KEY = Classifier(
    "aws_secret_key",
    "aws_secret_key",
    _SECRET,
    r"(?i:aws.?secret|secret.?access.?key)",
    _detect_aws_secret,
    85,
    "AWS secret access key next to its key name or key id",
    True,
)
PRIVATE_KEY = Classifier(
    "private_key",
    "private_key",
    _SECRET,
    r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY",
    full(rb"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----", _detect_private_key),
    95,
    "PEM/OpenSSH/PGP private key block",
    True,
)
GITHUB_TOKEN = Classifier(
    "github_token",
    "github_token",
    _SECRET,
    r"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_",
    full(rb"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}", _detect_github),
    90,
    "GitHub token (CRC32 base62 checksum verified)",
    True,
)
SLACK_TOKEN = Classifier(
    "slack_token",
    "slack_token",
    _SECRET,
    r"xox[abposre]-[A-Za-z0-9]|hooks\.slack\.com/services/",
    _detect_slack,
    90,
    "Slack token or incoming-webhook URL",
    True,
)
STRIPE_KEY = Classifier(
    "stripe_key",
    "stripe_key",
    _SECRET,
    r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10}|whsec_[A-Za-z0-9]{24}",
    full(rb"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9]{24,247}", _detect_stripe),
    90,
    "Stripe secret, restricted or webhook-signing key",
    True,
)
OPENAI_KEY = Classifier(
    "openai_key",
    "openai_key",
    _SECRET,
    r"sk-[A-Za-z0-9_\-]{20}",
    full(rb"sk-[A-Za-z0-9_\-]{20,500}", _detect_openai),
    88,
    "OpenAI API key (legacy, project, service-account, admin)",
    True,
)
GOOGLE_API_KEY = Classifier(
    "google_api_key",
    "google_api_key",
    _SECRET,
    r"AIza[0-9A-Za-z_\-]{35}",
    full(rb"AIza[0-9A-Za-z_\-]{35}", _detect_google),
    90,
    "Google API key",
    True,
)
JWT = Classifier(
    "jwt",
    "jwt",
    _SECRET,
    r"ey[A-Za-z0-9_\-]{10,}\.ey",
    full(rb"ey[A-Za-z0-9_\-]{10,8192}\.ey[A-Za-z0-9_\-]{10,8192}\.[A-Za-z0-9_\-]{0,8192}", _detect_jwt, 24_600),
    85,
    "JSON Web Token (structure verified)",
    True,
)
PASSWORD_IN_URL = Classifier(
    "password_in_url",
    "password_in_url",
    _SECRET,
    r"://[^\s:/@?#\"']{1,128}:[^\s/@?#\"']{1,256}@",
    _detect_password_in_url,
    80,
    "user:password@ in a URL",
    True,
)
