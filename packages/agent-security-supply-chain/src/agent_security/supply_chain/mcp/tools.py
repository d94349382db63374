"""The findings for one tool: hidden content, instructions to the model, exfiltration, shadowing, look-alike
names and what the tool can do (judged against its purpose in :mod:`.purpose`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import re2

from agent_security.supply_chain.mcp.definitions import ToolDefinition, walk_schema
from agent_security.supply_chain.mcp.names import TypoIndex
from agent_security.supply_chain.mcp.purpose import CAPABILITY_LEVEL, tool_purpose
from agent_security.supply_chain.mcp.text import (
    ANSI,
    BASE64_BLOB,
    EXFIL,
    EXFIL_PARAM,
    HEX_BLOB,
    HTML_COMMENT,
    INVISIBLE,
    POISON_STRONG,
    POISON_WEAK,
    SHADOW,
    TAG_CHARS,
    URL,
    WHITESPACE_RUN,
    excerpt,
    fold,
    visible,
)
from agent_security.supply_chain.patterns import sensitive_path_hits

__all__ = ["AddFinding", "ToolContext", "scan_tool"]

AddFinding = Callable[..., None]
"""``add(kind, rule, level, message, *, tool=, field=, excerpt=)``."""

_CAPABILITY_TEXT = {
    "code_execution": "runs arbitrary commands or code",
    "write": "writes or changes data",
    "delete": "deletes data",
    "outbound_message": "sends messages out",
    "browser": "automates a browser",
    "environment": "reads environment variables or secrets",
    "database_write": "runs database statements",
    "network_fetch": "fetches from the network",
}


@dataclass
class ToolContext:
    """What a tool is scanned against: the other installed servers' tools and names, the server's declared
    permissions and the look-alike index."""

    server_name: str
    other_tools: Mapping[str, str]
    other_names: Sequence[str]
    permissions: Sequence[str]
    typo: TypoIndex
    capabilities: set[str] = field(default_factory=set)


def _texts(tool: ToolDefinition) -> Iterator[tuple[str, str, bool]]:
    yield "name", tool.name, False
    if tool.title:
        yield "title", tool.title, False
    if tool.description:
        yield "description", tool.description, False
    for fld in ("inputSchema", "outputSchema", "annotations"):
        value = getattr(tool, fld)
        if value is not None:
            yield from walk_schema(value, fld)


def _mentions(text: str, word: str) -> int:
    """Index of ``word`` as a whole word in lower-cased ``text``, or -1."""
    if word not in text:
        return -1
    m = re2.search(r"(?:^|[^a-z0-9_])(" + re2.escape(word) + r")(?:$|[^a-z0-9_])", text)
    return m.start(1) if m else -1


def _hidden(text: str, fld: str, name: str, add: AddFinding, once: Callable[[str, str], bool]) -> None:
    m = TAG_CHARS.search(text)
    if m:
        add(
            "hidden_content",
            "HIDDEN_TAG_CHARACTERS",
            "critical",
            "Unicode tag characters hide text from the user (decoded in the excerpt)",
            tool=name,
            field=fld,
            excerpt=excerpt(text, m.start(), min(len(text), m.start() + 200)),
        )
    m = INVISIBLE.search(text)
    if m and once("hidden_content", fld):
        add(
            "hidden_content",
            "INVISIBLE_CHARACTERS",
            "high",
            "Zero-width or bidirectional control characters in the text",
            tool=name,
            field=fld,
            excerpt=excerpt(text, m.start(), m.end()),
        )
    for rx, rule, level, msg in (
        (HTML_COMMENT, "HTML_COMMENT", "high", "HTML comment (not rendered to the user)"),
        (WHITESPACE_RUN, "WHITESPACE_PADDING", "medium", "Long whitespace run (pushes text out of the visible area)"),
        (ANSI, "TERMINAL_ESCAPES", "high", "Terminal escape sequences in the text"),
    ):
        m = rx.search(text)
        if m:
            add("hidden_content", rule, level, msg, tool=name, field=fld, excerpt=excerpt(text, m.start(), m.end()))
    m = BASE64_BLOB.search(text) or HEX_BLOB.search(text)
    if m:
        add(
            "hidden_content",
            "ENCODED_BLOB",
            "medium",
            "Long encoded blob (base64 or hex) in the text",
            tool=name,
            field=fld,
            excerpt=excerpt(text, m.start(), m.start() + 40, width=10),
        )


def scan_tool(tool: ToolDefinition, ctx: ToolContext, add: AddFinding) -> None:
    """Add the findings for ``tool`` (its texts at every depth, its name, its capabilities)."""
    name = tool.name
    reported: set[tuple[str, str]] = set()

    def once(kind: str, fld: str) -> bool:
        key = (kind, fld)
        if key in reported:
            return False
        reported.add(key)
        return True

    for fld, raw, is_prop in _texts(tool):
        if not raw:
            continue
        if is_prop:
            if EXFIL_PARAM.search(raw) and once("data_exfiltration", fld):
                add(
                    "data_exfiltration",
                    "COVERT_CHANNEL_PARAMETER",
                    "high",
                    f"Parameter {raw[:64]!r} has no use but to carry conversation content or keys",
                    tool=name,
                    field=fld,
                    excerpt=visible(raw[:64]),
                )
            if (INVISIBLE.search(raw) or TAG_CHARS.search(raw)) and once("hidden_content", fld):
                add(
                    "hidden_content",
                    "INVISIBLE_CHARACTERS",
                    "high",
                    "Parameter name contains invisible characters",
                    tool=name,
                    field=fld,
                    excerpt=visible(raw[:64]),
                )
            if len(raw) < 16 and raw.isascii():
                continue  # an ordinary parameter name: nothing more to read in it
        _hidden(raw, fld, name, add, once)
        if fld == "name":
            continue
        text = fold(raw)
        low = text.lower()
        hits = sensitive_path_hits(text)
        exfil = EXFIL.search(text)
        other_ref = next(
            (t for t in ctx.other_tools if len(t) >= 4 and t != name and _mentions(low, t.lower()) >= 0), None
        )
        strong = POISON_STRONG.search(text)
        weak = None if strong else POISON_WEAK.search(text)
        if (strong or (weak and (hits or exfil or other_ref))) and once("tool_poisoning", fld):
            m = strong or weak
            assert m is not None
            add(
                "tool_poisoning",
                "MODEL_DIRECTED_INSTRUCTIONS",
                "critical" if (hits or exfil) else "high",
                "Text gives the model instructions it hides from the user or that reach for secrets",
                tool=name,
                field=fld,
                excerpt=excerpt(text, m.start(), m.end()),
            )
        if hits and once("sensitive_file_access", fld):
            at = max(0, text.find(hits[0]))
            add(
                "sensitive_file_access",
                "SENSITIVE_PATH_REFERENCE",
                "high" if (strong or weak or exfil) else "medium",
                f"Refers to sensitive files: {', '.join(hits)}",
                tool=name,
                field=fld,
                excerpt=excerpt(text, at, at + len(hits[0])),
            )
        if exfil and once("data_exfiltration", fld):
            add(
                "data_exfiltration",
                "EXFILTRATION_INSTRUCTION",
                "high",
                "Text asks to send data out or to include secrets/conversation content",
                tool=name,
                field=fld,
                excerpt=excerpt(text, exfil.start(), exfil.end()),
            )
        elif fld == "description":
            m = URL.search(text)
            if m and once("data_exfiltration", "url:" + fld):
                add(
                    "data_exfiltration",
                    "URL_IN_DESCRIPTION",
                    "low",
                    "Description contains a URL (check it is not an upload target)",
                    tool=name,
                    field=fld,
                    excerpt=excerpt(text, m.start(), m.end(), width=10),
                )
        m = SHADOW.search(text)
        if m and once("tool_shadowing", fld):
            add(
                "tool_shadowing",
                "CROSS_TOOL_INSTRUCTION",
                "high",
                "Text tries to change how other tools or servers behave",
                tool=name,
                field=fld,
                excerpt=excerpt(text, m.start(), m.end()),
            )
        if other_ref is not None and once("tool_shadowing", f"ref:{fld}"):
            at = max(0, _mentions(low, other_ref.lower()))
            add(
                "tool_shadowing",
                "REFERENCES_OTHER_SERVER_TOOL",
                "high",
                f"Mentions {other_ref[:64]!r}, a tool of server {ctx.other_tools[other_ref][:64]!r}",
                tool=name,
                field=fld,
                excerpt=excerpt(text, at, at + len(other_ref)),
            )
        for other in ctx.other_names:
            if len(other) >= 4 and other != ctx.server_name and _mentions(low, other.lower()) >= 0:
                if once("tool_shadowing", f"srv:{fld}"):
                    at = max(0, _mentions(low, other.lower()))
                    add(
                        "tool_shadowing",
                        "REFERENCES_OTHER_SERVER",
                        "medium",
                        f"Mentions the installed server {other[:64]!r}",
                        tool=name,
                        field=fld,
                        excerpt=excerpt(text, at, at + len(other)),
                    )
                break

    if name in ctx.other_tools:
        add(
            "tool_shadowing",
            "TOOL_REDEFINITION",
            "high",
            f"Tool {name[:64]!r} is also defined by server {ctx.other_tools[name][:64]!r}",
            tool=name,
            field="name",
        )
    known = ctx.typo.match(name)
    if known is not None:
        add(
            "typosquatting",
            "TOOL_NAME_LOOKALIKE",
            "high",
            f"Tool name {name[:64]!r} is close to {known[:64]!r}",
            tool=name,
            field="name",
            excerpt=visible(name[:64]),
        )
    _capabilities(tool, ctx, add)


def _capabilities(tool: ToolDefinition, ctx: ToolContext, add: AddFinding) -> None:
    purpose = tool_purpose(tool)
    ctx.capabilities |= purpose.capabilities
    name = tool.name
    if "code_execution" in purpose.capabilities:
        add(
            "dangerous_capability",
            {"name": "DANGEROUS_TOOL_NAME", "parameter": "CODE_PARAMETER"}.get(
                purpose.why["code_execution"], "ARBITRARY_CODE_EXECUTION"
            ),
            "high",
            f"Tool {name[:64]!r} {_CAPABILITY_TEXT['code_execution']} (shown by its {purpose.why['code_execution']})",
            tool=name,
            field="name" if purpose.why["code_execution"] == "name" else "description",
        )
        if ctx.permissions and "shell.execute" not in ctx.permissions and "process.spawn" not in ctx.permissions:
            add(
                "excessive_permissions",
                "UNDECLARED_CAPABILITY",
                "medium",
                f"Tool {name[:64]!r} looks like it runs commands but the server declares neither "
                "shell.execute nor process.spawn",
                tool=name,
                field="permissions",
            )
        return
    powerful = sorted(c for c in purpose.capabilities if CAPABILITY_LEVEL[c] == "medium")
    if powerful:
        add(
            "dangerous_capability",
            "POWERFUL_CAPABILITY",
            "medium",
            f"Tool {name[:64]!r} {'; '.join(_CAPABILITY_TEXT[c] for c in powerful)}",
            tool=name,
            field="name" if purpose.why[powerful[0]] == "name" else purpose.why[powerful[0]],
        )
