"""The core's plugin manager registers hook implementations compiled by Cython, which pluggy alone skips.

pluggy (1.7) only takes plain Python functions as hook implementations; a method of a class compiled by
the optional compiled core (``hatch_build.py``) is a Cython function and would be dropped without a word,
so a compiled kill switch would not run. These tests use a stand-in with Cython's function type name
(this suite also runs without Cython); ``test_compiled_build.py`` checks the real compiled build.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

import pluggy
import pytest

from agent_security.core import AgentSecurity, Decision, Outcome, PluginContractError, hookimpl
from agent_security.core.models import Action, ActionRequest, AgentInfo, PluginResult
from agent_security.core.plugins import make_plugin_manager
from agent_security.core.testing import StaticEngine

ALLOW = Decision(outcome=Outcome.ALLOW)


def make_request(tool: str = "query_database") -> ActionRequest:
    return ActionRequest(agent=AgentInfo(agent_id="agent-001"), action=Action(tool_name=tool, tool_args={}))


class _CompiledFunction:
    """Behaves like Cython's ``cython_function_or_method`` (``binding=True``): binds like a function, has
    ``__code__`` / ``__defaults__`` / ``__qualname__`` and a ``__dict__`` for the marker, but is no
    ``types.FunctionType``."""

    def __init__(self, fn: Any) -> None:
        self._fn = fn
        self.__code__ = fn.__code__
        self.__defaults__ = fn.__defaults__
        self.__kwdefaults__ = fn.__kwdefaults__
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__annotations__ = fn.__annotations__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self if obj is None else types.MethodType(self, obj)


_CompiledFunction.__name__ = _CompiledFunction.__qualname__ = "cython_function_or_method"
_CompiledFunction.__module__ = "_cython_3_3_1"


def compiled(fn: Any) -> Any:
    return _CompiledFunction(fn)


def test_the_stand_in_is_what_pluggy_skips() -> None:
    class Plugin:
        @hookimpl
        @compiled
        def agent_security_before_check(self, request: Any, ctx: Any) -> None:
            return None

    pm = pluggy.PluginManager("agent_security")
    plugin = Plugin()
    pm.register(plugin)
    assert not inspect.isfunction(Plugin.__dict__["agent_security_before_check"])
    assert pm.get_hookcallers(plugin) == []  # silently skipped by pluggy alone


def test_a_compiled_method_is_registered_bound_with_its_options_and_called() -> None:
    calls: list[tuple[Any, ...]] = []

    class Plugin:
        name = "compiled"

        @hookimpl(tryfirst=True)
        @compiled
        def agent_security_before_check(self, request: Any, ctx: Any) -> None:
            calls.append((self, request, ctx))

        @hookimpl
        @compiled
        def agent_security_notify(self, request: Any, decision: Any) -> None:  # a subset of the spec's args
            calls.append((self, request, decision))

    pm = make_plugin_manager()
    plugin = Plugin()
    assert pm.register(plugin, name="compiled") == "compiled"
    assert {c.name for c in pm.get_hookcallers(plugin) or ()} == {"agent_security_before_check",
                                                                 "agent_security_notify"}
    (impl,) = pm.hook.agent_security_before_check.get_hookimpls()
    assert impl.plugin is plugin and impl.plugin_name == "compiled"
    assert impl.argnames == ("request", "ctx") and impl.kwargnames == ()
    assert impl.tryfirst and not impl.trylast and not impl.wrapper and not impl.hookwrapper
    assert isinstance(impl.function, types.MethodType) and impl.function.__self__ is plugin
    (notify,) = pm.hook.agent_security_notify.get_hookimpls()
    assert notify.argnames == ("request", "decision")
    request, ctx = make_request(), object()
    pm.hook.agent_security_before_check(request=request, ctx=ctx)
    assert calls == [(plugin, request, ctx)]
    pm.unregister(plugin)
    assert pm.get_hookcallers(plugin) is None
    assert pm.hook.agent_security_before_check.get_hookimpls() == []


def test_a_compiled_module_level_function_and_a_compiled_historic_hook() -> None:
    seen: list[Any] = []
    module = types.ModuleType("compiled_plugin")

    def agent_security_addhooks(pluginmanager: Any) -> None:
        seen.append(pluginmanager)

    def agent_security_evaluate(request: Any, ctx: Any) -> Decision:
        return Decision.deny("COMPILED", "from a compiled module")

    module.agent_security_addhooks = hookimpl(compiled(agent_security_addhooks))  # type: ignore[attr-defined]
    module.agent_security_evaluate = hookimpl(compiled(agent_security_evaluate))  # type: ignore[attr-defined]
    pm = make_plugin_manager()
    pm.register(module, name="compiled_plugin")
    assert seen == [pm]  # historic hook replayed at registration
    (impl,) = pm.hook.agent_security_evaluate.get_hookimpls()
    assert impl.function is module.agent_security_evaluate
    assert impl.argnames == ("request", "ctx")


def test_a_compiled_hook_implementation_is_checked_against_its_spec_and_a_refusal_changes_nothing() -> None:
    class Plugin:
        @hookimpl
        def agent_security_shutdown(self, security: Any) -> None:  # a plain, valid implementation
            return None

        @hookimpl
        @compiled
        def agent_security_before_check(self, request: Any, ctx: Any, bogus: Any) -> None:
            return None

    pm = make_plugin_manager()
    plugin = Plugin()
    with pytest.raises(pluggy.PluginValidationError, match="bogus"):
        pm.register(plugin, name="bad")
    assert pm.get_plugin("bad") is None
    assert not pm.is_registered(plugin)
    assert pm.hook.agent_security_shutdown.get_hookimpls() == []


def test_an_unknown_compiled_hook_is_pending_like_a_plain_one() -> None:
    class Plugin:
        @hookimpl
        @compiled
        def agent_security_no_such_hook(self) -> None:
            return None

    pm = make_plugin_manager()
    pm.register(Plugin(), name="typo")
    with pytest.raises(pluggy.PluginValidationError, match="unknown hook"):
        pm.check_pending()


def test_only_marked_compiled_functions_are_taken_and_descriptors_are_never_evaluated() -> None:
    evaluated: list[str] = []
    marked = hookimpl(compiled(lambda request, ctx: None))

    class Plugin:
        @compiled
        def agent_security_before_check(self, request: Any, ctx: Any) -> None:  # no marker
            return None

        @property
        def agent_security_evaluate(self) -> Any:
            evaluated.append("property")
            return marked

        @functools.cached_property
        def agent_security_after_decision(self) -> Any:
            evaluated.append("cached_property")
            return marked

        def __getattr__(self, name: str) -> Any:
            if name == "agent_security_notify":
                evaluated.append("__getattr__")
                return marked
            raise AttributeError(name)

    pm = make_plugin_manager()
    plugin = Plugin()
    pm.register(plugin, name="descriptors")
    assert pm.get_hookcallers(plugin) == []
    assert evaluated == []


def test_a_compiled_function_stored_on_the_instance_is_taken_as_it_is() -> None:
    # As pluggy does for a plain function in the instance's __dict__: getattr() hands it out unbound.
    class Plugin:
        pass

    plugin = Plugin()
    plugin.agent_security_before_check = hookimpl(compiled(lambda request, ctx: None))  # type: ignore[attr-defined]
    pm = make_plugin_manager()
    pm.register(plugin, name="instance")
    (impl,) = pm.hook.agent_security_before_check.get_hookimpls()
    assert impl.function is plugin.agent_security_before_check  # type: ignore[attr-defined]
    assert impl.argnames == ("request", "ctx")


def test_a_name_blocked_in_the_manager_registers_nothing() -> None:
    class Plugin:
        @hookimpl
        @compiled
        def agent_security_before_check(self, request: Any, ctx: Any) -> None:
            return None

    pm = make_plugin_manager()
    pm.set_blocked("blocked")
    plugin = Plugin()
    assert pm.register(plugin, name="blocked") is None
    assert pm.hook.agent_security_before_check.get_hookimpls() == []


def test_a_compiled_wrapper_on_a_check_hook_is_still_refused() -> None:
    class Plugin:
        name = "wrapper"

        @hookimpl(wrapper=True)
        @compiled
        def agent_security_before_check(self, request: Any, ctx: Any) -> Any:
            return (yield)

    security = AgentSecurity(autoload=False)
    with pytest.raises((pluggy.PluginValidationError, PluginContractError)):
        security.register_plugin(Plugin())
    assert security.get_plugin("wrapper") is None


def test_a_compiled_plugin_decides_in_the_pipeline() -> None:
    class Plugin:
        name = "compiled_gate"
        fail_open = False

        @hookimpl
        @compiled
        def agent_security_before_check(self, request: Any, ctx: Any) -> PluginResult | None:
            if request.action.tool_name == "blocked_tool":
                return PluginResult(decision=Decision.deny("COMPILED_GATE", "blocked by a compiled plugin"))
            return None

    security = AgentSecurity(autoload=False, policy_engine=StaticEngine(lambda r: ALLOW), plugins=[Plugin()])
    result = security.check_tool_call(tool_name="blocked_tool", tool_args={}, agent_id="a")
    assert result.final_decision.outcome is Outcome.DENY
    assert result.final_decision.codes == ("COMPILED_GATE",)
    assert security.check_tool_call(tool_name="other", tool_args={}, agent_id="a").allowed
