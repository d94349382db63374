"""Helpers for testing code that uses agent-security (and for our own test suite).

Tests cannot import each other in pytest's importlib mode, so shared helpers live here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from agent_security.core.models import Action, ActionRequest, AgentInfo, Decision, RequestContext

__all__ = ["FakeClock", "StaticEngine", "check_placeholder_plugin", "make_context", "make_request"]


class FakeClock:
    """A :class:`~agent_security.core.clock.Clock` that only moves when told to (thread-safe)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
        self._mono = 1000.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def time(self) -> float:
        return self._now.timestamp()

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds


class StaticEngine:
    """A policy engine stand-in: ``decide(request) -> Decision`` (for tests of the pipeline itself)."""

    bundle = None

    def __init__(self, decide: Callable[[ActionRequest], Decision]) -> None:
        self._decide = decide

    def evaluate(self, request: ActionRequest, *, now: datetime | None = None) -> Decision:
        return self._decide(request)


def make_request(
    tool_name: str = "tool",
    tool_args: Mapping[str, Any] | None = None,
    *,
    agent_id: str = "agent",
    environment: str = "dev",
    action_type: str = "tool_call",
    user_input: str | None = None,
    data_labels: Iterable[str] = (),
    session_id: str | None = None,
    **agent: Any,
) -> ActionRequest:
    """Build an :class:`ActionRequest` with sensible test defaults."""
    return ActionRequest(
        agent=AgentInfo(agent_id=agent_id, name=agent_id, environment=environment, **agent),
        action=Action(type=action_type, tool_name=tool_name, tool_args=dict(tool_args or {})),
        context=RequestContext(user_input=user_input, data_labels=tuple(data_labels), session_id=session_id),
    )


def make_context(
    store: Any = None,
    *,
    now: datetime | None = None,
    monotonic: float = 0.0,
    host: Any = None,
    alert_sink: Callable[[str, str, Mapping[str, Any]], None] | None = None,
) -> Any:
    """A :class:`~agent_security.core.context.CheckContext` for calling a plugin's hooks directly (tests,
    benchmarks): a fresh :class:`~agent_security.core.store.MemoryStore` unless ``store`` is given, and
    ``now`` (default 2026-06-01 12:00 UTC) as the check's time."""
    from agent_security.core.context import CheckContext
    from agent_security.core.store import MemoryStore

    return CheckContext(
        host=host,
        store=store if store is not None else MemoryStore(),
        now=now or datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
        monotonic=monotonic,
        _alert_sink=alert_sink,
    )


def check_placeholder_plugin(name: str, distribution: str, config_dir: Any) -> None:
    """Assert what a 0.1.0 placeholder distribution promises: it is discovered with its distribution and
    version, validates its config section (unknown keys are errors that name the field), and changes
    no decision. ``config_dir`` is a writable directory (pytest's ``tmp_path``)."""
    from pathlib import Path

    from agent_security.core.errors import ConfigFileError
    from agent_security.core.pipeline.facade import AgentSecurity

    allow = StaticEngine(lambda r: Decision.allow("OK"))
    security = AgentSecurity(policy_engine=allow)
    info = next(i for i in security.plugin_infos if i.name == name)
    assert info.distribution == distribution and info.version
    assert info.config_section == name and info.unconfigured
    cfg = Path(config_dir) / "agent-security.toml"
    cfg.write_text(f"[{name}]\n")
    assert AgentSecurity(policy_engine=allow, config_path=cfg).settings.section(name) is not None
    cfg.write_text(f"[{name}]\nunknown_setting = 1\n")
    try:
        AgentSecurity(policy_engine=allow, config_path=cfg)
    except ConfigFileError as exc:
        assert exc.section == name and exc.field == "unknown_setting"
    else:
        raise AssertionError(f"[{name}] accepted an unknown key")
    deny = AgentSecurity(policy_engine=StaticEngine(lambda r: Decision.deny("NO", "no")))
    assert deny.get_plugin(name) is not None
    assert deny.check_tool_call(tool_name="t", agent_id="a").final_decision.codes == ("NO",)
