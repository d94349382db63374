"""``McpScanner``: static analysis of an MCP server definition (name, permissions, tools).

Unlike the original, which looked only at permission strings and tool names, every text an MCP client
shows the model is inspected: tool names and titles, descriptions, and the tool's ``inputSchema`` /
``outputSchema`` at every depth (property names, descriptions, titles, defaults, enums, examples), up to
fixed bounds. Findings carry a ``kind``, the tool and field, a short excerpt (invisible characters made
visible) and a remediation.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import re2
from pydantic import BaseModel, ConfigDict, Field

from agent_security.supply_chain.patterns import (
    PERMISSION_RISK,
    normalize_permission,
    sensitive_path_hits,
)

__all__ = [
    "FindingKind",
    "McpScanner",
    "RiskLevel",
    "ScanFinding",
    "ScanInputError",
    "ScanReport",
    "ServerDefinition",
    "ToolDefinition",
    "normalize_server",
]

RiskLevel = Literal["info", "low", "medium", "high", "critical"]
FindingKind = Literal[
    "tool_poisoning",
    "hidden_content",
    "sensitive_file_access",
    "data_exfiltration",
    "tool_shadowing",
    "rug_pull",
    "excessive_permissions",
    "typosquatting",
    "dangerous_capability",
    "provenance",
]
_LEVEL_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
_WEIGHT = {"critical": 30, "high": 15, "medium": 8, "low": 3, "info": 1}

MAX_TOOLS = 2000
MAX_SCHEMA_DEPTH = 24
MAX_SCHEMA_NODES = 20_000
MAX_FIELD_CHARS = 200_000
MAX_NAME_CHARS = 256

_REMEDIATION: dict[str, str] = {
    "tool_poisoning": "Do not install this server version; report it. Tool descriptions must describe "
    "the tool, not instruct the model.",
    "hidden_content": "Reject the definition: text invisible to the user but read by the model is a common "
    "injection vector. Ask the publisher to remove it.",
    "sensitive_file_access": "Check why the tool mentions credential or agent-configuration files; deny the "
    "server filesystem access to them (sandbox, allow-listed paths).",
    "data_exfiltration": "Remove or refuse the parameter/instruction that carries data out; restrict the "
    "server's outbound network access.",
    "tool_shadowing": "Install the servers separately or rename the conflicting tools; a tool must not "
    "change how another server's tools are used.",
    "rug_pull": "Review the changes and re-pin only if they are expected (`agent-security mcp pin`); "
    "otherwise roll back to the approved version.",
    "excessive_permissions": "Grant only the permissions the tools need; declare permissions with the canonical names.",
    "typosquatting": "Verify the publisher and the exact name of the server or tool before installing.",
    "dangerous_capability": "Run the server in a sandbox and govern its calls (command rules, approval).",
    "provenance": "Record the server's version, publisher and source, and pin its tool definitions.",
}


class ScanInputError(ValueError):
    """A server definition that cannot be scanned (wrong type, too large)."""


class ToolDefinition(BaseModel):
    """One tool, in MCP's own shape (``inputSchema`` camelCase, as on the wire)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    name: str = Field(max_length=MAX_NAME_CHARS)
    title: str | None = None
    description: str | None = None
    inputSchema: Any = None
    outputSchema: Any = None
    annotations: Any = None


class ServerDefinition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = Field(max_length=MAX_NAME_CHARS)
    version: str | None = None
    source: str | None = None
    publisher: str | None = None
    verified: bool | None = None
    """Self-declared; reported, never trusted."""
    permissions: tuple[str, ...] = ()
    tools: tuple[ToolDefinition, ...] = ()


def _as_mapping(obj: Any, what: str) -> Mapping[str, Any]:
    if isinstance(obj, Mapping):
        return obj
    if isinstance(obj, BaseModel):
        return obj.model_dump(by_alias=True, exclude_none=True, mode="json")
    raise ScanInputError(f"{what} must be a mapping or a pydantic model, not {type(obj).__name__}")


def normalize_tool(tool: Any) -> ToolDefinition:
    if isinstance(tool, ToolDefinition):
        return tool
    m = dict(_as_mapping(tool, "a tool"))
    for snake, camel in (("input_schema", "inputSchema"), ("output_schema", "outputSchema")):
        if snake in m and camel not in m:
            m[camel] = m.pop(snake)
    if not isinstance(m.get("name"), str):
        raise ScanInputError("every tool needs a string 'name'")
    for key in ("description", "title"):
        if m.get(key) is not None and not isinstance(m[key], str):
            raise ScanInputError(f"tool {m['name'][:64]!r}: {key} must be a string")
        if isinstance(m.get(key), str) and len(m[key]) > MAX_FIELD_CHARS:
            raise ScanInputError(f"tool {m['name'][:64]!r}: {key} is longer than {MAX_FIELD_CHARS} characters")
    if isinstance(m.get("annotations"), BaseModel):
        m["annotations"] = m["annotations"].model_dump(by_alias=True, exclude_none=True, mode="json")
    try:
        return ToolDefinition.model_validate(m)
    except ValueError as exc:
        raise ScanInputError(f"invalid tool definition: {exc}") from None


