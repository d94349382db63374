"""The audit event schema, exported as JSON Schema (draft 2020-12).

:func:`event_schema` describes one stored event exactly as the sinks write it (a JSON Lines line, a SQLite
row's ``event_json``): every field present, no other. It is generated from
:class:`~agent_security.core.models.AuditEvent` and versioned with
:data:`~agent_security.core.models.SCHEMA_VERSION` (``x-schema-version``; the major part changes on an
incompatible change). ``agent-security audit schema`` prints it; ``docs/audit-event.schema.json`` holds
it, and a test fails when the model changes without that file being regenerated. A field's description
is the docstring under it in the model's source::

    agent-security audit schema > docs/audit-event.schema.json
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema

from agent_security.core import models
from agent_security.core.models import CORE_EVENT_KINDS, SCHEMA_VERSION, AuditEvent

__all__ = ["SCHEMA_ID", "event_schema", "schema_json"]

SCHEMA_ID = "urn:agent-security:audit-event"
_NAMESPACED_KIND = r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+"


def _all_required(schema: dict[str, Any]) -> None:
    """Every property of an object schema is required: the sinks write every field of a model."""
    properties = schema.get("properties")
    if isinstance(properties, dict):
        schema["required"] = list(properties)


def attribute_docs(model: type[BaseModel]) -> dict[str, str]:
    """The docstrings written under a model's fields (a string right after ``name: type [= ...]``),
    cleaned as :func:`inspect.cleandoc` cleans them: the fields' descriptions."""
    body = ast.parse(textwrap.dedent(inspect.getsource(model))).body[0]
    assert isinstance(body, ast.ClassDef)
    docs: dict[str, str] = {}
    for node, after in zip(body.body, body.body[1:], strict=False):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _describe(schema: dict[str, Any], model: type[BaseModel]) -> None:
    properties = schema.get("properties", {})
    for name, doc in attribute_docs(model).items():
        if name in properties:
            properties[name].setdefault("description", doc)


class _DescribedSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema, with the core models' attribute docstrings as their fields' descriptions."""

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        generated = super().generate(schema, mode)
        _describe(generated, AuditEvent)
        for name, definition in generated.get("$defs", {}).items():
            model = getattr(models, name, None)
            if isinstance(model, type) and issubclass(model, BaseModel):
                _describe(definition, model)
        return self.sort(generated)


def event_schema() -> dict[str, Any]:
    """The JSON Schema of a stored audit event."""
    generated = AuditEvent.model_json_schema(mode="serialization", schema_generator=_DescribedSchema)
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
