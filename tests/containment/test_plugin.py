"""agent-security-containment 0.1.0: discovered, described, config section validated, no decision changed."""

from __future__ import annotations

from pathlib import Path

from agent_security.core.testing import check_placeholder_plugin


def test_placeholder_plugin_contract(tmp_path: Path) -> None:
    check_placeholder_plugin("containment", "agent-security-containment", tmp_path)
