"""``import agent_security.core`` is cheap (the hook's launcher imports it) and every public name resolves."""

from __future__ import annotations

import subprocess
import sys

import agent_security.core as core


def test_every_public_name_resolves() -> None:
    for name in core.__all__:
        assert getattr(core, name) is not None, name
    assert set(core.__all__) <= set(dir(core))


def test_importing_the_package_imports_no_heavy_dependency() -> None:
    code = (
        "import sys, agent_security.core, agent_security.core.launcher, agent_security.adapters.daemon.launch, "
        "agent_security.adapters.daemon.client\n"
        "heavy = [m for m in ('pydantic', 'pluggy', 'click', 'yaml', 'typing', 'dataclasses', 'json', 'socket', "
        "'pathlib', 'importlib.metadata') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
