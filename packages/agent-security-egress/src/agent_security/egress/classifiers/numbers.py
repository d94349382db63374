"""Numbers and addresses: card, SSN, phone, IBAN, email."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from agent_security.egress._speedups.deferred import compile_on_use
from agent_security.egress.classifiers.base import (
    NEGATIVE,
    Classifier,
    Hit,
    alnum_at,
    s_,
    score,
)
from agent_security.egress.findings import Classification
from agent_security.egress.validators import (
    IBAN_LENGTHS,
    card_brand,
    card_number_regex,
    iban_valid,
    luhn_valid,
    ssn_valid,
)

if TYPE_CHECKING:
    from agent_security.egress.scanner import LayerView

# ------------------------------------------------------------------------------------------------
# numbers: card, SSN, phone. Each shape has its own anchor; bare runs that only count with context are
# anchored behind their context words, or bare under a JSON key that names the kind.
# ------------------------------------------------------------------------------------------------

_B = r"(?:\b|_)"  # a digit run starts at a word boundary (or after "_"): never re-matched one digit later
CARD_ANCHOR = _B + r"(?:\d{4}[ .-]\d{4}[ .-]\d{4}[ .-]\d{1,4}|\d{4}[ -]\d{6}[ -]\d{4,5}|" + card_number_regex() + ")"
_CARD_RX = compile_on_use(
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


_RUN_TAIL = compile_on_use(rb"[\d .()\-]{0,40}")


def _digits_window(view: LayerView, s: int, e: int) -> tuple[int, int]:
    """The anchor's span widened to the whole digit run around it (an anchor may stop inside a run)."""
    m = _RUN_TAIL.match(view.data, e)
    return max(0, s - 3), min(len(view.data), (m.end() if m else e) + 2)


