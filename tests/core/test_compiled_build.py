"""The optional compiled core (``packages/agent-security-core/hatch_build.py``).

The rules for a module on its list are checked on the source here; ``make test-compiled`` runs the whole
suite against the compiled wheel with ``AGENT_SECURITY_EXPECT_COMPILED=1``, and then the last tests prove
that the compiled modules, not their ``.py`` files, were the ones imported, and that the compiled plugins'
hook implementations are registered and called (pluggy alone would skip them; the core's plugin manager
registers them, see ``test_compiled_hookimpls.py``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
from pathlib import Path

import pytest

from agent_security.core import AgentSecurity, Decision, Outcome
from agent_security.core.audit.sinks import MemoryAuditSink
from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.hookspecs import PROJECT_NAME
from agent_security.core.plugins import _is_cyfunction
from agent_security.core.testing import StaticEngine

CORE = Path(__file__).resolve().parents[2] / "packages" / "agent-security-core"
SRC = CORE / "src" / "agent_security" / "core"


def build_list(name: str) -> list[str]:
    tree = ast.parse((CORE / "hatch_build.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == name:
            assert node.value is not None
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"hatch_build.py has no {name} list")


MODULES = build_list("COMPILED")
EXTENSIONS = build_list("EXTENSIONS")


def test_the_extensions_are_cython_sources_that_the_pure_wheel_cannot_import() -> None:
    assert "_fastc.pyx" in EXTENSIONS
    for rel in EXTENSIONS:
        assert rel.endswith(".pyx") and (SRC / rel).is_file(), rel
        assert not (SRC / rel).with_suffix(".py").exists(), rel
    if os.environ.get("AGENT_SECURITY_EXPECT_COMPILED") != "1":
        with pytest.raises(ImportError):
            importlib.import_module("agent_security.core._fastc")


@pytest.mark.skipif(os.environ.get("AGENT_SECURITY_EXPECT_COMPILED") != "1",
                    reason="only in the compiled test run (make test-compiled)")
def test_the_compiled_wheel_builds_trusted_models_in_c() -> None:
    from agent_security.core import _fast

    fastc = importlib.import_module("agent_security.core._fastc")
    assert fastc.__file__ is not None and not fastc.__file__.endswith((".py", ".pyx"))
    assert _fast.trusted is fastc.trusted and _fast.trusted is not _fast.py_trusted


def test_the_list_names_existing_modules() -> None:
    assert "sdk.py" in MODULES
    for rel in MODULES:
        assert (SRC / rel).is_file(), rel


@pytest.mark.parametrize("rel", MODULES)
def test_a_compiled_module_defines_no_pydantic_model(rel: str) -> None:
    tree = ast.parse((SRC / rel).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
            assert not bases & {"BaseModel", "Model", "RootModel"}, f"{rel}: {node.name} is a pydantic model"


def hook_methods(cls: type) -> set[str]:
    """Names of the methods of ``cls`` (and its bases) that carry the ``@hookimpl`` marker."""
    marker = PROJECT_NAME + "_impl"
    return {name for name in dir(cls) if isinstance(getattr(getattr(cls, name, None), marker, None), dict)}


def builtin_plugins() -> tuple[AgentSecurity, dict[str, object]]:
    ks, rl, sc = kill_switch(), rate_limiter(max_per_minute=1_000), session_context({"pay": 2})
    sink = MemoryAuditSink(name="audit_sink")
    security = AgentSecurity(policy_engine=StaticEngine(lambda r: Decision(outcome=Outcome.ALLOW)), autoload=False,
                             plugins=[ks, rl, sc, sink], on_allow=lambda r, d: None)
    ks.kill("rogue", "stopped")
    plugins = {name: security.get_plugin(name) for name in
               ("kill_switch", "rate_limiter", "session_context", "audit_sink", "policy", "callbacks")}
    return security, plugins


def test_every_hook_method_of_the_compiled_plugins_is_registered() -> None:
    # Without the core's plugin manager, pluggy would silently skip the compiled ones (a compiled kill
    # switch that never runs); this holds in the pure build and, with the compiled modules, proves it there.
    security, plugins = builtin_plugins()
    for name, plugin in plugins.items():
        marked = hook_methods(type(plugin))
        assert marked, name
        registered = {caller.name for caller in security._pm.get_hookcallers(plugin) or ()}
        assert registered == marked, name
    assert security.check_tool_call(tool_name="t", tool_args={}, agent_id="rogue").final_decision.codes == (
        "AGENT_KILL_SWITCH",)
    for _ in range(3):
        last = security.check_tool_call(tool_name="pay", tool_args={}, agent_id="a", session_id="s")
    assert last.final_decision.codes == ("SESSION_LIMIT_EXCEEDED",)
    assert plugins["rate_limiter"].get_count("a") == 3  # type: ignore[attr-defined]
    assert len(plugins["audit_sink"].events()) >= 4  # type: ignore[attr-defined]


@pytest.mark.skipif(os.environ.get("AGENT_SECURITY_EXPECT_COMPILED") != "1",
                    reason="only in the compiled test run (make test-compiled)")
def test_the_compiled_modules_are_the_ones_imported() -> None:
    for rel in MODULES:
        module = importlib.import_module("agent_security.core." + rel[:-3].replace("/", "."))
        assert module.__file__ is not None and not module.__file__.endswith(".py"), module.__file__


@pytest.mark.skipif(os.environ.get("AGENT_SECURITY_EXPECT_COMPILED") != "1",
                    reason="only in the compiled test run (make test-compiled)")
def test_the_hook_implementations_of_the_compiled_plugins_are_compiled_and_called() -> None:
    security, plugins = builtin_plugins()
    plan = security._get_plan()
    called: set[str] = set()
    for hook in plan._fields:
        for impl in getattr(plan, hook):
            if impl.plugin_name in plugins:
                function = impl.function.__func__
                assert _is_cyfunction(function) and not inspect.isfunction(function), (hook, impl.plugin_name)
                called.add(impl.plugin_name)
    assert called == set(plugins)
    for name, plugin in plugins.items():  # built by pluggy from the compiled function as from a Python one
        for caller in security._pm.get_hookcallers(plugin) or ():
            (impl,) = [i for i in caller.get_hookimpls() if i.plugin is plugin]
            assert impl.argnames == tuple(inspect.signature(impl.function).parameters), (name, caller.name)
            assert caller.spec is not None and set(impl.argnames) <= set(caller.spec.argnames)
            assert impl.tryfirst is (name == "kill_switch") and not impl.trylast and not impl.wrapper
    result = security.check_tool_call(tool_name="t", tool_args={}, agent_id="rogue")
    assert result.final_decision.codes == ("AGENT_KILL_SWITCH",)