def normalize_server(server: Any) -> ServerDefinition:
    """Accept a dict or model ``{name, version, permissions, tools: [...]}`` and validate its bounds."""
    if isinstance(server, ServerDefinition):
        return server
    m = dict(_as_mapping(server, "the server"))
    tools = m.get("tools") or []
    if not isinstance(tools, Sequence) or isinstance(tools, str | bytes):
        raise ScanInputError("'tools' must be a list")
    if len(tools) > MAX_TOOLS:
        raise ScanInputError(f"{len(tools)} tools; the limit is {MAX_TOOLS}")
    perms = m.get("permissions") or []
    if not isinstance(perms, Sequence) or isinstance(perms, str | bytes) or not all(isinstance(p, str) for p in perms):
        raise ScanInputError("'permissions' must be a list of strings")
    if not isinstance(m.get("name"), str) or not m["name"]:
        raise ScanInputError("the server needs a non-empty string 'name'")
    m["tools"] = tuple(normalize_tool(t) for t in tools)
    m["permissions"] = tuple(perms)
    try:
        return ServerDefinition.model_validate(m)
    except ValueError as exc:
        raise ScanInputError(f"invalid server definition: {exc}") from None


class ScanFinding(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FindingKind
    rule: str
    """Stable code (``HIDDEN_TAG_CHARACTERS``, ``HIGH_RISK_PERMISSION``, ...; the original's codes kept)."""
    level: RiskLevel
    message: str
    tool: str | None = None
    field: str | None = None
    """Where: ``description``, ``inputSchema.properties.sidenote.description``, ``permissions``, ..."""
    excerpt: str = ""
    remediation: str = ""


class ScanReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    server_name: str
    scan_timestamp: datetime
    risk_level: Literal["low", "medium", "high", "critical"]
    risk_score: int
    """0-100: the original's weighted sum (critical 30, high 15, medium 8, low 3, info 1), capped."""
    recommendation: Literal["block", "review", "allow"]
    findings: tuple[ScanFinding, ...]
    permissions: tuple[str, ...] = ()
    """Canonical permissions after alias normalisation (unknown ones left out)."""
    tools_scanned: int = 0

    def by_kind(self, kind: str) -> list[ScanFinding]:
        return [f for f in self.findings if f.kind == kind]

    @property
    def kinds(self) -> set[str]:
        return {f.kind for f in self.findings}


# ------------------------------------------------------------------------------------------------
# Detectors (fixed expressions, linear time via re2).
# ------------------------------------------------------------------------------------------------

_POISON = re2.compile(
    r"(?i)(<\s*/?\s*(?:important|system|instructions?|secret|hidden|admin|context)\s*>|"
    r"\bignore\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier|other)\s+(?:instructions|rules|directions)|"
    r"\b(?:do\s+not|don'?t|never)\s+(?:tell|mention|inform|reveal|show|notify|alert)\s+(?:this\s+)?(?:to\s+)?(?:the\s+)?user|"
    r"\bwithout\s+(?:telling|informing|notifying|asking)\s+the\s+user|"
    r"\bthe\s+user\s+(?:must|should|will)\s+not\s+(?:know|see|notice)|"
    r"\bbefore\s+(?:using|calling|invoking|running)\s+(?:this|any|the)\b[^.]{0,40}\b(?:you\s+must|first|always|read|call)|"
    r"\byou\s+(?:must|should|need\s+to|have\s+to)\s+(?:first\s+|always\s+)?(?:read|call|send|include|pass|"
    r"upload|fetch|invoke|execute|provide|copy|attach|forward)\b|"
    r"\b(?:assistant|ai|model|llm|agent)\s*(?:,|:)?\s*(?:must|should|is\s+required\s+to)\b|"
    r"\bthis\s+is\s+(?:very\s+|extremely\s+)?(?:important|critical)\b|"
    r"\b(?:system\s+prompt|developer\s+mode|jailbreak|override\s+(?:your|the|all)\s+(?:instructions|rules))|"
    r"\bnew\s+instructions\b|\bact\s+as\s+(?:if|an?|the)\b|\bsecretly\b|\bsilently\b|\bcovertly\b)"
)
_INVISIBLE = re2.compile(
    "[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u00ad\u180e\u034f\u115f\u1160"
    "\u3164\uffa0]|[\U000e0100-\U000e01ef]|[\ufe00-\ufe0f]{2,}"
)
"""Zero-width, bidi and filler characters, and variation selectors used to smuggle bytes (any of
VS17-VS256, or a run of VS1-VS16: a real emoji takes one)."""
_TAG_CHARS = re2.compile("[\U000e0000-\U000e007f]")
_HTML_COMMENT = re2.compile(r"(?s)<!--.*?(?:-->|$)")
_WHITESPACE_RUN = re2.compile(r"[ \t]{40,}|(?:\r?\n[ \t]*){8,}")
_BASE64_BLOB = re2.compile(r"[A-Za-z0-9+/]{80,}={0,2}|[A-Za-z0-9_-]{120,}")
_HEX_BLOB = re2.compile(r"(?i)\b(?:[0-9a-f]{2}){48,}\b")
_ANSI = re2.compile(r"\x1b\[|\x1b\]")
_EXFIL = re2.compile(
    r"(?i)\b(?:send|upload|post|forward|transmit|exfiltrate|leak|copy|sync|report|mirror)\b[^.]{0,80}?"
    r"\b(?:to|into)\s+(?:https?://|the\s+(?:following\s+)?(?:url|endpoint|server|webhook|address)|"
    r"this\s+(?:url|endpoint|webhook)|our\s+server|webhook)|"
    r"\b(?:include|pass|put|attach|append|embed)\b[^.]{0,60}\b(?:conversation|chat\s+history|previous\s+messages|"
    r"system\s+prompt|api\s+keys?|credentials?|tokens?|passwords?|secrets?|environment\s+variables|"
    r"contents?\s+of|private\s+keys?)\b|\bpass\s+(?:its|the|their|that|this)\s+contents?\b|"
    r"\b(?:webhook\.site|requestbin|pipedream\.net|ngrok\.io|burpcollaborator|interact\.sh|oast\.\w+)\b"
)
_URL = re2.compile(r"(?i)\bhttps?://[^\s\"'<>]{3,200}")
_EXFIL_PARAM = re2.compile(
    r"(?i)^(?:side_?note|notes?|feedback|context|extra|metadata|debug(?:_info)?|conversation(?:_history)?|"
    r"chat_?history|history|previous_messages|messages|system_?prompt|prompt|callback(?:_url)?|webhook(?:_url)?|"
    r"exfil\w*|leak\w*|secret\w*|api_?keys?|credentials?|tokens?|passwords?|env(?:ironment)?|ssh_?keys?|"
    r"private_?keys?|cookies?|session(?:_data)?|reasoning|thoughts?|memory)$"
)
_SHADOW = re2.compile(
    r"(?i)\b(?:instead\s+of\s+(?:using\s+)?(?:the\s+)?[\w.-]+\s+(?:tool|server)|"
    r"when\s+(?:using|calling|invoking)\s+(?:the\s+)?[`'\"]?[\w.-]+[`'\"]?\s+tool|"
    r"(?:all|every|any)\s+(?:other\s+)?(?:tools?|servers?)\s+(?:must|should)|"
    r"(?:other|another)\s+(?:mcp\s+)?(?:tool|server)['\x{2019}]?s?\b[^.]{0,60}\b(?:must|should|instead|always|never)|"
    r"(?:replaces?|overrides?|supersedes?|takes?\s+precedence\s+over)\s+(?:the\s+)?[\w.-]+\s+(?:tool|server)|"
    r"mcp__\w+__\w+)"
)
_DANGER_TOKENS = {
    "exec": "executes commands",
    "execute": "executes commands",
    "shell": "runs a shell",
    "eval": "evaluates code",
    "spawn": "spawns processes",
    "system": "runs system commands",
    "subprocess": "spawns processes",
    "bash": "runs a shell",
    "sh": "runs a shell",
    "powershell": "runs a shell",
    "pwsh": "runs a shell",
    "cmd": "runs commands",
    "terminal": "runs commands",
    "sudo": "escalates privileges",
    "popen": "spawns processes",
    "command": "runs commands",
    "script": "runs scripts",
}
_DANGER_PAIRS = {
    ("run", "command"),
    ("run", "code"),
    ("run", "script"),
    ("read", "env"),
    ("get", "env"),
    ("dump", "env"),
    ("read", "secrets"),
    ("delete", "all"),
    ("drop", "table"),
    ("raw", "sql"),
}
_DANGER_TEXT = re2.compile(
    r"(?i)\b(?:execut(?:e|es|ing)\s+(?:arbitrary\s+|any\s+)?(?:shell\s+|system\s+|bash\s+)?(?:commands?|code|scripts?)|"
    r"run(?:s|ning)?\s+(?:arbitrary|any)\s+(?:shell\s+)?(?:commands?|code|scripts?)|arbitrary\s+code|"
    r"shell\s+access|root\s+access|environment\s+variables|read(?:s)?\s+(?:any|arbitrary)\s+files?|"
    r"delete(?:s)?\s+(?:any|arbitrary|all)\s+files?)"
)
_CODE_PARAMS = {
    "command",
    "cmd",
    "script",
    "code",
    "shell",
    "shell_command",
    "commandline",
    "command_line",
    "exec",
}


def _tokens(name: str) -> list[str]:
    spaced = re2.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t for t in re2.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


_FOLD = str.maketrans(
    {
        "\u0430": "a",
        "\u0435": "e",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0445": "x",
        "\u0443": "y",
        "\u0456": "i",
        "\u0458": "j",
        "\u04bb": "h",
        "\u0455": "s",
        "\u0501": "d",
        "\u0410": "A",
        "\u0412": "B",
        "\u0415": "E",
        "\u041a": "K",
        "\u041c": "M",
        "\u041d": "H",
        "\u041e": "O",
        "\u0420": "P",
        "\u0421": "C",
        "\u0422": "T",
        "\u0425": "X",
        "\u0406": "I",
        "\u03bf": "o",
        "\u03b1": "a",
        "\u03b5": "e",
        "\u03b9": "i",
        "\u03ba": "k",
        "\u03bd": "v",
        "\u03c1": "p",
        "\u03c4": "t",
        "\u03c5": "u",
        "\u039f": "O",
        "\u0391": "A",
        "\u0395": "E",
        "\u0399": "I",
        "\u039a": "K",
        "\u039c": "M",
        "\u039d": "N",
        "\u03a1": "P",
        "\u03a4": "T",
    }
)
_STRIP_HIDDEN = re2.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u034f\U000e0000-\U000e01ef\ufe00-\ufe0f]")


