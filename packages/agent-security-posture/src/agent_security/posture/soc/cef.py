"""CEF and LEEF lines for an audit event, escaped so that no value can add a field or a header.

**CEF** (ArcSight Common Event Format 25): ``CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|ext``.
Header fields escape ``\\`` and ``|``; extension values escape ``\\``, ``=`` and newlines (``\\n``, ``\\r``);
other control characters become spaces in both. The signature id is ``<kind>:<outcome>`` and the name a
fixed phrase, so free text (reason messages, agent ids, tool names) only ever sits in an extension value
(the original put the outcome in the signature id, reason messages in the name, separated the extension
with ``|`` and escaped nothing: an agent id ``a|b=c`` shifted every field).

**LEEF 2.0** (IBM QRadar): ``LEEF:2.0|Vendor|Product|Version|EventID|x09|`` then ``key=value`` pairs
separated by a tab (declared in the header, ``x09``). LEEF has no escape for the delimiter inside a value:
tabs and other control characters in values become spaces, and ``|`` and ``\\`` are escaped in the header.
Keys are fixed ASCII names, never taken from the event.

Every value is cut to :data:`MAX_VALUE` characters, a whole line to :data:`MAX_LINE`.
"""

from __future__ import annotations

from datetime import UTC

from agent_security.core.models import AuditEvent
from agent_security.posture.soc.severity import cef_severity

__all__ = ["MAX_LINE", "MAX_VALUE", "PRODUCT", "VENDOR", "VERSION", "to_cef", "to_leef"]

VENDOR = "agent-security"
PRODUCT = "agent-security"
VERSION = "0.1.0"
MAX_VALUE = 1023
MAX_LINE = 8192
_CONTROLS = [*range(0x20), 0x7F, 0x85, 0x2028, 0x2029]
_SPACES: dict[int, str] = dict.fromkeys(_CONTROLS, " ")
_HEADER_TABLE = str.maketrans(_SPACES | {ord("\\"): "\\\\", ord("|"): "\\|"})
"""CEF header: ``\\`` and ``|`` escaped, every control character a space."""
_VALUE_TABLE = str.maketrans(_SPACES | {ord("\\"): "\\\\", ord("="): "\\=", ord("\n"): "\\n", ord("\r"): "\\r"})
"""CEF extension value: ``\\``, ``=`` and line breaks escaped, other control characters spaces."""
_LEEF_TABLE = str.maketrans(_SPACES)
"""LEEF attribute value: every control character (the tab delimiter included) a space."""

_NAMES = {
    "ALLOW": "Tool call allowed",
    "DENY": "Tool call denied",
    "REQUIRE_APPROVAL": "Tool call requires approval",
    "STEP_UP": "Tool call requires step-up authentication",
    "REQUIRE_TICKET": "Tool call requires a change ticket",
    "REQUIRE_HUMAN": "Tool call requires a human",
}


def _cut(value: str) -> str:
    return value if len(value) <= MAX_VALUE else value[: MAX_VALUE - 1] + "…"


def cef_header(value: str) -> str:
    """A CEF header field: ``\\`` and ``|`` escaped, every control character a space."""
    return _cut(value).translate(_HEADER_TABLE)


def cef_value(value: str) -> str:
    """A CEF extension value: ``\\``, ``=`` and newlines escaped, other control characters spaces."""
    return _cut(value).translate(_VALUE_TABLE)


_DEFAULT_HEAD = f"CEF:0|{VENDOR}|{PRODUCT}|{VERSION}|"


def signature(event: AuditEvent) -> tuple[str, str]:
    """``(signature id, name)``: fixed text, from the event's kind and outcome only."""
    outcome = event.outcome.value if event.outcome is not None else ""
    sig = f"{event.kind}:{outcome}" if outcome else event.kind
    if event.kind == "decision":
        name = _NAMES.get(outcome, "Tool call decision")
    elif event.kind.startswith("guardian."):
        name = "Guardian incident"
    elif event.kind.startswith("kill_switch."):
        name = "Kill switch " + event.kind.removeprefix("kill_switch.").replace("_", " ")
    else:
        name = "Agent security " + event.kind.replace(".", " ").replace("_", " ")
    return sig, name


