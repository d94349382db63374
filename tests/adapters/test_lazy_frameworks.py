"""Installing or importing the adapters pulls in no framework: LangChain and CrewAI come with the
``langchain`` / ``crewai`` extras and are imported only by their own adapter packages."""

from __future__ import annotations

import subprocess
import sys

FRAMEWORKS = ("langchain", "langchain_core", "langgraph", "crewai")


def test_importing_the_adapters_imports_no_framework() -> None:
    code = (
        "import sys, agent_security.adapters, agent_security.adapters.plugin, agent_security.adapters.framework\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_extras_declare_the_frameworks() -> None:
    from importlib import metadata

    requires = metadata.requires("agent-security-adapters") or []
    assert any(r.startswith("langchain") and "extra ==" in r and "langchain" in r.split("extra")[1] for r in requires)
    assert any(r.startswith("crewai") and "extra ==" in r and "crewai" in r.split("extra")[1] for r in requires)
    assert not any(r.startswith(("langchain", "crewai")) and "extra ==" not in r for r in requires)
