"""The optional compiled core (``packages/agent-security-core/hatch_build.py``).

The rules for a module on its list are checked on the source here; ``make test-compiled`` runs the whole
suite against the compiled wheel with ``AGENT_SECURITY_EXPECT_COMPILED=1``, and then the last test proves
that the compiled modules, not their ``.py`` files, were the ones imported.
"""

from __future__ import annotations

import ast
import importlib
import os
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "packages" / "agent-security-core"
SRC = CORE / "src" / "agent_security" / "core"


def compiled_modules() -> list[str]:
    tree = ast.parse((CORE / "hatch_build.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "COMPILED":
            assert node.value is not None
            return list(ast.literal_eval(node.value))
    raise AssertionError("hatch_build.py has no COMPILED list")


MODULES = compiled_modules()


def test_the_list_names_existing_modules() -> None:
    assert "sdk.py" in MODULES
    for rel in MODULES:
        assert (SRC / rel).is_file(), rel


@pytest.mark.parametrize("rel", MODULES)
def test_a_compiled_module_defines_no_hook_implementation_and_no_pydantic_model(rel: str) -> None:
    tree = ast.parse((SRC / rel).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
                assert name != "hookimpl", f"{rel}: {node.name} is a hook implementation (pluggy skips it compiled)"
        if isinstance(node, ast.ClassDef):
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
            assert not bases & {"BaseModel", "Model", "RootModel"}, f"{rel}: {node.name} is a pydantic model"


@pytest.mark.skipif(os.environ.get("AGENT_SECURITY_EXPECT_COMPILED") != "1",
                    reason="only in the compiled test run (make test-compiled)")
def test_the_compiled_modules_are_the_ones_imported() -> None:
    for rel in MODULES:
        module = importlib.import_module("agent_security.core." + rel[:-3].replace("/", "."))
        assert module.__file__ is not None and not module.__file__.endswith(".py"), module.__file__
