"""Fixed detectors for the texts an MCP client shows the model (linear time via re2), and the helpers that
fold look-alike characters away and make invisible ones visible in excerpts."""

from __future__ import annotations

import unicodedata

import re2

__all__ = [
    "ANSI",
    "BASE64_BLOB",
    "EXFIL",
    "EXFIL_PARAM",
    "HEX_BLOB",
    "HTML_COMMENT",
    "INVISIBLE",
    "POISON_STRONG",
    "POISON_WEAK",
    "SHADOW",
    "TAG_CHARS",
    "URL",
    "WHITESPACE_RUN",
    "excerpt",
    "fold",
    "visible",
]

POISON_STRONG = re2.compile(
    r"(?i)(<\s*/?\s*(?:important|system|instructions?|secret|hidden|admin|context)\s*>|"
    r"\bignore\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier|other)\s+(?:instructions|rules|directions)|"
    r"\b(?:do\s+not|don'?t|never)\s+(?:explicitly\s+)?(?:tell|mention|inform|reveal|disclose|notify|alert)\s+"
    r"(?:this\s+|that\s+|it\s+)?(?:to\s+)?(?:the\s+)?user|"
    r"\b(?:do\s+not|don'?t|never)\s+(?:explicitly\s+)?(?:mention|reveal|disclose)\s+(?:that|this|it)\b|"
    r"\bwithout\s+(?:telling|informing|notifying|asking)\s+the\s+user|"
    r"\bthe\s+user\s+(?:must|should|will)\s+not\s+(?:know|see|notice)|"
    r"\bpresent\s+(?:it|them|this|the\s+\w+)\s+as\s+if\b|\bformat\s+them\s+to\s+look\s+like\b|"
    r"\b(?:developer\s+mode|jailbreak|override\s+(?:your|the|all)\s+(?:instructions|rules))|"
    r"\bnew\s+instructions\b|\bsecretly\b|\bcovertly\b)"
)
"""Instructions to the model that no honest tool description gives: tags that imitate the system prompt,
concealment from the user, overriding the model's instructions. One of them is tool poisoning."""

POISON_WEAK = re2.compile(
    r"(?i)(\bbefore\s+(?:using|calling|invoking|running)\s+(?:this|any|the)\b[^.]{0,40}\b(?:you\s+must|first|always|"
    r"read|call)|\byou\s+(?:must|should|need\s+to|have\s+to)\s+(?:first\s+|always\s+)?(?:read|call|send|include|"
    r"pass|upload|fetch|invoke|execute|copy|attach|forward|access)\b|"
    r"\b(?:assistant|ai|model|llm|agent)\s*(?:,|:)?\s*(?:must|should|is\s+required\s+to)\b|"
    r"\bthis\s+is\s+(?:very\s+|extremely\s+)?(?:important|critical)\b|\bsystem\s+prompt\b|\bact\s+as\s+(?:if|an?|the)\b)"
)
"""Ordinary imperative phrasing ("You must provide a city name", "IMPORTANT: dates are UTC"): poisoning only
together with a sensitive file, an exfiltration instruction or another tool's name in the same text."""

INVISIBLE = re2.compile(
    "[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u00ad\u180e\u034f\u115f\u1160"
    "\u3164\uffa0]|[\U000e0100-\U000e01ef]|[\ufe00-\ufe0f]{2,}"
)
"""Zero-width, bidi and filler characters, and variation selectors used to smuggle bytes (any of
VS17-VS256, or a run of VS1-VS16: a real emoji takes one)."""
TAG_CHARS = re2.compile("[\U000e0000-\U000e007f]")
HTML_COMMENT = re2.compile(r"(?s)<!--.*?(?:-->|$)")
WHITESPACE_RUN = re2.compile(r"[ \t]{40,}|(?:\r?\n[ \t]*){8,}")
BASE64_BLOB = re2.compile(r"[A-Za-z0-9+/]{80,}={0,2}|[A-Za-z0-9_-]{120,}")
HEX_BLOB = re2.compile(r"(?i)\b(?:[0-9a-f]{2}){48,}\b")
ANSI = re2.compile(r"\x1b\[|\x1b\]")
EXFIL = re2.compile(
    r"(?i)\b(?:send|upload|post|forward|transmit|exfiltrate|leak|copy|sync|report|mirror)\b[^.]{0,80}?"
    r"\b(?:to|into)\s+(?:https?://|the\s+(?:following\s+)?(?:url|endpoint|server|webhook|address)|"
    r"this\s+(?:url|endpoint|webhook)|our\s+server|webhook)|"
    r"\b(?:include|pass|put|attach|append|embed)\b[^.]{0,60}\b(?:conversation|chat\s+history|previous\s+messages|"
    r"system\s+prompt|api\s+keys?|credentials?|tokens?|passwords?|secrets?|environment\s+variables|"
    r"contents?\s+of|private\s+keys?)\b|\bpass\s+(?:its|the|their|that|this)\s+contents?\b|"
    r"\b(?:include|pass|put|attach|append|embed)\b[^.]{0,60}\bcontents?\b[^.]{0,60}\b(?:argument|parameter|param|"
    r"field|sidenote|notes?)\b|"
    r"\b(?:webhook\.site|requestbin|pipedream\.net|ngrok\.io|burpcollaborator|interact\.sh|oast\.\w+)\b"
)
URL = re2.compile(r"(?i)\bhttps?://[^\s\"'<>]{3,200}")
EXFIL_PARAM = re2.compile(
    r"(?i)^(?:side_?note|conversation(?:_?history)?|full_?conversation|chat_?history|previous_?messages|"
    r"system_?prompt|exfil\w*|leak\w*|ssh_?keys?|stolen\w*)$"
)
"""Parameter names whose only use is to carry the conversation, the system prompt or keys out. An
``api_key``, ``token`` or ``password`` parameter is how a tool authenticates, not a finding."""
SHADOW = re2.compile(
    r"(?i)\b(?:instead\s+of\s+(?:using\s+)?(?:the\s+)?[\w.-]+\s+(?:tool|server)|"
    r"when\s+(?:using|calling|invoking)\s+(?:the\s+)?[`'\"]?[\w.-]+[`'\"]?\s+tool|"
    r"(?:all|every|any)\s+(?:other\s+)?(?:tools?|servers?)\s+(?:must|should)|"
    r"(?:other|another)\s+(?:mcp\s+)?(?:tool|server)['\x{2019}]?s?\b[^.]{0,60}\b(?:must|should|instead|always|never)|"
    r"(?:replaces?|overrides?|supersedes?|takes?\s+precedence\s+over)\s+(?:the\s+)?[\w.-]+\s+(?:tool|server)|"
    r"mcp__\w+__\w+)"
)
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


def fold(text: str) -> str:
    """The text as the model reads it, for the instruction and path patterns: compatibility forms
    (full-width letters), Cyrillic/Greek look-alikes and invisible characters folded away."""
    if text.isascii():
        return text
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return str(_STRIP_HIDDEN.sub("", folded))


def visible(text: str) -> str:
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


def excerpt(text: str, start: int, end: int, width: int = 60) -> str:
    a, b = max(0, start - width), min(len(text), end + width)
    frag = text[a:b]
    frag = visible(frag).replace("\n", "\\n")
    if len(frag) > 240:
        frag = frag[:237] + "..."
    return ("..." if a > 0 else "") + frag + ("..." if b < len(text) else "")