def _fold(text: str) -> str:
    """The text as the model reads it, for the instruction and path patterns: compatibility forms
    (full-width letters), Cyrillic/Greek look-alikes and invisible characters folded away."""
    if text.isascii():
        return text
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return str(_STRIP_HIDDEN.sub("", folded))


def _visible(text: str) -> str:
    out: list[str] = []
    for ch in text:
        cp = ord(ch)
        if 0xE0100 <= cp <= 0xE01EF or 0xFE00 <= cp <= 0xFE0F:
            out.append(f"<U+{cp:04X}>")
        elif 0xE0000 <= cp <= 0xE007F:
            out.append(chr(cp - 0xE0000) if 0x20 <= cp - 0xE0000 < 0x7F else f"<U+{cp:05X}>")
        elif unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp") and ch not in "\n\t":
            out.append(f"<U+{cp:04X}>")
        else:
            out.append(ch)
    return "".join(out)


def _excerpt(text: str, start: int, end: int, width: int = 60) -> str:
    a, b = max(0, start - width), min(len(text), end + width)
    frag = text[a:b]
    frag = _visible(frag).replace("\n", "\\n")
    if len(frag) > 240:
        frag = frag[:237] + "..."
    return ("..." if a > 0 else "") + frag + ("..." if b < len(text) else "")