def _detect_card(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    ws, we = _digits_window(view, s, e)
    for m in _CARD_RX.finditer(view.data, ws, we):
        raw = m.group(0)
        digits = raw.replace(b" ", b"").replace(b"-", b"").replace(b".", b"").decode()
        if not 13 <= len(digits) <= 19 or not luhn_valid(digits):
            continue
        brand = card_brand(digits)
        if brand is None or len(set(digits)) <= 1:
            continue
        base = 0.85 if m.group(1) or m.group(2) else 0.75
        if brand == "uatp":  # 15 digits starting with 1: many identifiers look alike; needs context
            base -= 0.3
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


_SSN_RX = compile_on_use(rb"(?<![A-Za-z0-9-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![A-Za-z0-9]|-\d)")
_SSN_CTX = (b"ssn", b"social security", b"social sec", b"taxpayer", b"tin ", b"tin:", b"ss#", b"ss #")
_SSN_KEYS = ("ssn", "socialsecurity", "taxid", "tin")
SSN_ANCHOR = _B + r"\d{3}[- ]\d{2}[- ]\d{4}\b"
SSN_CONTEXT_ANCHOR = r"(?i:ssn|social security|social sec|taxpayer|tin[ :]|ss ?#)[^\n]{0,40}?" + _B + r"\d{9}\b"
SSN_KEYED_ANCHOR = _B + r"\d{9}\b"


def _detect_ssn(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    ws, we = _digits_window(view, s, e)
    for m in _SSN_RX.finditer(view.data, ws, we):
        area, sep, group, serial = (x.decode() for x in m.groups())
        if not ssn_valid(area, group, serial):
            continue
        base = {"-": 0.8, " ": 0.6}.get(sep, 0.4)
        conf = score(view, m.start(), base, _SSN_CTX, _SSN_KEYS)
        yield Hit("ssn", Classification.PII, m.start(), m.end(), conf, "***-**-" + serial, 60, "ssn")


_NANP_RX = compile_on_use(
    rb"(?<![A-Za-z0-9+])(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}(?![\d])"
)
# one character class, then a digit: linear (no nested quantifiers); the digit count is checked after
_INTL_RX = compile_on_use(rb"(?<![\w+])\+[1-9][\d .()\-]{6,24}\d(?!\d)")
_BARE_PHONE_RX = compile_on_use(rb"(?<![A-Za-z0-9])\d{10,11}(?![A-Za-z0-9])")
# a national number (trunk prefix 0): checked with libphonenumber against the regions below
_NATIONAL_RX = compile_on_use(rb"(?<![\w+])\(?0\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}(?![\d])")
_REGIONS = ("GB", "DE", "FR", "IT", "ES", "NL", "BE", "AT", "CH", "SE", "IE", "PL", "AU", "NZ", "IN", "JP", "BR",
            "ZA", "MX", "AR", "KR", "TR")  # fmt: skip
_PHONE_CTX = (b"phone", b"tel", b"mobile", b"cell", b"call", b"fax", b"sms", b"whatsapp", b"contact")
_PHONE_KEYS = ("phone", "tel", "mobile", "cell", "fax", "msisdn")
_NATIONAL = r"\(?\b0\d{1,4}\)?[ .-]?\d{2,4}[ .-]?\d{2,4}"
PHONE_ANCHOR = r"(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|\b[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}|\+[1-9][\d .()\-]{6,24}\d"
PHONE_CONTEXT_ANCHOR = (
    r"(?i:phone|tel|mobile|cell|call|fax|sms|whatsapp|contact)[^\n]{0,40}?(?:" + _B + r"\d{10,11}\b|" + _NATIONAL + ")"
)
PHONE_KEYED_ANCHOR = _B + r"\d{10,11}\b|" + _NATIONAL
_PHONE_NEG = (
    *NEGATIVE,
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


def _phone_hit(view: LayerView, m: re.Match[bytes], base: float, how: str) -> Hit | None:
    digits = re.sub(rb"\D", b"", m.group(0))
    if not 8 <= len(digits) <= 15 or len(set(digits)) <= 2:
        return None
    checked = phone_check(s_(m.group(0)), how)
    if checked is None:
        return None
    base += checked
    conf = score(view, m.start(), base, _PHONE_CTX, _PHONE_KEYS, _PHONE_NEG)
    return Hit("phone", Classification.PII, m.start(), m.end(), conf, "***-***-" + digits[-4:].decode(), 40, "phone")


def _detect_phone(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    ws, we = _digits_window(view, s, e)
    data = view.data
    seen: list[tuple[int, int]] = []
    for rx, base, how in (
        (_NANP_RX, 0.7, "US"),
        (_INTL_RX, 0.65, "+"),
        (_BARE_PHONE_RX, 0.35, "US"),
        (_NATIONAL_RX, 0.35, "national"),
    ):
        for m in rx.finditer(data, ws, we):
            if any(m.start() < b and a < m.end() for a, b in seen):
                continue
            hit = _phone_hit(view, m, base, how)
            if hit is not None:
                seen.append((m.start(), m.end()))
                yield hit


def phone_check(text: str, how: str) -> float | None:
    """libphonenumber's verdict on a candidate, as a confidence adjustment: ``None`` when the number is not
    even possible (wrong length for its country), +0.1 when it is a valid assigned number, 0 when only
    possible (fictional ranges such as 555 still have a phone number's shape). ``how`` is ``"+"`` for an
    international number, ``"US"`` for a NANP one, ``"national"`` for a trunk-prefixed one (any region of
    :data:`_REGIONS` that makes it valid)."""
    import phonenumbers  # lazily: about 20 ms, paid on the first phone-shaped candidate only

    regions: tuple[str | None, ...] = (None,) if how == "+" else ("US",) if how == "US" else _REGIONS
    possible = False
    for region in regions:
        try:
            num = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            return 0.1
        possible = possible or phonenumbers.is_possible_number(num)
    if how == "national":
        return None  # a bare national guess must be a valid number somewhere
    return 0.0 if possible else None


# ------------------------------------------------------------------------------------------------
# IBAN, email
# ------------------------------------------------------------------------------------------------

_IBAN_RX = compile_on_use(rb"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")
IBAN_ANCHOR = r"\b(?:" + "|".join(sorted(IBAN_LENGTHS)) + r")\d{2} ?[A-Z0-9]{4} ?[A-Z0-9]{4}"


def _detect_iban(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    if alnum_at(data, s - 1):
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
    if len(compact) != want or alnum_at(data, end):
        return
    iban = compact.decode()
    if not iban_valid(iban):
        return
    conf = score(view, s, 0.9, (b"iban", b"account", b"bank"), ("iban", "account", "bank"))
    yield Hit("iban", Classification.PII, s, end, conf, iban[:2] + "**" + "*" * 4 + iban[-4:], 65, "iban")


def _iban_len(cc: bytes) -> int | None:
    return IBAN_LENGTHS.get(cc.decode("ascii", "replace"))


_LOCAL_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-"
_LABEL = rb"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_DOMAIN = compile_on_use(rb"(?:" + _LABEL + rb"\.){1,8}([A-Za-z]{2,24})(?![A-Za-z0-9\-])")
"""A domain: two to nine labels and an alphabetic top-level label (group 1), the longest such at the start
of the host name (matched within its first 255 characters), ending where the host name or a label ends."""


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


_EMAIL_CTX = (b"email", b"e-mail", b"mail", b"contact")


def _detect_email(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    at = s + 1  # the anchor starts one character before the "@"
    window = data[at - 64 if at > 64 else 0 : at]
    local = window[len(window.rstrip(_LOCAL_CHARS)) :].lstrip(b".-+")
    if not local or local[-1:] == b".":
        return ()
    ls = at - len(local)
    if ls > 0 and data[ls - 1] in b":/\\" and data[max(0, ls - 7) : ls].lower() != b"mailto:":
        return ()  # credentials in a URL: password_in_url's business
    domain = _DOMAIN.match(data, at + 1, at + 256)
    if domain is None or domain.group(1).lower() in _FILE_TLDS:
        return ()
    dend = domain.end()
    if local == b"git" and data[dend : dend + 1] == b":":  # git@host:org/repo
        return ()
    conf = score(view, ls, 0.85, _EMAIL_CTX, ("email", "mail"), (b"lorem",))
    masked = (local[:1] + b"***@" + data[at + 1 : dend]).decode()
    return (Hit("email", Classification.PII, ls, dend, conf, masked, 50, "email"),)


# ------------------------------------------------------------------------------------------------
# the classifiers
# ------------------------------------------------------------------------------------------------

_PII, _PCI = Classification.PII, Classification.PCI

SSN = Classifier(
    "ssn",
    "ssn",
    _PII,
    SSN_ANCHOR,
    _detect_ssn,
    60,
    "US Social Security number: area/group/serial rules; bare 9 digits need context",
    True,
    context_anchor=SSN_CONTEXT_ANCHOR,
    keyed_anchor=SSN_KEYED_ANCHOR,
    keys=_SSN_KEYS,
)
PHONE = Classifier(
    "phone",
    "phone",
    _PII,
    PHONE_ANCHOR,
    _detect_phone,
    40,
    "Phone number: NANP, +E.164 and national numbers checked with libphonenumber; bare digits need context",
    True,
    context_anchor=PHONE_CONTEXT_ANCHOR,
    keyed_anchor=PHONE_KEYED_ANCHOR,
    keys=_PHONE_KEYS,
)
CREDIT_CARD = Classifier(
    "credit_card",
    "credit_card",
    _PCI,
    CARD_ANCHOR,
    _detect_card,
    70,
    "Payment card number: brand IIN range and length (28 brands), Luhn",
    True,
)
IBAN = Classifier(
    "iban",
    "iban",
    _PII,
    IBAN_ANCHOR,
    _detect_iban,
    65,
    "IBAN: SWIFT registry country length and ISO 7064 mod-97",
    True,
)


EMAIL = Classifier("email", "email", _PII, r"[A-Za-z0-9._%+\-]@[A-Za-z0-9]", _detect_email, 50, "Email address", True)
