"""Synthetic sensitive data and the labelled efficacy corpus (used by the tests and the benchmark).

Every value is generated here with a seeded RNG and a valid checksum where the format has one
(Luhn, mod-97, GitHub CRC32); nothing real is shipped. Token prefixes are assembled from pieces so that
secret scanners do not flag this source file.

The corpus (``_corpus/efficacy.jsonl``) holds templates; ``{kind}`` placeholders are filled with
generated values and ``{transform:kind}`` applies an evasion first (``b64``, ``url``, ``hex``, ``esc``,
``fullwidth``, ``zw``, ``dash``, ``b64url2``: base64 of url-encoding).
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from agent_security.egress.scanner import Scanner, default_scanner
from agent_security.egress.validators import BASE62, IBAN_LENGTHS, github_checksum, luhn_valid

__all__ = [
    "GENERATORS",
    "KindScore",
    "LabelledExample",
    "evaluate",
    "generate",
    "load_corpus",
]

_ALNUM = string.ascii_letters + string.digits
_GH = "g" + "h"
_AWS = "AK" + "IA"
_SL = "xo" + "x"
_SK = "s" + "k"
_AIZA = "AI" + "za"


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + _rand(rng, string.digits, length - len(prefix) - 1)
    for d in string.digits:
        if luhn_valid(body + d):
            return body + d
    raise AssertionError("unreachable")


def card(rng: random.Random) -> str:
    brand = rng.choice(["visa", "mc", "amex", "discover", "visa"])
    if brand == "visa":
        n = _luhn_complete("4", 16, rng)
    elif brand == "mc":
        n = _luhn_complete(str(rng.randint(51, 55)), 16, rng)
    elif brand == "amex":
        n = _luhn_complete(rng.choice(["34", "37"]), 15, rng)
        sep = rng.choice(["", " ", "-"])
        return f"{n[:4]}{sep}{n[4:10]}{sep}{n[10:]}"
    else:
        n = _luhn_complete("6011", 16, rng)
    sep = rng.choice(["", " ", "-"])
    return sep.join(n[i : i + 4] for i in range(0, len(n), 4))


def ssn(rng: random.Random) -> str:
    area = rng.choice([x for x in range(1, 900) if x != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def email(rng: random.Random) -> str:
    first = rng.choice(["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"])
    last = rng.choice(["smith", "jones", "lee", "garcia", "khan", "muller"])
    dom = rng.choice(["acme-corp.com", "mail.example.org", "contoso.co.uk", "initech.io"])
    return f"{first}.{last}{rng.randint(1, 99)}@{dom}"


def phone(rng: random.Random) -> str:
    a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    fmt = rng.choice(
        ["({a}) {b}-{c:04d}", "{a}-{b}-{c:04d}", "+1 {a} {b} {c:04d}", "{a}.{b}.{c:04d}", "+44 20 {b}{d} {c:04d}"]
    )
    return fmt.format(a=a, b=b, c=c, d=rng.randint(0, 9))


def iban(rng: random.Random) -> str:
    cc = rng.choice(["DE", "GB", "FR", "NL", "ES", "IT", "CH"])
    n = IBAN_LENGTHS[cc]
    if cc == "GB" or cc == "NL":
        bban = _rand(rng, string.ascii_uppercase, 4) + _rand(rng, string.digits, n - 8)
    elif cc == "IT":
        bban = rng.choice(string.ascii_uppercase) + _rand(rng, string.digits, n - 5)
    else:
        bban = _rand(rng, string.digits, n - 4)
    num = "".join(str(int(ch, 36)) for ch in bban + cc + "00")
    check = 98 - int(num) % 97
    compact = f"{cc}{check:02d}{bban}"
    if rng.random() < 0.5:
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


def github_token(rng: random.Random) -> str:
    body = _rand(rng, BASE62, 30)
    return _GH + rng.choice("pousr") + "_" + body + github_checksum(body)


def aws_access_key(rng: random.Random) -> str:
    return _AWS + _rand(rng, string.ascii_uppercase + "234567", 16)


def aws_secret_key(rng: random.Random) -> str:
    while True:
        v = _rand(rng, _ALNUM + "/+", 40)
        if any(c.isupper() for c in v) and any(c.islower() for c in v) and any(c.isdigit() for c in v):
            return v


def private_key(rng: random.Random) -> str:
    label = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"])
    body = base64.b64encode(rng.randbytes(180)).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


def slack_token(rng: random.Random) -> str:
    kind = rng.choice(["b", "p"])
    if kind == "b":
        return f"{_SL}b-{rng.randint(10**10, 10**11)}-{rng.randint(10**11, 10**12)}-{_rand(rng, _ALNUM, 24)}"
    return (
        f"{_SL}p-{rng.randint(10**10, 10**11)}-{rng.randint(10**10, 10**11)}-"
        f"{rng.randint(10**11, 10**12)}-{_rand(rng, '0123456789abcdef', 32)}"
    )


def stripe_key(rng: random.Random) -> str:
    return (
        rng.choice([_SK, "r" + "k"])
        + "_"
        + rng.choice(["live", "test"])
        + "_"
        + _rand(rng, _ALNUM, 24 + rng.randint(0, 75))
    )


def openai_key(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return _SK + "-" + _rand(rng, _ALNUM, 20) + "T3Blbk" + "FJ" + _rand(rng, _ALNUM, 20)
    return _SK + "-proj-" + _rand(rng, _ALNUM + "-_", 48) + _rand(rng, string.digits, 2)


def google_api_key(rng: random.Random) -> str:
    return _AIZA + "Sy" + _rand(rng, _ALNUM + "-_", 33)


def _b64url(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def jwt(rng: random.Random) -> str:
    header = _b64url({"alg": rng.choice(["HS256", "RS256"]), "typ": "JWT"})
    payload = _b64url({"sub": str(rng.randint(1, 10**6)), "name": "Test User", "iat": 1_700_000_000})
    sig = base64.urlsafe_b64encode(rng.randbytes(32)).rstrip(b"=").decode()
    return f"{header}.{payload}.{sig}"


def password_in_url(rng: random.Random) -> str:
    pw = _rand(rng, _ALNUM, 12)
    scheme = rng.choice(["postgres", "mysql", "https", "redis", "mongodb+srv"])
    return f"{scheme}://svc_user:{pw}@db{rng.randint(1, 9)}.internal.example.net:5432/app"


def password(rng: random.Random) -> str:
    return _rand(rng, string.ascii_letters, 6) + _rand(rng, string.digits, 2) + rng.choice("!#%*@")


def api_secret(rng: random.Random) -> str:
    return _rand(rng, _ALNUM, 32)


def luhn_invalid(rng: random.Random) -> str:
    n = card(rng).replace(" ", "").replace("-", "")
    bad = n[:-1] + str((int(n[-1]) + rng.randint(1, 9)) % 10)
    return bad


def bad_github_token(rng: random.Random) -> str:
    t = github_token(rng)
    return t[:-1] + ("A" if t[-1] != "A" else "B")


def bad_iban(rng: random.Random) -> str:
    v = iban(rng).replace(" ", "")
    check = int(v[2:4])
    return v[:2] + f"{(check + rng.randint(1, 50)) % 97 + 2:02d}" + v[4:]


def uuid(rng: random.Random) -> str:
    h = _rand(rng, "0123456789abcdef", 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def sha(rng: random.Random) -> str:
    return _rand(rng, "0123456789abcdef", 40)


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "credit_card": card,
    "ssn": ssn,
    "email": email,
    "phone": phone,
    "iban": iban,
    "github_token": github_token,
    "aws_access_key": aws_access_key,
    "aws_secret_key": aws_secret_key,
    "private_key": private_key,
    "slack_token": slack_token,
    "stripe_key": stripe_key,
    "openai_key": openai_key,
    "google_api_key": google_api_key,
    "jwt": jwt,
    "password_in_url": password_in_url,
    "password": password,
    "api_secret": api_secret,
    "luhn_invalid": luhn_invalid,
    "bad_github_token": bad_github_token,
    "bad_iban": bad_iban,
    "uuid": uuid,
    "sha": sha,
}
"""Generators by placeholder name (kinds, plus helpers for negatives)."""


def generate(kind: str, seed: int = 0) -> str:
    """One synthetic value of ``kind`` (deterministic for a seed)."""
    return GENERATORS[kind](random.Random(f"{kind}:{seed}"))  # noqa: S311 - synthetic data


_FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in string.ascii_letters + string.digits + "@-.:/_"}


def _transform(name: str, value: str) -> str:
    if name == "b64":
        return base64.b64encode(value.encode()).decode()
    if name == "url":
        return urllib.parse.quote(value, safe="")
    if name == "hex":
        return value.encode().hex()
    if name == "esc":
        return "".join(f"\\u{ord(c):04x}" if c.isalnum() and i % 2 == 0 else c for i, c in enumerate(value))
    if name == "fullwidth":
        return "".join(_FULLWIDTH.get(c, c) for c in value)
    if name == "zw":
        return "\u200b".join(value)
    if name == "dash":
        return value.replace("-", "\u2013")
    if name == "b64url2":
        return base64.b64encode(urllib.parse.quote(value, safe="").encode()).decode()
    raise ValueError(f"unknown transform {name!r}")


@dataclass(frozen=True)
class LabelledExample:
    id: str
    category: str
    """``positive``, ``hard_negative`` or ``evasion``."""
    value: Any
    expect: frozenset[str]


_PLACEHOLDER = re.compile(r"\{(?:([a-z0-9]+):)?([a-z_]+)\}")


def _fill(template: Any, rng: random.Random) -> Any:
    if isinstance(template, str):

        def rep(m: re.Match[str]) -> str:
            gen = GENERATORS.get(m.group(2))
            if gen is None:
                return m.group(0)
            value = gen(rng)
            return _transform(m.group(1), value) if m.group(1) else value

        return _PLACEHOLDER.sub(rep, template)
    if isinstance(template, dict):
        return {k: _fill(v, rng) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, rng) for v in template]
    return template


def load_corpus(variants: int = 3) -> list[LabelledExample]:
    """The labelled corpus with ``variants`` generated instances of every template that has placeholders."""
    text = resources.files("agent_security.egress").joinpath("_corpus/efficacy.jsonl").read_text("utf-8")
    out: list[LabelledExample] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        row = json.loads(line)
        tpl = row["value"]
        count = variants if _PLACEHOLDER.search(json.dumps(tpl)) else 1
        for v in range(count):
            rng = random.Random(f"{n}:{v}")  # noqa: S311 - synthetic data
            out.append(LabelledExample(f"L{n}.{v}", row["category"], _fill(tpl, rng), frozenset(row["expect"])))
    return out


@dataclass
class KindScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(examples: Iterable[LabelledExample], scanner: Scanner | None = None) -> dict[str, KindScore]:
    """Per-kind precision/recall: an example counts once per kind (found or not), by kind set."""
    sc = scanner or default_scanner()
    scores: dict[str, KindScore] = {}
    for ex in examples:
        got = {f.kind for f in sc.scan(ex.value).findings}
        for kind in got | ex.expect:
            s = scores.setdefault(kind, KindScore())
            if kind in got and kind in ex.expect:
                s.tp += 1
            elif kind in got:
                s.fp += 1
                s.false_alarms.append(ex.id)
            else:
                s.fn += 1
                s.misses.append(ex.id)
    return scores
