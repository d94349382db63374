"""The text normalisation of names and keyword conditions; it lives in :mod:`agent_security.core.normalize`
(the policy engine, the models and the built-ins share it). This module keeps its import path."""

from agent_security.core.normalize import (
    INVISIBLE_RANGES,
    canonical_agent_id,
    normalize_name,
    normalize_text,
    regex_text,
    strip_invisible,
)

__all__ = [
    "INVISIBLE_RANGES",
    "canonical_agent_id",
    "normalize_name",
    "normalize_text",
    "regex_text",
    "strip_invisible",
]
