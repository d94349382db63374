"""agent-security-containment.

Sandbox profiles for paths, URLs, env and processes; change control with ticket validation.
"""

from __future__ import annotations

from importlib import metadata

__version__ = metadata.version("agent-security-containment")

__all__ = ["__version__"]
