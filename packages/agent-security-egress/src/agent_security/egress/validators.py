"""Format validators: the checks that turn a pattern match into a finding.

Every function is pure, cheap and bounded (inputs are short slices around an anchor hit).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zlib
from collections import Counter

from agent_security.egress._speedups.deferred import compile_on_use

__all__ = [
    "BASE62",
    "CARD_BRANDS",
    "IBAN_LENGTHS",
    "base62",
    "card_brand",
    "card_number_regex",
    "github_checksum",
    "github_token_valid",
    "iban_valid",
    "is_placeholder",
    "jwt_valid",
    "luhn_valid",
    "shannon_entropy",
    "ssn_valid",
]

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check on a string of ASCII digits."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# Card brands by IIN range and length (ISO/IEC 7812; the ranges the networks publish, as collected in the
# "Payment card number" tables): (brand, ((first, last), ...) as equal-width prefixes, lengths).
CARD_BRANDS: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]], ...] = (
    ("amex", (("34", "34"), ("37", "37")), (15,)),
    ("visa_electron", (("4026", "4026"), ("417500", "417500"), ("4508", "4508"), ("4844", "4844"),
                       ("4913", "4913"), ("4917", "4917")), (16,)),
    ("elo", (("401178", "401179"), ("431274", "431274"), ("438935", "438935"), ("451416", "451416"),
             ("457393", "457393"), ("457631", "457632"), ("504175", "504175"), ("506699", "506778"),
             ("509000", "509999"), ("627780", "627780"), ("636297", "636297"), ("636368", "636368"),
             ("650031", "650033"), ("650035", "650051"), ("650405", "650439"), ("650485", "650538"),
             ("650541", "650598"), ("650700", "650718"), ("650720", "650727"), ("650901", "650978"),
             ("651652", "651679"), ("655000", "655019"), ("655021", "655058")), (16,)),
    ("visa", (("4", "4"),), (13, 16, 19)),
    ("mir", (("2200", "2204"),), (16, 17, 18, 19)),
    ("borica", (("2205", "2205"),), (16,)),
    ("mastercard", (("51", "55"), ("2221", "2720")), (16,)),
    ("verve", (("506099", "506198"), ("507865", "507964"), ("650002", "650027")), (16, 18, 19)),
    ("dankort", (("5019", "5019"),), (16,)),
    ("maestro", (("5018", "5018"), ("5020", "5020"), ("5038", "5038"), ("5893", "5893"), ("6304", "6304"),
                 ("6759", "6759"), ("6761", "6763"), ("676770", "676770"), ("676774", "676774")),
     tuple(range(12, 20))),
    ("uzcard", (("8600", "8600"), ("5614", "5614")), (16,)),
    ("humo", (("9860", "9860"),), (16,)),
    ("napas", (("9704", "9704"),), (16, 19)),
    ("troy", (("9792", "9792"),), (16,)),
    ("hipercard", (("606282", "606282"), ("384100", "384100"), ("384140", "384140"), ("384160", "384160")),
     (16, 19)),
    ("discover", (("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")), (16, 17, 18, 19)),
    ("jcb", (("3528", "3589"),), (16, 17, 18, 19)),
    ("lankapay", (("357111", "357111"),), (16,)),
    ("diners", (("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")), tuple(range(14, 20))),
    ("unionpay", (("62", "62"), ("81", "81")), (16, 17, 18, 19)),
    ("rupay", (("60", "60"), ("65", "65"), ("81", "82"), ("508", "508"), ("353", "353"), ("356", "356")),
     (16,)),
    ("interpayment", (("636", "636"),), (16, 17, 18, 19)),
    ("instapayment", (("637", "639"),), (16,)),
    ("ukrcard", (("60400100", "60420099"),), (16, 17, 18, 19)),
    ("gpn", (("1946", "1946"), ("50", "50"), ("56", "56"), ("58", "58"), ("60", "63")), (16, 18, 19)),
    ("uatp", (("1", "1"),), (15,)),
)  # fmt: skip


def card_brand(digits: str) -> str | None:
    """The first card brand whose IIN range *and* length fit ``digits`` (Luhn not checked), or ``None``."""
    n = len(digits)
    for brand, ranges, lengths in CARD_BRANDS:
        if n not in lengths:
            continue
        for lo, hi in ranges:
            if lo <= digits[: len(lo)] <= hi:
                return brand
    return None


def _range_regex(lo: str, hi: str) -> str:
    """A regex for the equal-width decimal strings from ``lo`` to ``hi`` (inclusive)."""
    if lo == hi:
        return lo
    if len(lo) == 1:
        return f"[{lo}-{hi}]"
    if lo[0] == hi[0]:
        return lo[0] + "(?:" + _range_regex(lo[1:], hi[1:]) + ")"
    w = len(lo) - 1
    parts = [lo[0] + "(?:" + _range_regex(lo[1:], "9" * w) + ")"]
    if int(hi[0]) - int(lo[0]) > 1:
        parts.append(f"[{int(lo[0]) + 1}-{int(hi[0]) - 1}]" + r"\d" * w)
    parts.append(hi[0] + "(?:" + _range_regex("0" * w, hi[1:]) + ")")
    return "(?:" + "|".join(parts) + ")"


def card_number_regex() -> str:
    """An RE2 pattern for a bare digit run that has some brand's prefix and length (the prefilter's card
    anchor; Luhn and the exact brand are checked after)."""
    alts = []
    for _brand, ranges, lengths in CARD_BRANDS:
        for lo, hi in ranges:
            tails = sorted({n - len(lo) for n in lengths})
            tail = "(?:" + "|".join(f"\\d{{{r}}}" for r in tails) + ")"
            alts.append(_range_regex(lo, hi) + tail)
    return "(?:" + "|".join(alts) + ")"


# The SWIFT IBAN registry (ISO 13616, release of 2025): country code -> IBAN length.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BI": 27,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DJ": 27,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FK": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HN": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "LY": 25,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MN": 20,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NI": 28,
    "NL": 18,
    "NO": 15,
    "OM": 23,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "RU": 33,
    "SA": 24,
    "SC": 31,
    "SD": 18,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "SO": 23,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
    "YE": 30,
}


def iban_valid(iban: str) -> bool:
    """Country length and ISO 7064 mod-97 check on a compact (no spaces) upper-case IBAN."""
    if len(iban) < 15 or not iban.isascii() or not iban.isalnum():
        return False
    want = IBAN_LENGTHS.get(iban[:2])
    if want is None or len(iban) != want or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """US SSN structural rules: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    a = int(area)
    return a != 0 and a != 666 and a < 900 and group != "00" and serial != "0000"


