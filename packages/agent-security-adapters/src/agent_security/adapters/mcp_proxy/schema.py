"""Validate a call's arguments against its tool's ``inputSchema`` (the MCP SDK's low-level server does not).

``jsonschema`` (a dependency of the MCP SDK) with the schema's own draft (2020-12 when it names none).
Bounded: the schema's size is capped, its ``$ref``s resolve only inside the schema (the library never
fetches a remote one), and a schema or instance deep enough to exhaust the stack is a refusal, not a crash.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["ArgumentValidator", "SchemaError"]

MAX_ERROR_CHARS = 300


class SchemaError(ValueError):
    """A tool's inputSchema that cannot be used to validate arguments."""


class ArgumentValidator:
    """A compiled ``inputSchema``. ``errors(args)`` is ``None`` when ``args`` are valid."""

    def __init__(self, schema: Any, *, max_schema_bytes: int = 256 << 10) -> None:
        import jsonschema
        from jsonschema.validators import validator_for

        if schema is None:
            schema = {"type": "object"}
        if not isinstance(schema, dict):
            raise SchemaError(f"inputSchema is a {type(schema).__name__}, not an object")
        try:
            size = len(json.dumps(schema, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        except (TypeError, ValueError, RecursionError) as exc:
            raise SchemaError(f"inputSchema is not JSON ({type(exc).__name__})") from None
        if size > max_schema_bytes:
            raise SchemaError(f"inputSchema is larger than {max_schema_bytes} bytes")
        if schema.get("type", "object") != "object":
            raise SchemaError('inputSchema must describe an object ("type": "object")')
        cls = validator_for(schema, default=jsonschema.Draft202012Validator)
        try:
            cls.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise SchemaError(f"inputSchema is not a valid JSON Schema: {str(exc.message)[:MAX_ERROR_CHARS]}") from None
        except RecursionError:
            raise SchemaError("inputSchema is nested too deeply") from None
        self._validator = cls(schema)

    def errors(self, args: dict[str, Any]) -> str | None:
        """Why ``args`` do not match the schema (the first few errors), or ``None``."""
        try:
            found = []
            for err in self._validator.iter_errors(args):
                where = "/".join(str(p) for p in err.absolute_path) or "(arguments)"
                found.append(f"{where}: {err.message}"[:MAX_ERROR_CHARS])
                if len(found) >= 3:
                    break
        except RecursionError:
            return "the arguments are nested too deeply to validate"
        except Exception as exc:  # an unresolvable $ref, an unknown type...: refused, never waved through
            return f"the arguments cannot be validated against the tool's schema ({type(exc).__name__})"
        return "; ".join(found) if found else None
