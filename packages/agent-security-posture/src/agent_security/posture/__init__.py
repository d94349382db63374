"""agent-security-posture: Inventory, risk scores, compliance reports and SIEM export (CEF, LEEF, OCSF, syslog)."""

from __future__ import annotations

from importlib import metadata

__version__ = metadata.version("agent-security-posture")

__all__ = ["__version__"]
