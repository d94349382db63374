"""How large a policy document may be, whatever its format (the JSON and the YAML readers both enforce these)."""

from __future__ import annotations

__all__ = ["MAX_DEPTH", "MAX_NODES"]

MAX_DEPTH = 20
"""Nesting levels a document may have (the top-level object is level 1)."""
MAX_NODES = 1_000_000
"""Values (scalars and collections, keys not counted) a document may hold."""