def base62(n: int, width: int = 6) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def github_checksum(random_part: str) -> str:
    """The 6-character base62 CRC32 checksum GitHub appends to its new-format tokens."""
    return base62(zlib.crc32(random_part.encode("ascii")) & 0xFFFFFFFF)


def github_token_valid(token: str) -> bool:
    """``gh[pousr]_`` + 30 base62 characters + their 6-character CRC32 checksum."""
    prefix, _, body = token.partition("_")
    if prefix not in ("ghp", "gho", "ghu", "ghs", "ghr") or len(body) != 36 or not body.isalnum():
        return False
    return github_checksum(body[:30]) == body[30:]


def _b64url_json(part: str) -> object:
    pad = "=" * (-len(part) % 4)
    raw = base64.urlsafe_b64decode(part + pad)
    return json.loads(raw)


def jwt_valid(token: str) -> bool:
    """Three base64url parts; header and payload are JSON objects; the header names ``alg``; a signature
    is present unless ``alg`` is ``none``."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 16384:
        return False
    try:
        header = _b64url_json(parts[0])
        payload = _b64url_json(parts[1])
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        return False
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return False
    alg = header.get("alg")
    if not isinstance(alg, str):
        return False
    if alg.lower() == "none":
        return True
    return len(parts[2]) >= 16


def shannon_entropy(s: str) -> float:
    """Shannon entropy in bits per character."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


_PLACEHOLDER_RX = compile_on_use(
    r"""^(?:
        \$\{[^}]*\}            # ${VAR}
      | \$\([^)]*\)            # $(cmd)
      | \$[A-Za-z_][A-Za-z0-9_]*  # $VAR
      | \{\{[^}]*\}\}          # {{ var }}
      | <[^<>]*>               # <password>
      | %\(?[A-Za-z_]*\)?s     # %s, %(pw)s
      | \[[A-Za-z _-]*\]       # [REDACTED]
      | ![A-Za-z][A-Za-z0-9_]*(?:\s.*)?  # YAML tags: !vault, !Ref
      | (?:process\.env|os\.environ|env)[.\[].*
      | (?:your|my|the|some|example|sample|dummy|fake|test|placeholder|insert|enter)[-_ ]?
        (?:api[-_ ]?)?(?:password|passwd|pass|secret|token|key|pwd|value|here)s?
      | (?:password|passwd|secret|token|changeme|redacted|hidden|masked|none|null|nil|undefined|
           true|false|string|required|optional|todo|tbd|xxx+|\*+|\.{3,}|-+)
    )$""",
    re.VERBOSE | re.IGNORECASE,
)


def is_placeholder(value: str) -> bool:
    """True for values that stand for a secret instead of being one: ``${VAR}``, ``{{x}}``, ``<pw>``,
    ``your_api_key``, ``****``, ``REDACTED``, and x-filled tokens (``ghp_xxxx…``, ``XXXXXXXX``)."""
    v = value.strip().strip("\"'`")
    if not v:
        return True
    if _PLACEHOLDER_RX.match(v):
        return True
    core = v.rsplit("_", 1)[-1] if "_" in v and len(v.rsplit("_", 1)[-1]) >= 8 else v
    core = core.rsplit("-", 1)[-1] if "-" in core and len(core.rsplit("-", 1)[-1]) >= 8 else core
    if len(core) >= 6:
        counts = Counter(core.lower())
        top_char, top = counts.most_common(1)[0]
        if top_char in "x*0.#-_" and top / len(core) >= 0.6:
            return True
        if len(counts) <= 2:
            return True
    return "EXAMPLE" in v or "example" in v.lower().split("_")
