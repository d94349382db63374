"""Framework adapter tests (``frameworks/<name>/``) run in their own environment (``make test-langchain``,
``make test-crewai``), which sets ``AGENT_SECURITY_FRAMEWORK``. Elsewhere they are not collected at all:
the main environment has no framework installed, and a collection-time skip would hide that."""

from __future__ import annotations

import os

_FRAMEWORKS = ("langchain", "crewai")
_chosen = os.environ.get("AGENT_SECURITY_FRAMEWORK", "")
collect_ignore = [f"frameworks/{name}" for name in _FRAMEWORKS if name != _chosen]