_SCHEMA_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "patternProperties",
        "additionalProperties",
        "required",
        "description",
        "title",
        "default",
        "examples",
        "enum",
        "const",
        "items",
        "prefixItems",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
        "$ref",
        "$defs",
        "definitions",
        "$schema",
        "$id",
        "$comment",
        "readOnly",
        "writeOnly",
        "deprecated",
        "nullable",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "propertyNames",
        "contains",
        "multipleOf",
        "contentEncoding",
        "contentMediaType",
        "unevaluatedProperties",
        "unevaluatedItems",
        "readOnlyHint",
        "destructiveHint",
        "idempotentHint",
        "openWorldHint",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
    }
)


def _walk_schema(schema: Any, base: str) -> Iterator[tuple[str, str, bool]]:
    """``(field_path, text, is_property_name)`` for every text in a JSON Schema, bounded."""
    stack: list[tuple[Any, str, int]] = [(schema, base, 0)]
    nodes = 0
    while stack:
        node, path, depth = stack.pop()
        nodes += 1
        if nodes > MAX_SCHEMA_NODES:
            raise ScanInputError(f"{base} has more than {MAX_SCHEMA_NODES} nodes")
        if depth > MAX_SCHEMA_DEPTH:
            raise ScanInputError(f"{base} is nested deeper than {MAX_SCHEMA_DEPTH} levels")
        if isinstance(node, str):
            if len(node) > MAX_FIELD_CHARS:
                raise ScanInputError(f"{path} is longer than {MAX_FIELD_CHARS} characters")
            yield path, node, False
        elif isinstance(node, Mapping):
            props = path.endswith((".properties", ".patternProperties", ".$defs", ".definitions"))
            for k, v in node.items():
                key = str(k)[:MAX_NAME_CHARS]
                if props:
                    yield f"{path}.{key}", key, True
                elif key not in _SCHEMA_KEYWORDS:
                    # any other key is shown to the model too (x-* extensions, annotations)
                    yield f"{path}.{key}", key, False
                stack.append((v, f"{path}.{key}", depth + 1))
        elif isinstance(node, list | tuple):
            for i, v in enumerate(node[:10_000]):
                stack.append((v, f"{path}[{i}]", depth + 1))


