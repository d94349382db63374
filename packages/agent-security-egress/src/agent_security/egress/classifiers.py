"""Classifiers: what sensitive data looks like, and how a candidate is confirmed.

A :class:`Classifier` contributes an *anchor* (an RE2 regular expression) to the scanner's single
combined pass over the text, and a *detector* that runs only where its anchor matched, on a small
window, to extract, validate (Luhn, mod-97, checksums, structure), score (context words, key names)
and mask the candidate. Built-in detectors use Python's ``re`` on bounded windows with patterns written
to be linear; custom patterns (from configuration or other distributions) only ever run through RE2.

Confidence is a float in ``[0, 1]``; the scanner drops hits below its ``min_confidence`` (0.5 by
default). Context words before a hit and the JSON key the value sits under raise it; words such as
"example" or "order" lower it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import re2

from agent_security.core.errors import ConfigurationError
from agent_security.egress.findings import Classification
from agent_security.egress.validators import (
    card_brand,
    github_token_valid,
    iban_valid,
    is_placeholder,
    jwt_valid,
    luhn_valid,
    shannon_entropy,
    ssn_valid,
)

if TYPE_CHECKING:
    from agent_security.egress.scanner import LayerView

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
    "PRIVATE_KEY",
    "SLACK_TOKEN",
    "SSN",
    "STRIPE_KEY",
    "Classifier",
    "Hit",
    "custom_classifier",
    "secret_key_type",
]


@dataclass(slots=True)
class Hit:
    """A confirmed candidate inside one scanned layer (byte offsets into that layer)."""

    kind: str
    classification: Classification
    start: int
    end: int
    confidence: float
    masked: str
    priority: int
    classifier: str
    consume: bool = True
    """False when the scan should keep looking inside this hit (generic key=value hits)."""
    decoding: tuple[str, ...] = ()
    layer: int = 0
    inner: tuple[int, int] = (0, 0)


Detector = Callable[["LayerView", int, int], Iterable[Hit]]


@dataclass(frozen=True, eq=False)
class Classifier:
    """One kind of sensitive data.

    ``anchor`` is an RE2 pattern matched by the scanner's combined pass; ``detect(view, start, end)``
    is called for each anchor match and yields confirmed :class:`Hit` objects. Built-in classifiers
    share anchors (the digit-run anchor serves SSN, phone and card numbers).
    """

    name: str
    kind: str
    classification: Classification
    anchor: str
    detect: Detector = field(repr=False)
    priority: int = 50
    description: str = ""
    builtin: bool = False
    """Built-in anchors run in the primary pass; custom ones in one extra combined pass."""


# ------------------------------------------------------------------------------------------------
# shared helpers
# ------------------------------------------------------------------------------------------------

_NEGATIVE = (b"example", b"sample", b"dummy", b"placeholder", b"fake", b"lorem")


def _s(b: bytes) -> str:
    return b.decode("utf-8", "replace")


@functools.lru_cache(maxsize=256)
def _words(words: tuple[bytes, ...]) -> re.Pattern[bytes]:
    return re.compile(b"|".join(re.escape(w) for w in words))


def score(
    view: LayerView,
    start: int,
    base: float,
    context: Sequence[bytes] = (),
    keys: Sequence[str] = (),
    negative: Sequence[bytes] = _NEGATIVE,
    window: int = 48,
) -> float:
    """``base`` raised by context words in the ``window`` bytes before ``start`` and by a matching JSON
    key name, lowered by negative words."""
    c = base
    win = view.data[max(0, start - window) : start].lower()
    if context and _words(tuple(context)).search(win):
        c += 0.15
    if keys and view.key and any(k in view.key for k in keys):
        c += 0.2
    if negative and _words(tuple(negative)).search(win):
        c -= 0.3
    return max(0.0, min(1.0, c))


def _alnum_at(data: bytes, i: int) -> bool:
    return 0 <= i < len(data) and (chr(data[i]).isalnum() and data[i] < 128)


def _word_bounded(data: bytes, s: int, e: int, extra: bytes = b"") -> bool:
    def inside(i: int) -> bool:
        return 0 <= i < len(data) and (_alnum_at(data, i) or data[i] in extra)

    return not inside(s - 1) and not inside(e)


# ------------------------------------------------------------------------------------------------
# numbers: SSN, phone, card (one shared anchor: a run of >= 9 digits with light separators)
# ------------------------------------------------------------------------------------------------

DIGIT_RUN = r"\d(?:[ \-.()]{0,3}\d){8,}"

_CARD_RX = re.compile(
    rb"(?<![A-Za-z0-9])(?:\d{4}([ .-])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?"
    rb"|\d{4}([ -])\d{6}\2\d{4,5}|\d{12,19})(?![A-Za-z0-9])"
)
_CARD_CTX = (
    b"card",
    b"visa",
    b"master",
    b"amex",
    b"credit",
    b"debit",
    b"pan",
    b"cc",
    b"payment",
    b"cvv",
    b"exp",
)
_CARD_KEYS = ("card", "pan", "ccnum", "ccn", "cardnumber", "creditcard")


def _digits_window(view: LayerView, s: int, e: int) -> tuple[int, int]:
    return max(0, s - 3), min(len(view.data), e + 2)


def _detect_card(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    ws, we = _digits_window(view, s, e)
    for m in _CARD_RX.finditer(view.data, ws, we):
        raw = m.group(0)
        digits = raw.replace(b" ", b"").replace(b"-", b"").replace(b".", b"").decode()
        if not 13 <= len(digits) <= 19 or not luhn_valid(digits):
            continue
        if card_brand(digits) is None or len(set(digits)) <= 1:
            continue
        base = 0.85 if m.group(1) or m.group(2) else 0.75
        # no negative words: the number passed its brand range and Luhn, and "sample"/"example" (or a
        # URL host such as ``h.example``) in front of it must not be a way to send a card out unseen
        conf = score(view, m.start(), base, _CARD_CTX, _CARD_KEYS, negative=())
        yield Hit(
            "credit_card",
            Classification.PCI,
            m.start(),
            m.end(),
            conf,
            "****-****-****-" + digits[-4:],
            70,
            "credit_card",
        )


_SSN_RX = re.compile(rb"(?<![A-Za-z0-9-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![A-Za-z0-9]|-\d)")
_SSN_CTX = (b"ssn", b"social security", b"social sec", b"taxpayer", b"tin ", b"tin:", b"ss#", b"ss #")
_SSN_KEYS = ("ssn", "socialsecurity", "taxid", "tin")


def _detect_ssn(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    ws, we = _digits_window(view, s, e)
    for m in _SSN_RX.finditer(view.data, ws, we):
        area, sep, group, serial = (x.decode() for x in m.groups())
        if not ssn_valid(area, group, serial):
            continue
        base = {"-": 0.8, " ": 0.6}.get(sep, 0.4)
        conf = score(view, m.start(), base, _SSN_CTX, _SSN_KEYS)
        yield Hit("ssn", Classification.PII, m.start(), m.end(), conf, "***-**-" + serial, 60, "ssn")


_NANP_RX = re.compile(
    rb"(?<![A-Za-z0-9+])(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}(?![\d])"
)
# one character class, then a digit: linear (no nested quantifiers); the digit count is checked after
_INTL_RX = re.compile(rb"(?<![\w+])\+[1-9][\d .()\-]{6,24}\d(?!\d)")
_BARE_PHONE_RX = re.compile(rb"(?<![A-Za-z0-9])\d{10,11}(?![A-Za-z0-9])")
_PHONE_CTX = (b"phone", b"tel", b"mobile", b"cell", b"call", b"fax", b"sms", b"whatsapp", b"contact")
_PHONE_KEYS = ("phone", "tel", "mobile", "cell", "fax", "msisdn")
_PHONE_NEG = (
    *_NEGATIVE,
    b"order",
    b"invoice",
    b"tracking",
    b"ticket",
    b"ref",
    b"acct",
    b"account",
    b"transaction",
    b"id:",
    b"id ",
    b"#",
)


def _phone_hit(view: LayerView, m: re.Match[bytes], base: float) -> Hit | None:
    digits = re.sub(rb"\D", b"", m.group(0))
    if not 8 <= len(digits) <= 15 or len(set(digits)) <= 2:
        return None
    conf = score(view, m.start(), base, _PHONE_CTX, _PHONE_KEYS, _PHONE_NEG)
    return Hit("phone", Classification.PII, m.start(), m.end(), conf, "***-***-" + digits[-4:].decode(), 40, "phone")


def _detect_phone(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    ws, we = _digits_window(view, s, e)
    data = view.data
    seen: list[tuple[int, int]] = []
    for rx, base in ((_NANP_RX, 0.7), (_INTL_RX, 0.65), (_BARE_PHONE_RX, 0.35)):
        for m in rx.finditer(data, ws, we):
            if any(m.start() < b and a < m.end() for a, b in seen):
                continue
            hit = _phone_hit(view, m, base)
            if hit is not None:
                seen.append((m.start(), m.end()))
                yield hit


# ------------------------------------------------------------------------------------------------
# IBAN, email
# ------------------------------------------------------------------------------------------------

_IBAN_RX = re.compile(rb"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")


def _detect_iban(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    if _alnum_at(data, s - 1):
        return
    m = _IBAN_RX.match(data, s, min(len(data), s + 48))
    if m is None:
        return
    raw = m.group(0)
    want = _iban_len(raw[:2])
    if want is None:
        return
    compact = bytearray()
    end = s
    for i, ch in enumerate(raw):
        if ch != 0x20:
            compact.append(ch)
        if len(compact) == want:
            end = s + i + 1
            break
    if len(compact) != want or _alnum_at(data, end):
        return
    iban = compact.decode()
    if not iban_valid(iban):
        return
    conf = score(view, s, 0.9, (b"iban", b"account", b"bank"), ("iban", "account", "bank"))
    yield Hit("iban", Classification.PII, s, end, conf, iban[:2] + "**" + "*" * 4 + iban[-4:], 65, "iban")


def _iban_len(cc: bytes) -> int | None:
    from agent_security.egress.validators import IBAN_LENGTHS

    return IBAN_LENGTHS.get(cc.decode("ascii", "replace"))


_LOCAL_REV = re.compile(rb"[A-Za-z0-9._%+\-]{1,64}")  # matched on the reversed window: linear
_DOMAIN_RX = re.compile(rb"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}([A-Za-z]{2,24})(?![A-Za-z0-9\-])")
_FILE_TLDS = {
    b"png",
    b"jpg",
    b"jpeg",
    b"gif",
    b"svg",
    b"webp",
    b"css",
    b"js",
    b"ts",
    b"py",
    b"json",
    b"yaml",
    b"yml",
    b"txt",
    b"md",
    b"html",
    b"htm",
    b"lock",
    b"map",
    b"toml",
    b"ico",
    b"pdf",
    b"zip",
    b"tsx",
    b"jsx",
    b"rs",
    b"go",
    b"java",
    b"rb",
    b"php",
    b"sh",
    b"cfg",
    b"ini",
    b"xml",
    b"csv",
    b"log",
}


def _detect_email(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    lm = _LOCAL_REV.match(data[max(0, s - 64) : s][::-1])
    if lm is None:
        return
    ls = s - lm.end()
    local = data[ls:s]
    while local[:1] in (b".", b"-", b"+"):
        local, ls = local[1:], ls + 1
    if not local or local.endswith(b"."):
        return
    if ls > 0 and data[ls - 1] in b":/\\" and data[max(0, ls - 7) : ls].lower() != b"mailto:":
        return  # credentials in a URL: password_in_url's business
    dm = _DOMAIN_RX.match(data, s + 1, min(len(data), s + 256))
    if dm is None or dm.group(1).lower() in _FILE_TLDS:
        return
    if local == b"git" and data[dm.end() : dm.end() + 1] == b":":  # git@host:org/repo
        return
    conf = score(view, ls, 0.85, (b"email", b"e-mail", b"mail", b"contact"), ("email", "mail"), (b"lorem",))
    masked = _s(local[:1]) + "***@" + _s(dm.group(0))
    yield Hit("email", Classification.PII, ls, dm.end(), conf, masked, 50, "email")


# ------------------------------------------------------------------------------------------------
# secrets with a recognisable shape
# ------------------------------------------------------------------------------------------------

_AWS_EXAMPLES = {b"AKIAIOSFODNN7EXAMPLE", b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
_AWS_SECRET_VALUE_RX = re.compile(rb"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def aws_secret_ok(v: bytes) -> bool:
    if v in _AWS_EXAMPLES or b"EXAMPLE" in v or is_placeholder(_s(v)):
        return False
    has = (any(65 <= c <= 90 for c in v), any(97 <= c <= 122 for c in v), any(48 <= c <= 57 for c in v))
    return all(has) and shannon_entropy(_s(v)) >= 4.0


def _detect_aws_access(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = data[s:e]
    if not _word_bounded(data, s, e) or raw in _AWS_EXAMPLES or b"EXAMPLE" in raw or is_placeholder(_s(raw)):
        return
    conf = score(view, s, 0.9, (b"aws", b"access"), ("aws", "accesskey"))
    yield Hit("aws_access_key", Classification.SECRET, s, e, conf, _s(raw[:4]) + "****", 90, "aws_access_key")
    # a secret access key printed next to its key id
    m = _AWS_SECRET_VALUE_RX.search(data, e, min(len(data), e + 256))
    if m is not None and aws_secret_ok(m.group(0)):
        yield Hit("aws_secret_key", Classification.SECRET, m.start(), m.end(), 0.8, "****", 85, "aws_secret_key")


_AWS_SECRET_SEP_RX = re.compile(rb"[A-Za-z_\-. ]{0,24}[\s\"'\\]*[:=]{1,2}>?[\s\"'\\]*")


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
    if j >= 0 and b64 and len(compact) >= 64 and not is_placeholder(_s(compact[:64])):
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
        "-----BEGIN " + _s(label) + "----- ****",
        95,
        "private_key",
    )


def _detect_github(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = _s(data[s:e])
    if not _word_bounded(data, s, e, b"_") or is_placeholder(raw):
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
    re.compile(rb"xox[bar]-\d{8,14}-\d{8,14}(?:-\d{8,14})?-[A-Za-z0-9]{20,40}"),
    re.compile(rb"xoxp-\d{8,14}-\d{8,14}-\d{8,14}-[a-f0-9]{32}"),
    re.compile(rb"xox[eo]-\d-[A-Za-z0-9-]{40,}"),
    re.compile(rb"xoxs-[A-Za-z0-9-]{40,}"),
    re.compile(rb"hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}"),
)


def _detect_slack(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    for rx in _SLACK_SHAPES:
        m = rx.match(data, s, min(len(data), s + 256))
        if m is not None and not is_placeholder(_s(m.group(0)).rsplit("-", 1)[-1]):
            masked = (
                "https://hooks.slack.com/services/****"
                if m.group(0).startswith(b"hooks")
                else _s(m.group(0)[:5]) + "****"
            )
            yield Hit("slack_token", Classification.SECRET, s, m.end(), 0.93, masked, 90, "slack_token")
            return


def _detect_stripe(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = _s(data[s:e])
    prefix, _, body = raw.rpartition("_")
    if len(body) < 24 or not _word_bounded(data, s, e) or is_placeholder(body):
        return
    conf = 0.95 if "_live" in prefix or prefix == "whsec" else 0.8
    yield Hit("stripe_key", Classification.SECRET, s, e, conf, prefix + "_****", 90, "stripe_key")


def _detect_openai(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = _s(data[s:e])
    if not _word_bounded(data, s, e, b"-_") or is_placeholder(raw[3:]):
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
    raw = _s(data[s:e])
    if not _word_bounded(data, s, e, b"-_") or is_placeholder(raw[4:]):
        return
    yield Hit("google_api_key", Classification.SECRET, s, e, 0.9, "AIza****", 90, "google_api_key")


def _detect_jwt(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    raw = _s(data[s:e]).rstrip(".")
    if _alnum_at(data, s - 1) or not jwt_valid(raw):
        return
    yield Hit("jwt", Classification.SECRET, s, s + len(raw), 0.9, "eyJ****.eyJ****.****", 85, "jwt")


_URL_CRED_RX = re.compile(
    rb"([A-Za-z][A-Za-z0-9+.\-]{0,15})://([^\s:/@?#\"']{1,128}):([^\s/@?#\"']{1,256})@"
    rb"([A-Za-z0-9.\-\[\]:]{1,255})"
)


_SCHEME_BACK = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]{0,15}\Z")


def _detect_password_in_url(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    sm = _SCHEME_BACK.search(data, max(0, s - 16), s)
    if sm is None:
        return
    s = sm.start()
    m = _URL_CRED_RX.match(data, s, min(len(data), s + 700))
    if m is None:
        return
    password = _s(m.group(3))
    if is_placeholder(password) or password.startswith("$") or len(password) < 3:
        return
    masked = f"{_s(m.group(1))}://{_s(m.group(2)[:1])}***:****@{_s(m.group(4))}"
    yield Hit("password_in_url", Classification.SECRET, s, m.end(3) + 1, 0.9, masked, 80, "password_in_url")


# ------------------------------------------------------------------------------------------------
# generic secrets: only next to a secret-like key name
# ------------------------------------------------------------------------------------------------

_PW_RX = re.compile(r"pass(?:word|wd|phrase|code)?s?$|^pwd$|pwd$|^pw$|password|passwd|passphrase")
_PW_NOT = re.compile(
    r"passport|passenger|bypass|compass|passthrough|passed|passing|passive|"
    r"policy|length|reset|hint|expir|changed|strength|required|less|field|label|prompt|"
    r"min|max|rule|file|type|hash|salt|id$|count|enabled|auth$|url$|path$|name$"
)
_TOKEN_RX = re.compile(
    r"secret|token|apikey|accesskey|authkey|privatekey|clientsecret|credential|"
    r"^auth$|authtoken|authorization|bearer|sessionid|sessiontoken|signingkey|"
    r"encryptionkey|masterkey|cookie|webhooksecret|^key$|xapikey"
)
_TOKEN_NOT = re.compile(
    r"maxtokens|tokencount|tokens$|tokenizer|tokentype|tokenlimit|numtokens|totaltokens|"
    r"prompttokens|completiontokens|secretname|secretarn|secretid|secretref|secretkeyref|"
    r"author|authority|authenticat|tokenurl|tokenendpoint|tokenpath|"
    r"expir|ttl|length|usage|budget|estimate|keyid$|keyname$|cookiename|samesite|"
    r"type$|file$|path$|url$|name$|(?<!session)id$|count$|enabled$|policy$"
)


@functools.lru_cache(maxsize=4096)
def secret_key_type(key: str) -> str | None:
    """``"password"``, ``"token"`` or ``None`` for a key name (any case and separators)."""
    k = re.sub(r"[\s_\-.]", "", key.lower())[-64:]
    if not k:
        return None
    if _PW_RX.search(k) and not _PW_NOT.search(k):
        return "password"
    if _TOKEN_RX.search(k) and not _TOKEN_NOT.search(k):
        return "token"
    return None


_DIGIT = re.compile(r"\d")


def secret_value_ok(kind: str, value: str) -> float:
    """Confidence that ``value`` under a key of type ``kind`` is a real secret (0 when it is not)."""
    v = value.strip()
    if len(v) > 4096 or is_placeholder(v):
        return 0.0
    if kind == "password":
        # a passphrase may have spaces; a sentence under a password key is documentation
        if len(v) < 6 or len(v) > 128 or len(v.split()) > 5:
            return 0.0
        return 0.8
    if len(v) < 16 or re.search(r"\s", v):
        return 0.0
    ent = shannon_entropy(v)
    classes = (v != v.upper()) + (v != v.lower()) + (_DIGIT.search(v) is not None)
    if ent >= 3.5 and classes >= 2:
        return 0.8
    if ent >= 3.0 and classes >= 2 and len(v) >= 24:
        return 0.65
    return 0.0


_KEY_TAIL = re.compile(rb"[A-Za-z0-9_.\-]{0,48}")
_ASSIGN_RX = re.compile(rb"[\"'\\]{0,3}[ \t]*(?::=|=>|[:=])[ \t]*(?:\\?[\"'`])?")
_BEARER_RX = re.compile(rb"[ \t]+([A-Za-z0-9._~+/\-]{16,4096}=*)")
_QUOTED = {q: re.compile(b"[^\n" + q + b"\\\\]{1,512}(?=\\\\?" + q + b")") for q in (b'"', b"'", b"`")}
_VALUE_RX = re.compile(rb"[^\s\"'`\\,;&}<>\]\)]{1,512}")


def _detect_generic(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    if s < view.key_end:  # inside a key name already examined ("passwordpassword...")
        return
    back = _KEY_TAIL.match(data[max(0, s - 48) : s][::-1])  # linear: scan the reversed window forwards
    ks = s - (back.end() if back else 0)
    kt = _KEY_TAIL.match(data, e)
    ke = kt.end() if kt else e
    view.key_end = ke
    key = _s(data[ks:ke])
    if key.lower() == "bearer":
        bm = _BEARER_RX.match(data, ke)
        if bm is not None and secret_value_ok("token", _s(bm.group(1))) > 0:
            yield Hit(
                "generic_secret",
                Classification.SECRET,
                bm.start(1),
                bm.end(1),
                0.85,
                "Bearer ****",
                10,
                "generic_secret",
                consume=False,
            )
        return
    ktype = secret_key_type(key)
    if ktype is None:
        return
    am = _ASSIGN_RX.match(data, ke, min(len(data), ke + 16))
    if am is None or am.end() == ke:
        return
    quote = data[am.end() - 1 : am.end()]
    vm = None
    if quote in (b'"', b"'", b"`"):  # a quoted value runs to its closing quote (same line, bounded)
        vm = _QUOTED[quote].match(data, am.end())
    if vm is None:
        vm = _VALUE_RX.match(data, am.end())
    if vm is None:
        return
    value = _s(vm.group(0))
    if ktype == "token" and re.search(r"\s", value):
        return
    conf = secret_value_ok(ktype, value)
    if conf <= 0:
        return
    yield Hit(
        "generic_secret",
        Classification.SECRET,
        vm.start(),
        vm.end(),
        conf,
        "********",
        10,
        "generic_secret",
        consume=False,
    )


def _full(pattern: bytes, detector: Detector, limit: int = 512) -> Detector:
    """Run ``detector`` on the full token matched by ``pattern`` at the anchor's start.

    Anchors stay short (a literal prefix and one character) so the combined RE2 automaton stays small
    and fast; the bounded Python pattern here extends the match only where an anchor hit.
    """
    rx = re.compile(pattern)

    def detect(view: LayerView, s: int, e: int) -> Iterable[Hit]:
        m = rx.match(view.data, s, min(len(view.data), s + limit))
        if m is None:
            return ()
        return detector(view, s, m.end())

    return detect


# ------------------------------------------------------------------------------------------------
# the built-in set
# ------------------------------------------------------------------------------------------------

_PII, _PCI, _SECRET = Classification.PII, Classification.PCI, Classification.SECRET

SSN = Classifier(
    "ssn",
    "ssn",
    _PII,
    DIGIT_RUN,
    _detect_ssn,
    60,
    "US Social Security number: area/group/serial rules; bare 9 digits need context",
    True,
)
PHONE = Classifier(
    "phone",
    "phone",
    _PII,
    DIGIT_RUN,
    _detect_phone,
    40,
    "Phone number: NANP with separators, +E.164; bare digits need context",
    True,
)
CREDIT_CARD = Classifier(
    "credit_card",
    "credit_card",
    _PCI,
    DIGIT_RUN,
    _detect_card,
    70,
    "Payment card number: brand IIN range and length, Luhn",
    True,
)
IBAN = Classifier(
    "iban",
    "iban",
    _PII,
    r"\b[A-Z]{2}\d{2} ?[A-Z0-9]",
    _detect_iban,
    65,
    "IBAN: country length and ISO 7064 mod-97",
    True,
)
EMAIL = Classifier("email", "email", _PII, r"@", _detect_email, 50, "Email address", True)
AWS_ACCESS_KEY = Classifier(
    "aws_access_key",
    "aws_access_key",
    _SECRET,
    r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]",
    _full(rb"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}", _detect_aws_access),
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
    r"-----BEGIN [A-Z0-9 ]",
    _full(rb"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----", _detect_private_key),
    95,
    "PEM/OpenSSH/PGP private key block",
    True,
)
GITHUB_TOKEN = Classifier(
    "github_token",
    "github_token",
    _SECRET,
    r"gh[pousr]_[A-Za-z0-9]|github_pat_",
    _full(rb"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}", _detect_github),
    90,
    "GitHub token (CRC32 base62 checksum verified)",
    True,
)
SLACK_TOKEN = Classifier(
    "slack_token",
    "slack_token",
    _SECRET,
    r"xox[abposre]-|hooks\.slack\.com/services/",
    _detect_slack,
    90,
    "Slack token or incoming-webhook URL",
    True,
)
STRIPE_KEY = Classifier(
    "stripe_key",
    "stripe_key",
    _SECRET,
    r"(?:sk|rk)_(?:live|test)_|whsec_",
    _full(rb"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9]{24,247}", _detect_stripe),
    90,
    "Stripe secret, restricted or webhook-signing key",
    True,
)
OPENAI_KEY = Classifier(
    "openai_key",
    "openai_key",
    _SECRET,
    r"sk-[A-Za-z0-9_\-]",
    _full(rb"sk-[A-Za-z0-9_\-]{20,500}", _detect_openai),
    88,
    "OpenAI API key (legacy, project, service-account, admin)",
    True,
)
GOOGLE_API_KEY = Classifier(
    "google_api_key",
    "google_api_key",
    _SECRET,
    r"AIza[0-9A-Za-z_\-]",
    _full(rb"AIza[0-9A-Za-z_\-]{35}", _detect_google),
    90,
    "Google API key",
    True,
)
JWT = Classifier(
    "jwt",
    "jwt",
    _SECRET,
    r"ey[A-Za-z0-9_\-]+\.ey",
    _full(rb"ey[A-Za-z0-9_\-]{10,8192}\.ey[A-Za-z0-9_\-]{10,8192}\.[A-Za-z0-9_\-]{0,8192}", _detect_jwt, 24_600),
    85,
    "JSON Web Token (structure verified)",
    True,
)
PASSWORD_IN_URL = Classifier(
    "password_in_url",
    "password_in_url",
    _SECRET,
    r"://[^\s:/@?#\"']+:",
    _detect_password_in_url,
    80,
    "user:password@ in a URL",
    True,
)
GENERIC_SECRET = Classifier(
    "generic_secret",
    "generic_secret",
    _SECRET,
    r"(?i:pass(?:word|wd|phrase)?|pwd|secret|token|api.?key|access.?key|auth|credential|private.?key|"
    r"bearer|client.?secret|session.?id|cookie)",
    _detect_generic,
    10,
    "High-entropy value or password assigned to a secret-like key name",
    True,
)

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
    GENERIC_SECRET,
)
"""Every built-in classifier, one per kind."""


# ------------------------------------------------------------------------------------------------
# custom classifiers
# ------------------------------------------------------------------------------------------------


def custom_classifier(
    kind: str,
    pattern: str,
    classification: Classification | str = Classification.CUSTOM,
    *,
    validator: Callable[[str], bool] | None = None,
    context_words: Sequence[str] = (),
    negative_words: Sequence[str] = (),
    key_names: Sequence[str] = (),
    confidence: float = 0.7,
    mask_keep: int = 0,
    priority: int = 50,
    name: str | None = None,
    description: str = "",
) -> Classifier:
    """Build a classifier from an RE2 ``pattern`` (linear time: safe for patterns from configuration).

    ``validator(match) -> bool`` confirms a match (e.g. a checksum); ``context_words`` seen in the 48
    characters before a match add 0.15 to ``confidence``, ``negative_words`` subtract 0.3, and
    ``key_names`` (substrings of the JSON key the value sits under) add 0.2. ``mask_keep`` leading
    characters are shown in the masked preview when the match is at least four times longer.

    Raises :class:`~agent_security.core.ConfigurationError` for a pattern RE2 rejects or one that
    matches the empty string.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", kind):
        raise ConfigurationError(f"classifier kind {kind!r} must be lower-case snake_case (<= 64 chars)")
    try:
        compiled = re2.compile(pattern)
    except Exception as exc:
        raise ConfigurationError(f"classifier {kind!r}: pattern is not a valid RE2 expression: {exc}") from None
    if compiled.groups:
        raise ConfigurationError(f"classifier {kind!r}: use non-capturing groups (?:...) in the pattern")
    if compiled.fullmatch("") is not None:
        raise ConfigurationError(f"classifier {kind!r}: pattern matches the empty string")
    if not 0.0 <= confidence <= 1.0:
        raise ConfigurationError(f"classifier {kind!r}: confidence must be within [0, 1]")
    cls = Classification(classification)
    ctx = tuple(w.lower().encode() for w in context_words)
    neg = tuple(w.lower().encode() for w in negative_words)
    keys = tuple(re.sub(r"[\s_\-.]", "", k.lower()) for k in key_names)

    def detect(view: LayerView, s: int, e: int) -> Iterable[Hit]:
        text = _s(view.data[s:e])
        if validator is not None and not validator(text):
            return
        conf = score(view, s, confidence, ctx, keys, neg or _NEGATIVE)
        masked = text[:mask_keep] + "****" if mask_keep and len(text) >= 4 * mask_keep else f"[{kind}]"
        yield Hit(kind, cls, s, e, conf, masked, priority, name or kind)

    return Classifier(name or kind, kind, cls, pattern, detect, priority, description or f"custom: {kind}")
