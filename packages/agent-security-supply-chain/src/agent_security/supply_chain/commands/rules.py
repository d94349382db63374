"""Rule patterns compiled once: the original's three pattern forms, matched narrowly for allow rules and
broadly for block and approval rules, and the conservative built-in rules."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import re2

from agent_security.supply_chain.commands.model import CommandRule, Feature, Part

__all__ = ["DEFAULT_RULES", "CompiledRule"]

# ------------------------------------------------------------------------------------------------
# Pattern compilation.
# ------------------------------------------------------------------------------------------------


def _glob_regex(glob: str, *, icase: bool) -> Any:
    pieces: list[str] = []
    for ch in glob:
        if ch == "*":
            pieces.append(".*")
        elif ch == "?":
            pieces.append(".")
        else:
            pieces.append(re2.escape(ch))
    flags = "(?s" + ("i" if icase else "") + ")"
    return re2.compile(flags + "^" + "".join(pieces) + "$")


def _split_opts(tokens: Iterable[str], prog: str) -> tuple[set[str], list[str]]:
    opts: set[str] = set()
    pos: list[str] = []
    aliases = _OPTION_ALIASES.get(prog, {})
    for t in tokens:
        if t.startswith("--") and len(t) > 2:
            a = aliases.get(t)
            opts.add(f"-{a}" if a else t)
        elif t.startswith("-") and len(t) > 1 and not t[1:].isdigit():
            for ch in t[1:]:
                a = aliases.get(f"-{ch}")
                opts.add(f"-{a}" if a else f"-{ch}")
        else:
            pos.append(t)
    return opts, pos


_OPTION_ALIASES: dict[str, dict[str, str]] = {
    "rm": {"--recursive": "r", "-R": "r", "--force": "f", "--dir": "d"},
    "chmod": {"--recursive": "R"},
    "chown": {"--recursive": "R"},
    "cp": {"--recursive": "r", "-R": "r", "--force": "f"},
    "git": {"--force": "f"},
}


@dataclass(frozen=True)
class CompiledRule:
    rule: CommandRule
    kind: Literal["all", "program", "glob"]
    pipe_only: bool
    word: str
    allow_re: Any
    broad_re: Any
    prog: str | None
    opts: frozenset[str]
    pos_re: Any
    tokens: tuple[str, ...]

    @classmethod
    def build(cls, rule: CommandRule) -> CompiledRule:
        pat = " ".join(rule.pattern.split())
        pipe_only = False
        if pat.startswith("| "):
            pipe_only, pat = True, pat[2:].strip()
        tokens = tuple(pat.split(" "))
        if pat == "*":
            return cls(rule, "all", pipe_only, "", None, None, None, frozenset(), None, tokens)
        if " " not in pat and "*" not in pat:
            return cls(rule, "program", pipe_only, pat, None, None, None, frozenset(), None, tokens)
        prog: str | None = None
        opts: frozenset[str] = frozenset()
        pos_re = None
        first = tokens[0]
        if not any(c in first for c in "*?"):
            prog = posixpath.basename(first).lower()
            o, p = _split_opts(tokens[1:], prog)
            opts = frozenset(o)
            pos_re = _glob_regex(" ".join(p), icase=True)
        return cls(
            rule,
            "glob",
            pipe_only,
            "",
            _glob_regex(pat, icase=False),
            _glob_regex(pat, icase=True),
            prog,
            opts,
            pos_re,
            tokens,
        )

    def candidate_keys(self) -> tuple[str, ...] | None:
        """Lower-cased program names this rule can match, or ``None`` when it may match any program."""
        if self.kind == "all":
            return None
        if self.kind == "program":
            return (posixpath.basename(self.word).lower(),)
        if self.prog is not None and not any(c in self.tokens[0] for c in " \t"):
            return (self.prog,)
        return None

    def matches(self, part: Part) -> bool:
        if self.pipe_only and not part.piped_input:
            return False
        allow = self.rule.action == "allow"
        if self.kind == "all":
            return True
        if self.kind == "program":
            if allow:
                return part.program == self.word
            return part.base.lower() == posixpath.basename(self.word).lower()
        if allow:
            return bool(self.allow_re.search(part.text(part.program)))
        if self.broad_re.search(part.text(part.base)):
            return True
        if self.prog is not None and self.prog == part.base.lower():
            o, p = _split_opts((w.text for w in part.args), part.base.lower())
            if self.opts <= o and self.pos_re.search(" ".join(p)):
                return True
        return False

    def covers(self, feature: Feature) -> bool:
        if feature.token == "|":  # noqa: S105 - an allowance token, not a secret
            return self.pipe_only
        if feature.token.endswith(" "):  # a program that runs another command: the rule must name it
            return self.tokens[0] == feature.token[:-1]
        if feature.token.startswith(("-", "+")):
            return any(t == feature.token or t.startswith(feature.token + "=") for t in self.tokens)
        return feature.token in self.rule.pattern


DEFAULT_RULES: tuple[CommandRule, ...] = (
    CommandRule(pattern="rm -rf *", action="block", reason="Recursive forced deletion is blocked"),
    CommandRule(pattern="rm -r *", action="block", reason="Recursive deletion is blocked"),
    *(
        CommandRule(pattern=p, action="block", reason="Destructive disk or system operation is blocked")
        for p in (
            "mkfs",
            "mkfs.ext4",
            "dd",
            "shred",
            "wipefs",
            "fdisk",
            "parted",
            "shutdown",
            "reboot",
            "halt",
            "poweroff",
            "init",
            "kill",
            "killall",
            "pkill",
            "crontab",
            "chown",
            "chmod",
            "iptables",
            "useradd",
            "usermod",
            "passwd",
            "mount",
            "umount",
            "systemctl",
            "launchctl",
        )
    ),
    *(
        CommandRule(pattern=p, action="block", reason="Network transfer tools are blocked (possible exfiltration)")
        for p in (
            "curl",
            "wget",
            "nc",
            "ncat",
            "netcat",
            "socat",
            "telnet",
            "ssh",
            "scp",
            "sftp",
            "rsync",
            "ftp",
            "tftp",
            "nmap",
            "aria2c",
            "httpie",
            "http",
            "xh",
        )
    ),
    *(
        CommandRule(pattern=p, action="block", reason="Privilege escalation is blocked")
        for p in ("sudo", "su", "doas", "pkexec", "chroot", "setcap")
    ),
    *(
        CommandRule(pattern=p, action="allow", reason="Read-only command")
        for p in (
            "ls",
            "cd",
            "pwd",
            "echo",
            "cat",
            "head",
            "tail",
            "wc",
            "grep",
            "rg",
            "find",
            "which",
            "whoami",
            "date",
            "uname",
            "sort",
            "uniq",
            "cut",
            "tr",
            "diff",
            "stat",
            "file",
            "du",
            "df",
            "tree",
            "true",
            "false",
            "test",
            "basename",
            "dirname",
            "realpath",
            "sha256sum",
            "md5sum",
            "less",
            "sed",
            "awk",
            "jq",
        )
    ),
    *(
        CommandRule(pattern=f"git {sub}*", action="allow", reason="Read-only git command")
        for sub in ("status", "log", "diff", "show", "rev-parse", "ls-files", "blame")
    ),
    *(
        CommandRule(pattern=p, action="allow", reason="Read-only git command")
        for p in (
            "git branch",
            "git branch -a*",
            "git branch -r*",
            "git branch -v*",
            "git branch -l*",
            "git branch --list*",
            "git branch --show-current",
            "git branch --contains*",
            "git branch --merged*",
        )
    ),
    *(
        CommandRule(pattern=f"npm {sub}*", action="allow", reason="Read-only npm command")
        for sub in ("ls", "view", "outdated", "explain", "why")
    ),
)
"""The conservative built-in rules used when no ``[supply_chain]`` section configures the governor:
destructive, network and privilege commands are blocked, a short list of read-only commands is
allowed (their executing or writing options are not), and everything else requires approval."""
