"""``SandboxManager``: sandbox profiles per tool, the argument check (:meth:`check_constraints`) and the
process sandbox (:meth:`run`).

A tool's profile is the one registered under its name (compared after NFKC and case folding, so
``Write_File`` is ``write_file``), else the first registered ``fnmatch`` pattern that matches
(``mcp__fs__*``), else the ``"*"`` profile. A tool without a profile passes (as in the original) unless
``require_profile`` is set.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent_security.containment.constraints import CompiledProfile, Violation, check_arguments
from agent_security.containment.process import SandboxResult, run_sandboxed
from agent_security.containment.profiles import SandboxProfile
from agent_security.core.normalize import normalize_name

__all__ = ["ConstraintResult", "SandboxManager"]

MAX_PROFILES = 4096


@dataclass(frozen=True)
class ConstraintResult:
    """``allowed`` and the ``violations`` (messages, as the original gave them); ``details`` carries each
    violation's reason code and argument; ``profile`` the name of the profile applied (``None``: none)."""

    allowed: bool
    violations: tuple[str, ...] = ()
    details: tuple[Violation, ...] = ()
    profile: str | None = None


class SandboxManager:
    """Sandbox profiles per tool. Thread-safe: registrations replace an immutable table."""

    def __init__(self, *, require_profile: bool = False, home: str | None = None) -> None:
        self.require_profile = require_profile
        self._home = home
        self._lock = threading.Lock()
        self._exact: dict[str, tuple[str, CompiledProfile]] = {}
        self._patterns: tuple[tuple[str, CompiledProfile], ...] = ()

    # ---- registry -------------------------------------------------------------------------------------
    def register_sandbox(self, name: str, profile: SandboxProfile | Mapping[str, Any]) -> SandboxProfile:
        """Register ``profile`` (a :class:`SandboxProfile` or its fields, the original's names accepted)
        for the tool ``name`` (or an ``fnmatch`` pattern, or ``"*"`` for every tool without one)."""
        if not isinstance(name, str) or not name.strip() or len(name) > 256:
            raise ValueError("a sandbox name is a non-empty tool name or pattern of at most 256 characters")
        model = profile if isinstance(profile, SandboxProfile) else SandboxProfile.model_validate(dict(profile))
        compiled = CompiledProfile.build(model, self._home)
        key = normalize_name(name)
        with self._lock:
            if len(self._exact) + len(self._patterns) >= MAX_PROFILES:
                raise ValueError(f"more than {MAX_PROFILES} sandbox profiles")
            if _is_pattern(key):
                kept = tuple(p for p in self._patterns if p[0] != key)
                self._patterns = (*kept, (key, compiled))
            else:
                exact = dict(self._exact)
                exact[key] = (name, compiled)
                self._exact = exact
        return model

    def unregister_sandbox(self, name: str) -> bool:
        key = normalize_name(name)
        with self._lock:
            if key in self._exact:
                exact = dict(self._exact)
                del exact[key]
                self._exact = exact
                return True
            kept = tuple(p for p in self._patterns if p[0] != key)
            found = len(kept) != len(self._patterns)
            self._patterns = kept
            return found

    def get_sandbox(self, name: str) -> SandboxProfile | None:
        """The profile registered under ``name`` (exactly that name or pattern), or ``None``."""
        key = normalize_name(name)
        hit = self._exact.get(key)
        if hit is not None:
            return hit[1].profile
        return next((c.profile for k, c in self._patterns if k == key), None)

    def list(self) -> dict[str, SandboxProfile]:
        """Every registered name or pattern and its profile."""
        out = {name: c.profile for name, c in self._exact.values()}
        out.update({k: c.profile for k, c in self._patterns})
        return out

    def profile_for(self, tool_name: str) -> tuple[str, CompiledProfile] | None:
        """The profile that applies to a call of ``tool_name``: ``(registered name, profile)``."""
        key = normalize_name(tool_name)
        hit = self._exact.get(key)
        if hit is not None:
            return hit
        for pattern, compiled in self._patterns:
            if pattern != "*" and fnmatch.fnmatchcase(key, pattern):
                return pattern, compiled
        star = next((c for k, c in self._patterns if k == "*"), None)
        return ("*", star) if star is not None else None

    # ---- checks ---------------------------------------------------------------------------------------
    def check_constraints(self, tool_name: str, tool_args: Mapping[str, Any] | None) -> ConstraintResult:
        """Whether a call of ``tool_name`` with ``tool_args`` stays inside its sandbox, and every
        violation (paths, URLs and hosts, environment variable names, timeouts) when it does not."""
        found = self.profile_for(tool_name)
        if found is None:
            if self.require_profile:
                v = Violation("NO_PROFILE", "tool", f'Tool "{tool_name[:128]}" has no sandbox profile')
                return ConstraintResult(False, (v.message,), (v,))
            return ConstraintResult(True)
        name, compiled = found
        if not isinstance(tool_args, Mapping):
            tool_args = {} if tool_args is None else {"args": tool_args}
        violations = check_arguments(compiled, tool_name, tool_args)
        return ConstraintResult(not violations, tuple(v.message for v in violations), tuple(violations), name)

    def run(
        self,
        command: Sequence[str] | str,
        profile: str | SandboxProfile | Mapping[str, Any],
        *,
        stdin: bytes | None = None,
        timeout_s: float | None = None,
    ) -> SandboxResult:
        """Run ``command`` in the process sandbox ``profile`` (a registered name, a profile or its
        fields). See :func:`agent_security.containment.process.run_sandboxed`; raises
        :class:`~agent_security.containment.process.SandboxUnavailable` rather than run unconfined."""
        if isinstance(profile, str):
            found = self.profile_for(profile)
            if found is None:
                raise KeyError(f'no sandbox profile "{profile[:128]}"')
            model = found[1].profile
        elif isinstance(profile, SandboxProfile):
            model = profile
        else:
            model = SandboxProfile.model_validate(dict(profile))
        return run_sandboxed(command, model, stdin=stdin, timeout_s=timeout_s)


def _is_pattern(name: str) -> bool:
    return any(c in name for c in "*?[")
