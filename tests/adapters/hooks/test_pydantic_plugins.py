"""The in-process hook check spares pydantic its plugin search only when no pydantic plugin is installed,
and pydantic then validates as it would have (each case in a fresh interpreter: the stand-in is only
installed before pydantic's loader is first imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
from agent_security.adapters.hooks.pydantic_plugins import LOADER, skip_search
installed = skip_search()
from pydantic import BaseModel, ValidationError
class M(BaseModel):
    x: int
ok = M.model_validate({"x": "3"}).x
try:
    M.model_validate({"x": "three"})
    refused = False
except ValidationError:
    refused = True
out = {"installed": installed, "ok": ok, "refused": refused,
       "validator": type(M.__pydantic_validator__).__name__,
       "metadata_imported": "importlib.metadata" in sys.modules}
if len(sys.argv) > 1:
    import pydantic.plugin._loader as loader_module
    out["group"] = sys.modules[LOADER].PYDANTIC_ENTRY_POINT_GROUP
    out["real_loader"] = sys.modules[LOADER].__file__ is not None
print(json.dumps(out))
"""


def _probe(*args: str, pythonpath: Path | None = None) -> dict[str, object]:
    env = dict(os.environ)
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, check=True
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_without_pydantic_plugins_the_search_is_skipped_and_validation_is_unchanged() -> None:
    result = _probe()
    assert result["installed"] is True
    assert result["metadata_imported"] is False  # neither pydantic nor we read importlib.metadata
    assert result["validator"] == "SchemaValidator"  # what pydantic builds when it finds no plugin
    assert result["ok"] == 3 and result["refused"] is True


def test_a_name_the_stand_in_lacks_loads_pydantics_own_loader() -> None:
    result = _probe("more")
    assert result["installed"] is True
    assert result["group"] == "pydantic" and result["real_loader"] is True


def test_an_installed_pydantic_plugin_keeps_pydantics_own_search(tmp_path: Path) -> None:
    dist = tmp_path / "acme_pydantic_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-pydantic-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pydantic]\nacme = acme_pydantic_plugin:plugin\n")
    (tmp_path / "acme_pydantic_plugin.py").write_text(
        "class _P:\n"
        "    def new_schema_validator(self, *args, **kwargs):\n"
        "        return None, None, None\n"
        "plugin = _P()\n"
    )
    result = _probe(pythonpath=tmp_path)
    assert result["installed"] is False
    assert result["validator"] == "PluggableSchemaValidator"  # pydantic found and used the plugin
    assert result["ok"] == 3 and result["refused"] is True
