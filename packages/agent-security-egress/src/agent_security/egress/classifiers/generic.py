"""Generic secrets: a password or a high-entropy value next to a secret-like key name."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from agent_security.egress._speedups.deferred import compile_on_use
from agent_security.egress.classifiers.base import (
    Classifier,
    Hit,
    s_,
)
from agent_security.egress.findings import Classification
from agent_security.egress.validators import is_placeholder, shannon_entropy

if TYPE_CHECKING:
    from agent_security.egress.scanner import LayerView

# ------------------------------------------------------------------------------------------------
# generic secrets: only next to a secret-like key name
# ------------------------------------------------------------------------------------------------

_PW_RX = compile_on_use(r"pass(?:word|wd|phrase|code)?s?$|^pwd$|pwd$|^pw$|password|passwd|passphrase")
_PW_NOT = compile_on_use(
    r"passport|passenger|bypass|compass|passthrough|passed|passing|passive|"
    r"policy|length|reset|hint|expir|changed|strength|required|less|field|label|prompt|"
    r"min|max|rule|file|type|hash|salt|id$|count|enabled|auth$|url$|path$|name$"
)
_TOKEN_RX = compile_on_use(
    r"secret|token|apikey|accesskey|authkey|privatekey|clientsecret|credential|"
    r"^auth$|authtoken|authorization|bearer|sessionid|sessiontoken|signingkey|"
    r"encryptionkey|masterkey|cookie|webhooksecret|^key$|xapikey"
)
_TOKEN_NOT = compile_on_use(
    r"maxtokens|tokencount|tokens$|tokenizer|tokentype|tokenlimit|numtokens|totaltokens|"
    r"prompttokens|completiontokens|secretname|secretarn|secretid|secretref|secretkeyref|"
    r"author|authority|authenticat|tokenurl|tokenendpoint|tokenpath|"
    r"expir|ttl|length|usage|budget|estimate|keyid$|keyname$|cookiename|samesite|"
    r"type$|file$|path$|url$|name$|(?<!session)id$|count$|enabled$|policy$|"
    r"hash|digest|checksum|fingerprint|integrity|sha\d*$|md5$|public|pubkey|secretsmanager|secretmanager|"
    r"manager$|vault$|store$"
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


_DIGIT = compile_on_use(r"\d")
_SYMBOL = compile_on_use(r"[^\w.\-/+=]")
# values that name a secret instead of holding one: code that fetches it, a reference to a secret store,
# a hash or digest, an identifier, a UUID, a public key, a URL
_NOT_A_SECRET = compile_on_use(
    r"""^(?:
        [A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+(?:[(\[].*)?   # settings.API_KEY, os.environ.get(..., req.json[
      | [A-Za-z_$][\w$]*\(.*                               # getpass(), input(...), os_getenv("X")
      | [a-z]+(?:_[a-z]+)+                                  # snake_case identifier
      | \$\{[^{}]*\}? | \$\([^()]*\)? | \$[A-Za-z_]\w*     # ${VAR}, $(cmd), $VAR (maybe cut at the brace)
      | \{\{[^{}]*\}\} | %\([^()]*\)?s?                     # {{ var }}, %(pw)s
      | (?:vault|op|secret|secrets|azurekeyvault|akv|sm|ssm|gcpsm|awssm|keyvault|doppler|infisical)
        (?::|://).*                                         # vault:secret/db#pw, op://vault/item
      | arn:aws[\w-]*:(?:secretsmanager|ssm|kms):.*        # AWS secret store ARNs
      | projects/[^/]+/secrets/.*                           # GCP Secret Manager
      | (?:sha|md5|blake)\d*[-:].*                          # sha512-... (lockfile integrity), sha256:...
      | \$(?:2[abxy]?|argon2\w*|pbkdf2[\w-]*|scrypt|[156])\$.*  # password hashes
      | \{(?:SSHA|SHA|CRYPT|PBKDF2)[^}]*\}.*
      | [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}   # a UUID
      | (?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-\S+|sk-ssh-\S+)\s.*        # an SSH public key
      | -----BEGIN[ ](?:RSA[ ])?PUBLIC[ ]KEY.*
      | [a-z][a-z0-9+.-]*://.*                              # a URL (a reset link, an endpoint)
    )$""",
    re.VERBOSE | re.DOTALL,
)


def names_a_secret(value: str) -> bool:
    """True for a value that refers to a secret without being one (see :data:`_NOT_A_SECRET`)."""
    return _NOT_A_SECRET.match(value) is not None


def secret_value_ok(kind: str, value: str) -> float:
    """Confidence that ``value`` under a key of type ``kind`` is a real secret (0 when it is not)."""
    v = value.strip()
    if len(v) > 4096 or is_placeholder(v) or names_a_secret(v):
        return 0.0
    if kind == "password":
        # a passphrase may have spaces; a sentence under a password key is documentation
        if len(v) < 6 or len(v) > 128 or len(v.split()) > 5:
            return 0.0
        return 0.8
    if len(v) < 16 or re.search(r"\s", v):
        return 0.0
    ent = shannon_entropy(v)
    classes = (v != v.upper()) + (v != v.lower()) + (_DIGIT.search(v) is not None) + (_SYMBOL.search(v) is not None)
    if ent >= 3.5 and classes >= 2:
        return 0.8
    if ent >= 3.0 and classes >= 2 and len(v) >= 24:
        return 0.65
    return 0.0


_KEY_TAIL = compile_on_use(rb"[A-Za-z0-9_.\-]{0,48}")
_ASSIGN_RX = compile_on_use(rb"[\"'\\\]]{0,3}[ \t]*(?::=|=>|[:=])[ \t]*@?(?:\\?[\"'`])?")
_CLI_VALUE_RX = compile_on_use(rb"(?:=|[ \t]+)([\"']?)([^\s\"'`-][^\s\"'`]{0,255})")
_BEARER_RX = compile_on_use(rb"[ \t]+([A-Za-z0-9._~+/\-]{16,4096}=*)")
_QUOTED = {q: compile_on_use(b"[^\n" + q + b"\\\\]{1,512}(?=\\\\?" + q + b")") for q in (b'"', b"'", b"`")}
_VALUE_RX = compile_on_use(rb"[^\s\"'`\\,;&}<>\]\)]{1,512}")


def _detect_generic(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    if s < view.key_end:  # inside a key name already examined ("passwordpassword...")
        return
    back = _KEY_TAIL.match(data[max(0, s - 48) : s][::-1])  # linear: scan the reversed window forwards
    ks = s - (back.end() if back else 0)
    kt = _KEY_TAIL.match(data, e)
    ke = kt.end() if kt else e
    view.key_end = ke
    key = s_(data[ks:ke])
    if key.lower() == "bearer":
        bm = _BEARER_RX.match(data, ke)
        if bm is not None and secret_value_ok("token", s_(bm.group(1))) > 0:
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
        # a command-line option: --password hunter2, --token=..., -p secret is too ambiguous to take
        if data[ks : ks + 2] == b"--" or data[ks - 2 : ks] == b"--":
            cm = _CLI_VALUE_RX.match(data, ke, min(len(data), ke + 260))
            if cm is not None:
                value = s_(cm.group(2))
                conf = secret_value_ok(ktype, value)
                if conf > 0:
                    yield Hit(
                        "generic_secret",
                        Classification.SECRET,
                        cm.start(2),
                        cm.end(2),
                        conf,
                        "********",
                        10,
                        "generic_secret",
                        consume=False,
                    )
        return
    quote = data[am.end() - 1 : am.end()]
    vm = None
    if quote in (b'"', b"'", b"`"):  # a quoted value runs to its closing quote (same line, bounded)
        vm = _QUOTED[quote].match(data, am.end())
    if vm is None:
        vm = _VALUE_RX.match(data, am.end())
    if vm is None:
        return
    value = s_(vm.group(0))
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


_KEYWORDS = (
    r"(?i:pass(?:word|wd|phrase)?|pwd|secret|token|api.?key|access.?key|auth|credential|private.?key|"
    r"client.?secret|session.?id|cookie|bearer)"
)
_KEYWORD_RX = compile_on_use(_KEYWORDS.encode())


def _detect_at_keyword(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    """The anchor spans key, assignment and the start of the value; the detector starts from the keyword."""
    m = _KEYWORD_RX.search(view.data, s, e)
    if m is None:
        return ()
    return _detect_generic(view, m.start(), m.end())


GENERIC_SECRET = Classifier(
    "generic_secret",
    "generic_secret",
    Classification.SECRET,
    # a secret-like key name followed by an assignment (or a command-line option and its value), or a bearer
    # token: prose that only names a secret ("reset your password") never wakes the detector
    f"{_KEYWORDS}[A-Za-z0-9_.\\-]{{0,48}}[\"'\\\\]{{0,3}}[ \\t]*(?::=|=>|[:=])"
    f"|--{_KEYWORDS}[A-Za-z0-9_.\\-]{{0,48}}[ \\t]+[^\\s-]"
    r"|(?i:bearer)[ \t]+[A-Za-z0-9._~+/\-]{16}",
    _detect_at_keyword,
    10,
    "High-entropy value or password assigned to a secret-like key name",
    True,
)