_CUSTOM = (
    (" cs1Label=toolName cs1=", "tool_name"),
    (" cs2Label=requestId cs2=", "request_id"),
    (" cs3Label=environment cs3=", "environment"),
    (" cs4Label=pluginSource cs4=", "plugin_source"),
    (" cs5Label=mode cs5=", "mode"),
    (" cs6Label=eventHash cs6=", "hash"),
)
"""Custom string fields: the fixed ``key=`` text before each value (labels are constants, never escaped)."""


def _extension(event: AuditEvent) -> str:
    """The extension: fixed keys, each value escaped (:func:`cef_value`)."""
    when = event.timestamp if event.timestamp.tzinfo else event.timestamp.replace(tzinfo=UTC)
    parts = [
        f"rt={int(when.timestamp() * 1000)} externalId=",
        cef_value(event.event_id),
        " cat=",
        cef_value(event.kind),
    ]
    if event.outcome is not None:
        parts += [" act=", event.outcome.value]
    if event.agent_id is not None:
        parts += [" suser=", cef_value(event.agent_id)]
    if event.reasons:
        parts += [" reason=", cef_value(",".join(r.code for r in event.reasons))]
        messages = "; ".join(r.message for r in event.reasons if r.message)
        if messages:
            parts += [" msg=", cef_value(messages)]
    for prefix, attr in _CUSTOM:
        value = getattr(event, attr)
        if value is not None:
            parts += [prefix, cef_value(str(value))]
    parts.append(f" cn1Label=sequence cn1={event.sequence}")
    return "".join(parts)


def to_cef(event: AuditEvent, *, vendor: str = VENDOR, product: str = PRODUCT, version: str = VERSION) -> str:
    """One CEF line (no trailing newline); see the module documentation."""
    sig, name = signature(event)
    head = (
        _DEFAULT_HEAD
        if (vendor, product, version) == (VENDOR, PRODUCT, VERSION)
        else f"CEF:0|{cef_header(vendor)}|{cef_header(product)}|{cef_header(version)}|"
    )
    header = f"{head}{cef_header(sig)}|{cef_header(name)}|{cef_severity(event)}"
    line = f"{header}|{_extension(event)}"
    return line if len(line) <= MAX_LINE else line[:MAX_LINE].rsplit(" ", 1)[0]


def leef_value(value: str) -> str:
    """A LEEF attribute value: every control character (the tab delimiter included) a space."""
    return _cut(value).translate(_LEEF_TABLE)


def to_leef(event: AuditEvent, *, vendor: str = VENDOR, product: str = PRODUCT, version: str = VERSION) -> str:
    """One LEEF 2.0 line (no trailing newline); see the module documentation."""
    sig, _ = signature(event)
    when = event.timestamp if event.timestamp.tzinfo else event.timestamp.replace(tzinfo=UTC)
    header = "|".join(
        ["LEEF:2.0", cef_header(vendor), cef_header(product), cef_header(version), cef_header(sig), "x09"]
    )
    attrs: list[tuple[str, str | None]] = [
        ("devTime", when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"),
        ("devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX"),
        ("sev", str(cef_severity(event))),
        ("cat", event.kind),
        ("action", event.outcome.value if event.outcome is not None else None),
        ("usrName", event.agent_id),
        ("resource", event.tool_name),
        ("reason", ",".join(r.code for r in event.reasons) or None),
        ("msg", "; ".join(r.message for r in event.reasons if r.message) or None),
        ("requestId", event.request_id),
        ("eventId", event.event_id),
        ("environment", event.environment),
        ("pluginSource", event.plugin_source),
        ("sequence", str(event.sequence)),
        ("eventHash", event.hash),
    ]
    body = "\t".join(f"{k}={leef_value(v)}" for k, v in attrs if v is not None)
    line = f"{header}|{body}"
    return line if len(line) <= MAX_LINE else line[:MAX_LINE].rsplit("\t", 1)[0]
