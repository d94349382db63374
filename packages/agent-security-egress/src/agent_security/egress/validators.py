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

__all__ = [
    "BASE62",
    "IBAN_LENGTHS",
    "base62",
    "card_brand",
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


def card_brand(digits: str) -> str | None:
    """The card brand whose IIN range *and* length fit ``digits`` (Luhn not checked), or ``None``."""
    n = len(digits)
    p2 = int(digits[:2]) if n >= 2 else -1
    p3 = int(digits[:3]) if n >= 3 else -1
    p4 = int(digits[:4]) if n >= 4 else -1
    p6 = int(digits[:6]) if n >= 6 else -1
    if digits.startswith("4") and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925) and 16 <= n <= 19:
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= p3 <= 305 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    if p4 in (5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763) and 12 <= n <= 19:
        return "maestro"
    return None


# ISO 13616 registry: country code -> IBAN length.
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
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
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
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SC": 31,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
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


_PLACEHOLDER_RX = re.compile(
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
