"""Suite-wide fixtures: no user config file or state leaks into a test, and nothing is autoloaded unless asked."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("AGENT_SECURITY_NO_CONFIG", "1")
    monkeypatch.delenv("AGENT_SECURITY_CONFIG", raising=False)
    monkeypatch.delenv("AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("AGENT_SECURITY_DISABLED_PLUGINS", raising=False)
    monkeypatch.delenv("AGENT_SECURITY_CONFIG_SEARCH_CWD", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    # The CLI keeps its state (limits, kills, nonces) in a SQLite file: one fresh file per test.
    monkeypatch.setenv("AGENT_SECURITY_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    # A hook call may start the hook daemon for the next ones: not from the suite (a daemon would outlive
    # it). The daemon's own tests give their processes an environment of their own.
    monkeypatch.setenv("AGENT_SECURITY_DAEMON", "off")


class _FakeDist:
    def __init__(self, name: str, version: str = "9.9.9") -> None:
        self.name = name
        self.version = version


class _FakeEntryPoint:
    group = "agent_security"

    def __init__(self, name: str, dist: str, target: object) -> None:
        self.name = name
        self.value = f"fake.{name}"
        self.dist = _FakeDist(dist)
        self._target = target

    def load(self) -> object:
        if isinstance(self._target, BaseException):
            raise self._target
        return self._target


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Replace the installed ``agent_security`` entry points with fakes: ``(name, dist, target)``."""
    from agent_security.core import plugins

    def install(*specs: tuple[str, str, object]) -> None:
        eps = [_FakeEntryPoint(*spec) for spec in specs]
        monkeypatch.setattr(plugins, "_group_entry_points", lambda: list(eps))

    return install


@pytest.fixture
def system_program() -> Callable[[str], str]:
    """``system_program("redis-server")`` returns the program's path. A program from a Debian package
    (``make system-deps`` installs them) that is absent skips the test, except under
    ``AGENT_SECURITY_REQUIRE_SYSTEM=1`` (CI), where it fails: CI never passes by skipping a real component."""

    def find(name: str) -> str:
        path = shutil.which(name)
        if path is not None:
            return path
        if os.environ.get("AGENT_SECURITY_REQUIRE_SYSTEM") == "1":
            pytest.fail(f"{name} is required (AGENT_SECURITY_REQUIRE_SYSTEM=1) but not on PATH")
        pytest.skip(f"{name} is not installed (make system-deps installs it)")

    return find
