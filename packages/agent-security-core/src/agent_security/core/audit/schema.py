"""The audit event schema, exported as JSON Schema (draft 2020-12).

:func:`event_schema` describes one stored event exactly as the sinks write it (a JSON Lines line, a SQLite
row's ``event_json``): every field present, no other. It is generated from
:class:`~agent_security.core.models.AuditEvent` and versioned with
:data:`~agent_security.core.models.SCHEMA_VERSION` (``x-schema-version``; the major part changes on an
incompatible change). ``agent-security audit schema`` prints it; ``docs/audit-event.schema.json`` holds
it, and a test fails when the model changes without that file being regenerated::

    agent-security audit schema > docs/audit-event.schema.json
"""

from __future__ import annotations

import json
from typing import Any

from agent_security.core.models import CORE_EVENT_KINDS, SCHEMA_VERSION, AuditEvent

__all__ = ["SCHEMA_ID", "event_schema", "schema_json"]

SCHEMA_ID = "urn:agent-security:audit-event"
_NAMESPACED_KIND = r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+"


def _all_required(schema: dict[str, Any]) -> None:
    """Every property of an object schema is required: the sinks write every field of a model."""
    properties = schema.get("properties")
    if isinstance(properties, dict):
        schema["required"] = list(properties)


def event_schema() -> dict[str, Any]:
    """The JSON Schema of a stored audit event."""
    generated = AuditEvent.model_json_schema(mode="serialization")
    _all_required(generated)
    for definition in generated.get("$defs", {}).values():
        _all_required(definition)
    kind = generated["properties"]["kind"]
    kind["anyOf"] = [{"enum": sorted(CORE_EVENT_KINDS)}, {"pattern": f"^{_NAMESPACED_KIND}$", "maxLength": 64}]
    major = SCHEMA_VERSION.split(".")[0]
    generated["properties"]["schema_version"]["pattern"] = rf"^{major}\.[0-9]+$"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_ID}:{SCHEMA_VERSION}",
        "x-schema-version": SCHEMA_VERSION,
        **generated,
    }


def schema_json() -> str:
    """:func:`event_schema` as the text ``docs/audit-event.schema.json`` holds (indented, one newline)."""
    return json.dumps(event_schema(), indent=2, ensure_ascii=False) + "\n"
