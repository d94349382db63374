"""MCP server and tool definitions as the scanner reads them: validated, bounded, in MCP's own shape."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_NAME_CHARS",
    "MAX_SCHEMA_DEPTH",
    "MAX_SCHEMA_NODES",
    "MAX_TOOLS",
    "ScanInputError",
    "ServerDefinition",
    "ToolDefinition",
    "as_mapping",
    "normalize_server",
    "normalize_tool",
    "walk_schema",
]

MAX_TOOLS = 2000
MAX_SCHEMA_DEPTH = 24
MAX_SCHEMA_NODES = 20_000
MAX_FIELD_CHARS = 200_000
MAX_NAME_CHARS = 256


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


def as_mapping(obj: Any, what: str) -> Mapping[str, Any]:
    if isinstance(obj, Mapping):
        return obj
    if isinstance(obj, BaseModel):
        return obj.model_dump(by_alias=True, exclude_none=True, mode="json")
    raise ScanInputError(f"{what} must be a mapping or a pydantic model, not {type(obj).__name__}")


def normalize_tool(tool: Any) -> ToolDefinition:
    if isinstance(tool, ToolDefinition):
        return tool
    m = dict(as_mapping(tool, "a tool"))
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
    m = dict(as_mapping(server, "the server"))
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


def walk_schema(schema: Any, base: str) -> Iterator[tuple[str, str, bool]]:
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
