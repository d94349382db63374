"""Docs stay in step with the code: every hook is documented with its exact signature."""

from __future__ import annotations

import inspect
from pathlib import Path

from agent_security.core import hookspecs

ROOT = Path(__file__).resolve().parents[2]


def test_every_hook_is_documented_with_its_signature() -> None:
    text = (ROOT / "docs" / "hooks.md").read_text()
    for name in hookspecs.hook_names():
        args = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"`{name}({args})`" in text, f"docs/hooks.md does not document {name}({args})"


def test_the_hook_reference_is_generated_from_the_hookspecs() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_hooks_doc", ROOT / "scripts" / "gen_hooks_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "hooks.md").read_text() == module.render(), (
        "docs/hooks.md is out of date: run python scripts/gen_hooks_doc.py"
    )


def test_every_hook_has_a_docstring_with_version() -> None:
    for name in hookspecs.hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert "versionadded" in doc and len(doc) > 60, name