def _dl_distance(a: str, b: str, cap: int = 3) -> int:
    """Optimal-string-alignment distance, stopping early above ``cap``."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > cap:
            return cap + 1
        prev2, prev = prev, cur
    return prev[len(b)]


_CONFUSABLE = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "3": "e",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "\u0430": "a",
        "\u0435": "e",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0445": "x",
        "\u0443": "y",
        "\u0456": "i",
        "\u0458": "j",
        "\u04bb": "h",
    }
)


@functools.lru_cache(maxsize=8192)
def _skeleton(name: str) -> str:
    s = unicodedata.normalize("NFKC", name).lower().translate(_CONFUSABLE)
    s = s.replace("rn", "m").replace("vv", "w")
    return str(re2.sub(r"[\s_.\-]+", "", s))


MAX_NAME_COMPARISONS = 200_000
"""Most near-miss (edit distance) tool-name comparisons in one scan: hostile servers with thousands of
similar names would otherwise take minutes (2,000 x 2,000 names: about a minute)."""


class _TypoIndex:
    """Known and other servers' tool names by skeleton (exact look-alikes: one lookup) and by skeleton
    length (near misses: only names whose length is within the distance limit are compared)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.by_skel: dict[str, list[str]] = {}
        self.by_len: dict[int, list[tuple[str, str]]] = {}
        for n in dict.fromkeys(names):
            sk = _skeleton(n)
            self.by_skel.setdefault(sk, []).append(n)
            self.by_len.setdefault(len(sk), []).append((n, sk))
        self.budget = MAX_NAME_COMPARISONS
        self.truncated = False

    def match(self, name: str) -> str | None:
        a = _skeleton(name)
        for known in self.by_skel.get(a, ()):
            if known != name:
                return known
        if len(a) < 4:
            return None
        for length in range(len(a) - 2, len(a) + 3):
            for known, b in self.by_len.get(length, ()):
                if known == name or len(b) < 4 or a == b:
                    continue
                limit = 1 if min(len(a), len(b)) < 8 else 2
                if abs(len(a) - len(b)) > limit:
                    continue
                if self.budget <= 0:
                    self.truncated = True
                    return None
                self.budget -= 1
                if _dl_distance(a, b, limit) <= limit:
                    return known
        return None


def _looks_like(name: str, known: str) -> bool:
    if name == known:
        return False
    a, b = _skeleton(name), _skeleton(known)
    if a == b:
        return True
    if min(len(a), len(b)) < 4:
        return False
    limit = 1 if min(len(a), len(b)) < 8 else 2
    return _dl_distance(a, b, limit) <= limit


