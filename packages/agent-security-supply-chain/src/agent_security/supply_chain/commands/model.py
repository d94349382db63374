"""The governor's vocabulary: rules, verdicts, and a simple command as the rules see it (a *part*)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any, Literal

import re2
from pydantic import BaseModel, ConfigDict, Field

from agent_security.supply_chain.commands.words import Redirect, Word

__all__ = [
    "TRUSTED_DIRS",
    "CommandAction",
    "CommandCheckResult",
    "CommandRule",
    "Feature",
    "Part",
    "PartVerdict",
]

CommandAction = Literal["allow", "block", "require_approval"]
_RANK = {"allow": 0, "require_approval": 1, "block": 2}

TRUSTED_DIRS = frozenset(
    {"/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin"}
)
"""Directories whose programs are known by their base name (``/usr/bin/curl`` is ``curl``)."""

_STD_FD = re2.compile(r"^/(?:dev/fd|proc/(?:self|thread-self|\d+)/fd)/[0-2]$")
_SAFE_DEVICES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty"})
_RISKY_ENV = re2.compile(
    r"^(?:PATH|LD_[A-Z_]+|DYLD_[A-Z_]+|PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|PERL5LIB|PERL5OPT|RUBYLIB|RUBYOPT|"
    r"NODE_OPTIONS|NODE_PATH|BASH_ENV|ENV|IFS|PS4|PROMPT_COMMAND|SHELLOPTS|BASHOPTS|GIT_[A-Z_]+|PAGER|"
    r"MANPAGER|GIT_PAGER|LESSOPEN|LESSCLOSE|EDITOR|VISUAL|SSH_ASKPASS|SUDO_ASKPASS|HOME|XDG_CONFIG_HOME|"
    r"http_proxy|https_proxy|HTTP_PROXY|HTTPS_PROXY|ALL_PROXY|all_proxy|TMPDIR|BROWSER|JAVA_TOOL_OPTIONS|"
    r"_JAVA_OPTIONS|npm_config_[a-z_]+|NPM_CONFIG_[A-Z_]+|PIP_[A-Z_]+|PYTEST_ADDOPTS|PYTEST_PLUGINS|PYTHONWARNINGS|"
    r"PYTHONBREAKPOINT|PYTHONINSPECT|PYTHONUSERBASE|RIPGREP_CONFIG_PATH|GREP_OPTIONS|LESS|LESSKEY|NPM_TOKEN)$"
)


class CommandRule(BaseModel):
    """One governor rule. First matching rule wins (per part of the command line)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pattern: str = Field(min_length=1, max_length=1000)
    action: CommandAction
    reason: str = Field("", max_length=500)


@dataclass(frozen=True)
class PartVerdict:
    """The verdict on one part (simple command) of a command line."""

    program: str
    """Program name of the part (never its arguments: they may hold secrets)."""
    origin: str
    action: CommandAction
    reason: str
    matched_rule: CommandRule | None = None
    features: tuple[str, ...] = ()
    """What the part does that needs its own allowance (``write redirection``, ``find -exec``, ...)."""


@dataclass(frozen=True)
class CommandCheckResult:
    """The answer of :meth:`CommandGovernor.check`."""

    action: CommandAction
    reason: str
    matched_rule: CommandRule | None = None
    parts: tuple[PartVerdict, ...] = ()
    parsed: bool = True
    """False when the line could not be parsed (``action`` is then the unparseable action)."""

    @property
    def allowed(self) -> bool:
        return self.action == "allow"

    @property
    def requires_approval(self) -> bool:
        return self.action == "require_approval"

    def summary(self) -> dict[str, Any]:
        """Redacted, audit-safe facts: actions and program names, never arguments."""
        return {
            "action": self.action,
            "parsed": self.parsed,
            "rule": self.matched_rule.pattern if self.matched_rule else None,
            "parts": [
                {
                    "program": p.program[:64],
                    "origin": p.origin,
                    "action": p.action,
                    "features": list(p.features),
                }
                for p in self.parts[:32]
            ],
        }


@dataclass(frozen=True)
class Feature:
    label: str
    token: str
    """What an allow rule's pattern must contain to cover the feature."""


@dataclass
class Part:
    program: str
    """Name used by allow rules (trusted path stripped; otherwise as written)."""
    base: str
    """Base name used by block and approval rules (any path stripped)."""
    args: list[Word]
    redirects: list[Redirect]
    piped_input: bool
    origin: str
    features: list[Feature] = field(default_factory=list)

    def text(self, name: str) -> str:
        items = [name, *(w.text for w in self.args)]
        for r in self.redirects:
            if r.op in ("<<", "<<-"):
                items.append(f"{r.op} heredoc")
            else:
                items.append(f"{r.fd}{r.op} {r.target.text}")
        return " ".join(items)


def _trusted_name(name: str) -> str | None:
    """The program's name for allow rules: the name itself, or the base name of a path in a trusted
    system directory. ``None`` for any other path (``./git``, ``/tmp/curl``)."""
    if "/" not in name:
        return name
    norm = posixpath.normpath(name)
    if posixpath.dirname(norm) in TRUSTED_DIRS:
        return posixpath.basename(norm)
    return None


def _write_target(r: Redirect) -> bool:
    if r.op in ("<", "<<", "<<-", "<<<", "<&"):
        return False
    tgt = r.target.text
    if r.op in (">&",) and (tgt.isdigit() or tgt == "-"):
        return False
    # a descriptor path other than the standard streams writes to whatever that descriptor is open on
    return tgt not in _SAFE_DEVICES and not _STD_FD.search(tgt)
