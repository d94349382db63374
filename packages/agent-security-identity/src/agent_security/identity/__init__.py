"""agent-security-identity.

Agent and tool registries, trust levels earned from signed attestations, delegation chains.
"""

from __future__ import annotations

from importlib import metadata

__version__ = metadata.version("agent-security-identity")

__all__ = ["__version__"]