class McpScanner:
    """Scan MCP server definitions for poisoning, hidden content, shadowing, rug pulls and risky grants.

    ``known_servers`` are names of legitimate servers (and ``known_tools`` of legitimate tool names) used
    to spot look-alike names. The scanner is stateless apart from them, and thread-safe.
    """

    def __init__(self, known_servers: Iterable[str] | None = None, known_tools: Iterable[str] | None = None) -> None:
        self.known_servers = tuple(dict.fromkeys(known_servers or ()))
        self.known_tools = tuple(dict.fromkeys(known_tools or ()))

    def scan_all(self, servers: Iterable[Any]) -> list[ScanReport]:
        """Scan several servers; each one is checked for shadowing against the others."""
        defs = [normalize_server(s) for s in servers]
        out = []
        for i, d in enumerate(defs):
            others = [{"name": o.name, "tools": [t.name for t in o.tools]} for j, o in enumerate(defs) if j != i]
            out.append(self.scan(d, other_servers=others))
        return out

    def scan(self, server: Any, baseline: Any = None, other_servers: Iterable[Any] | None = None) -> ScanReport:
        srv = normalize_server(server)
        base = normalize_server(baseline) if baseline is not None else None
        others = list(self._others(other_servers or ()))
        findings: list[ScanFinding] = []

        def add(
            kind: FindingKind,
            rule: str,
            level: RiskLevel,
            message: str,
            *,
            tool: str | None = None,
            field: str | None = None,
            excerpt: str = "",
        ) -> None:
            findings.append(
                ScanFinding(
                    kind=kind,
                    rule=rule,
                    level=level,
                    message=message,
                    tool=tool,
                    field=field,
                    excerpt=excerpt,
                    remediation=_REMEDIATION[kind],
                )
            )

        # ---- provenance metadata (self-declared; informative only) ----
        if not srv.version:
            add("provenance", "MISSING_VERSION", "low", "MCP server has no version specified")
        if not srv.publisher:
            add(
                "provenance",
                "MISSING_PUBLISHER",
                "low",
                "MCP server has no publisher specified",
                field="publisher",
            )
        if not srv.source:
            add(
                "provenance",
                "MISSING_SOURCE",
                "low",
                "MCP server has no source URL — cannot verify provenance",
                field="source",
            )
        if srv.verified:
            add(
                "provenance",
                "SELF_DECLARED_VERIFIED",
                "info",
                "The definition calls itself verified; this claim is ignored (pin the server instead)",
                field="verified",
            )

        # ---- permissions ----
        canonical: list[str] = []
        for raw in srv.permissions:
            perm, alias = normalize_permission(raw)
            if perm is None:
                add(
                    "excessive_permissions",
                    "UNKNOWN_PERMISSION",
                    "medium",
                    f"Unknown permission {raw[:64]!r}: not in the permission vocabulary, cannot be assessed",
                    field="permissions",
                    excerpt=_visible(raw[:64]),
                )
                continue
            if alias:
                add(
                    "excessive_permissions",
                    "PERMISSION_ALIAS",
                    "info",
                    f"Permission {raw[:64]!r} read as {perm!r}",
                    field="permissions",
                    excerpt=raw[:64],
                )
            if perm in canonical:
                continue
            canonical.append(perm)
            if PERMISSION_RISK[perm] == "high":
                add(
                    "excessive_permissions",
                    "HIGH_RISK_PERMISSION",
                    "high",
                    f"High-risk permission: {perm}",
                    field="permissions",
                    excerpt=raw[:64],
                )
            else:
                add(
                    "excessive_permissions",
                    "MEDIUM_RISK_PERMISSION",
                    "medium",
                    f"Medium-risk permission: {perm}",
                    field="permissions",
                    excerpt=raw[:64],
                )
        if not srv.permissions:
            add(
                "excessive_permissions",
                "NO_PERMISSIONS_DECLARED",
                "info",
                "No permissions declared — may be under-declaring",
                field="permissions",
            )
        high = [p for p in canonical if PERMISSION_RISK[p] == "high"]
        if len(high) >= 3:
            add(
                "excessive_permissions",
                "EXCESSIVE_PERMISSIONS",
                "critical",
                f"Server requests {len(high)} high-risk permissions — potential over-privileged server",
                field="permissions",
                excerpt=", ".join(high),
            )

        # ---- typosquatting (server) ----
        for known in self.known_servers:
            if _looks_like(srv.name, known):
                add(
                    "typosquatting",
                    "SERVER_NAME_LOOKALIKE",
                    "high",
                    f"Server name {srv.name[:64]!r} is close to the known server {known[:64]!r}",
                    field="name",
                    excerpt=_visible(srv.name[:64]),
                )
                break

        # ---- tools ----
        other_tools = {t: o["name"] for o in others for t in o["tools"]}
        other_names = [o["name"] for o in others]
        names_seen: set[str] = set()
        typo = _TypoIndex((*self.known_tools, *other_tools))
        for tool in srv.tools:
            if tool.name in names_seen:
                add(
                    "tool_shadowing",
                    "DUPLICATE_TOOL",
                    "high",
                    f"Tool {tool.name[:64]!r} is defined twice",
                    tool=tool.name,
                    field="name",
                )
            names_seen.add(tool.name)
            self._scan_tool(tool, srv, add, other_tools, other_names, canonical, typo)
        if typo.truncated:
            add(
                "typosquatting",
                "LOOKALIKE_CHECK_LIMITED",
                "info",
                f"Near-miss tool-name comparisons stopped after {MAX_NAME_COMPARISONS:,}; exact look-alikes "
                "(same skeleton) were still checked",
            )

        # ---- rug pull ----
        if base is not None:
            self._diff(base, srv, add)

        level_rank = max((_LEVEL_RANK[f.level] for f in findings), default=1)
        risk_level = ("low", "low", "medium", "high", "critical")[level_rank]
        score = min(100, sum(_WEIGHT[f.level] for f in findings))
        recommendation: Literal["block", "review", "allow"] = (
            "block"
            if score >= 70 or risk_level == "critical"
            else "review"
            if score >= 40 or risk_level == "high"
            else "allow"
        )
        return ScanReport(
            server_name=srv.name,
            scan_timestamp=datetime.now(UTC),
            risk_level=risk_level,
            risk_score=score,
            recommendation=recommendation,
            findings=tuple(findings),
            permissions=tuple(canonical),
            tools_scanned=len(srv.tools),
        )

    # ------------------------------------------------------------------------------------------------
    @staticmethod
    def _others(items: Iterable[Any]) -> Iterator[dict[str, Any]]:
        for o in items:
            m = _as_mapping(o, "an entry of other_servers")
            name = str(m.get("name", ""))[:MAX_NAME_CHARS]
            tools = []
            for t in list(m.get("tools") or [])[:MAX_TOOLS]:
                if isinstance(t, str):
                    tools.append(t[:MAX_NAME_CHARS])
                else:
                    tm = _as_mapping(t, "a tool of other_servers")
                    if isinstance(tm.get("name"), str):
                        tools.append(tm["name"][:MAX_NAME_CHARS])
            yield {"name": name, "tools": tools}

    def _texts(self, tool: ToolDefinition) -> Iterator[tuple[str, str, bool]]:
        yield "name", tool.name, False
        if tool.title:
            yield "title", tool.title, False
        if tool.description:
            yield "description", tool.description, False
        for fld in ("inputSchema", "outputSchema", "annotations"):
            value = getattr(tool, fld)
            if value is not None:
                yield from _walk_schema(value, fld)

    def _scan_tool(
        self,
        tool: ToolDefinition,
        srv: ServerDefinition,
        add: Any,
        other_tools: Mapping[str, str],
        other_names: Sequence[str],
        perms: Sequence[str],
        typo: _TypoIndex,
    ) -> None:
        name = tool.name
        reported: set[tuple[str, str]] = set()

        def once(kind: str, fld: str) -> bool:
            key = (kind, fld)
            if key in reported:
                return False
            reported.add(key)
            return True

        code_params: list[str] = []
        for fld, text, is_prop in self._texts(tool):
            if not text:
                continue
            if is_prop:
                leaf = text
                if leaf.lower().replace("-", "_") in _CODE_PARAMS:
                    code_params.append(leaf)
                if _EXFIL_PARAM.search(leaf) and once("data_exfiltration", fld):
                    add(
                        "data_exfiltration",
                        "COVERT_CHANNEL_PARAMETER",
                        "high",
                        f"Parameter {leaf[:64]!r} looks like a channel for conversation data or secrets",
                        tool=name,
                        field=fld,
                        excerpt=_visible(leaf[:64]),
                    )
                if (_INVISIBLE.search(leaf) or _TAG_CHARS.search(leaf)) and once("hidden_content", fld):
                    add(
                        "hidden_content",
                        "INVISIBLE_CHARACTERS",
                        "high",
                        "Parameter name contains invisible characters",
                        tool=name,
                        field=fld,
                        excerpt=_visible(leaf[:64]),
                    )
                if len(leaf) < 16 and leaf.isascii():
                    continue  # an ordinary parameter name: nothing more to read in it
            # hidden content
            m = _TAG_CHARS.search(text)
            if m:
                add(
                    "hidden_content",
                    "HIDDEN_TAG_CHARACTERS",
                    "critical",
                    "Unicode tag characters hide text from the user (decoded in the excerpt)",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(text, m.start(), min(len(text), m.start() + 200)),
                )
            m = _INVISIBLE.search(text)
            if m and once("hidden_content", fld):
                add(
                    "hidden_content",
                    "INVISIBLE_CHARACTERS",
                    "high",
                    "Zero-width or bidirectional control characters in the text",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(text, m.start(), m.end()),
                )
            m = _HTML_COMMENT.search(text)
            if m:
                add(
                    "hidden_content",
                    "HTML_COMMENT",
                    "high",
                    "HTML comment (not rendered to the user)",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(text, m.start(), m.end()),
                )
            m = _WHITESPACE_RUN.search(text)
            if m:
                add(
                    "hidden_content",
                    "WHITESPACE_PADDING",
                    "medium",
                    "Long whitespace run (pushes text out of the visible area)",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(text, m.start(), m.end()),
                )
            m = _ANSI.search(text)
            if m:
                add(
                    "hidden_content",
                    "TERMINAL_ESCAPES",
                    "high",
                    "Terminal escape sequences in the text",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(text, m.start(), m.end()),
                )
            m = _BASE64_BLOB.search(text) or _HEX_BLOB.search(text)
            if m:
                add(
                    "hidden_content",
                    "ENCODED_BLOB",
                    "medium",
                    "Long encoded blob (base64 or hex) in the text",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(text, m.start(), m.start() + 40, width=10),
                )
            if fld == "name":
                continue
            text = _fold(text)
            # model-directed instructions
            m = _POISON.search(text)
            if m and once("tool_poisoning", fld):
                add(
                    "tool_poisoning",
                    "MODEL_DIRECTED_INSTRUCTIONS",
                    "critical" if (sensitive_path_hits(text, 1) or _EXFIL.search(text)) else "high",
                    "Text gives instructions to the model instead of describing the tool",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(text, m.start(), m.end()),
                )
            hits = sensitive_path_hits(text)
            if hits and once("sensitive_file_access", fld):
                add(
                    "sensitive_file_access",
                    "SENSITIVE_PATH_REFERENCE",
                    "high",
                    f"Refers to sensitive files: {', '.join(hits)}",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(
                        text,
                        text.find(hits[0]) if hits[0] in text else 0,
                        (text.find(hits[0]) if hits[0] in text else 0) + len(hits[0]),
                    ),
                )
            m = _EXFIL.search(text)
            if m and once("data_exfiltration", fld):
                add(
                    "data_exfiltration",
                    "EXFILTRATION_INSTRUCTION",
                    "high",
                    "Text asks to send data out or to include secrets/conversation content",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(text, m.start(), m.end()),
                )
            elif fld == "description":
                m = _URL.search(text)
                if m and once("data_exfiltration", "url:" + fld):
                    add(
                        "data_exfiltration",
                        "URL_IN_DESCRIPTION",
                        "low",
                        "Description contains a URL (check it is not an upload target)",
                        tool=name,
                        field=fld,
                        excerpt=_excerpt(text, m.start(), m.end(), width=10),
                    )
            # shadowing: mentions of other servers' tools or names
            m = _SHADOW.search(text)
            if m and once("tool_shadowing", fld):
                add(
                    "tool_shadowing",
                    "CROSS_TOOL_INSTRUCTION",
                    "high",
                    "Text tries to change how other tools or servers behave",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(text, m.start(), m.end()),
                )
            low_text = text.lower()
            for other_tool, other_server in other_tools.items():
                if (
                    len(other_tool) >= 4
                    and other_tool != name
                    and other_tool.lower() in low_text  # cheap filter before the word-boundary check
                    and re2.search(
                        r"(?i)(?:^|[^A-Za-z0-9_])" + re2.escape(other_tool.lower()) + r"(?:$|[^A-Za-z0-9_])",
                        low_text,
                    )
                    and once("tool_shadowing", f"ref:{fld}")
                ):
                    add(
                        "tool_shadowing",
                        "REFERENCES_OTHER_SERVER_TOOL",
                        "high",
                        f"Mentions {other_tool[:64]!r}, a tool of server {other_server[:64]!r}",
                        tool=name,
                        field=fld,
                        excerpt=_excerpt(
                            text,
                            max(0, low_text.find(other_tool.lower())),
                            max(0, low_text.find(other_tool.lower())) + len(other_tool),
                        ),
                    )
                    break
            for other in other_names:
                if (
                    len(other) >= 4
                    and other != srv.name
                    and other.lower() in low_text
                    and once("tool_shadowing", f"srv:{fld}")
                ):
                    add(
                        "tool_shadowing",
                        "REFERENCES_OTHER_SERVER",
                        "medium",
                        f"Mentions the installed server {other[:64]!r}",
                        tool=name,
                        field=fld,
                        excerpt=_excerpt(text, low_text.find(other.lower()), low_text.find(other.lower()) + len(other)),
                    )
                    break
            m = _DANGER_TEXT.search(text)
            if m and once("dangerous_capability", "text"):
                add(
                    "dangerous_capability",
                    "DANGEROUS_DESCRIPTION",
                    "medium",
                    "Description advertises a dangerous capability",
                    tool=name,
                    field=fld,
                    excerpt=_excerpt(text, m.start(), m.end()),
                )

        # name-based checks
        if name in other_tools:
            add(
                "tool_shadowing",
                "TOOL_REDEFINITION",
                "high",
                f"Tool {name[:64]!r} is also defined by server {other_tools[name][:64]!r}",
                tool=name,
                field="name",
            )
        known = typo.match(name)
        if known is not None:
            add(
                "typosquatting",
                "TOOL_NAME_LOOKALIKE",
                "high",
                f"Tool name {name[:64]!r} is close to {known[:64]!r}",
                tool=name,
                field="name",
                excerpt=_visible(name[:64]),
            )
        toks = _tokens(name)
        danger = [_DANGER_TOKENS[t] for t in toks if t in _DANGER_TOKENS]
        pairs = [f"{a}_{b}" for a, b in itertools.pairwise(toks) if (a, b) in _DANGER_PAIRS]
        if danger or pairs or code_params:
            what = (
                danger[0]
                if danger
                else (pairs[0].replace("_", " ") if pairs else f"takes a {code_params[0]!r} parameter")
            )
            add(
                "dangerous_capability",
                "DANGEROUS_TOOL_NAME" if danger or pairs else "CODE_PARAMETER",
                "high",
                f"Tool {name[:64]!r} {what}",
                tool=name,
                field="name" if danger or pairs else "inputSchema",
            )
            if (danger or code_params) and "shell.execute" not in perms and "process.spawn" not in perms and perms:
                add(
                    "excessive_permissions",
                    "UNDECLARED_CAPABILITY",
                    "medium",
                    f"Tool {name[:64]!r} looks like it runs commands but the server declares neither "
                    "shell.execute nor process.spawn",
                    tool=name,
                    field="permissions",
                )

    @staticmethod
    def _diff(base: ServerDefinition, cur: ServerDefinition, add: Any) -> None:
        from agent_security.supply_chain.pinning import field_hashes, tool_content_hash

        old = {t.name: t for t in base.tools}
        new = {t.name: t for t in cur.tools}
        old_content = {tool_content_hash(t): n for n, t in old.items()}
        same_version = bool(base.version) and base.version == cur.version
        bump = "without a version change" if same_version else f"(version {base.version} -> {cur.version})"
        for n, t in new.items():
            if n not in old:
                src = old_content.get(tool_content_hash(t))
                if src is not None and src not in new:
                    add(
                        "rug_pull",
                        "TOOL_RENAMED",
                        "high",
                        f"Tool {src[:64]!r} was renamed to {n[:64]!r} {bump}",
                        tool=n,
                        field="name",
                    )
                else:
                    add("rug_pull", "TOOL_ADDED", "medium", f"Tool {n[:64]!r} was added {bump}", tool=n)
                continue
            a, b = field_hashes(old[n]), field_hashes(t)
            changed = [f for f in b if a.get(f) != b.get(f)]
            if changed:
                level: RiskLevel = "critical" if same_version or "description" in changed else "high"
                excerpt = ""
                if "description" in changed and t.description:
                    excerpt = _excerpt(t.description, 0, min(len(t.description), 120), width=0)
                add(
                    "rug_pull",
                    "TOOL_DEFINITION_CHANGED",
                    level,
                    f"Tool {n[:64]!r} changed since it was approved ({', '.join(changed)}) {bump}",
                    tool=n,
                    field=",".join(changed),
                    excerpt=excerpt,
                )
        renamed_from = {old_content.get(tool_content_hash(t)) for n, t in new.items() if n not in old}
        for n in old:
            if n not in new and n not in renamed_from:
                add("rug_pull", "TOOL_REMOVED", "medium", f"Tool {n[:64]!r} was removed {bump}", tool=n)
        added_perms = []
        base_perms = {normalize_permission(p)[0] or p for p in base.permissions}
        for p in cur.permissions:
            canon = normalize_permission(p)[0] or p
            if canon not in base_perms:
                added_perms.append(canon)
        if added_perms:
            add(
                "rug_pull",
                "PERMISSIONS_ADDED",
                "high",
                f"New permissions since approval: {', '.join(added_perms[:8])}",
                field="permissions",
            )
