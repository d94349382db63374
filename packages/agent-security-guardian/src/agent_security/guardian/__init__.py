"""agent-security-guardian: Anomaly detection over the audit stream with auto-kill through the kill switch."""

from __future__ import annotations

from importlib import metadata

__version__ = metadata.version("agent-security-guardian")

__all__ = ["__version__"]
