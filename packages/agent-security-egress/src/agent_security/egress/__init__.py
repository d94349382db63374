"""agent-security-egress: Data loss prevention and egress control."""

from __future__ import annotations

from importlib import metadata

__version__ = metadata.version("agent-security-egress")

__all__ = ["__version__"]
