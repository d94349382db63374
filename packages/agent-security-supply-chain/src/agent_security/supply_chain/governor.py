"""``CommandGovernor``: allow, block or require approval for the shell commands an agent wants to run.

Rule patterns keep the original's meaning:

* ``"*"`` matches every command;
* a bare word (no space, no ``*``) matches the **program name** (``"curl"``);
* anything else is a glob over the command (``"git *"``, ``"npm install *"``), ``*`` matching any run of
  characters and ``?`` one character.

What changed is what the pattern is matched *against*. The command line is parsed as a shell would parse
it (:mod:`agent_security.supply_chain.shell`) into every simple command it would run, wrappers are
unwrapped (``sudo``, ``env``, ``nohup``, ``timeout``, ``xargs``, ``sh -c``, ``eval``, ``find -exec``,
heredocs fed to a shell, ...), and the line is allowed only if **every part** is allowed on its own. The
most restrictive part decides (block over require_approval over allow).

Block and require-approval rules match broadly: the program's base name whatever its path or letter case,
and, for a glob such as ``"rm -rf *"``, the same options in any order or grouping (``rm -fr /``,
``rm -r -f /``, ``rm --recursive --force /``). Allow rules match narrowly: the program name only after a
trusted-directory path is stripped (``/usr/bin/curl`` is ``curl``; ``./git`` and ``git2`` are not
``git``), case-sensitive, and an allow rule does **not** cover a part that has any of these unless its
pattern names them explicitly:

====================================  ===============================================================
feature                               how a pattern covers it
====================================  ===============================================================
write redirection (``>``, ``>>``,     the pattern contains ``>`` (``"echo * > /tmp/*"``)
``&>``, ``>|``, ``<>``)
``/dev/tcp`` / ``/dev/udp``           the pattern contains ``/dev/tcp`` (or ``/dev/udp``)
pipe into a shell or interpreter      the pattern starts with ``| `` (``"| python3 -m json.tool"``)
substitution / variable / xargs       the pattern contains ``$``
input (value unknown at check time)
an option that executes or writes     the pattern contains that option (``"sed -i *"``,
(``find -exec``, ``sed -i``, ...)     ``"find * -delete"``)
a sensitive path (``~/.ssh``, .env)   the pattern contains that path fragment (``"cat .env"``)
risky assignment (``PATH=``,          the pattern contains ``NAME=``
``LD_PRELOAD=``, ``GIT_*=``, ...)
====================================  ===============================================================

Such a part falls through to the next rules and then to the default action; with ``default_action
"allow"`` an uncovered feature yields ``require_approval``, never a silent allow. A line the parser cannot
parse confidently gets ``unparseable_action`` (``"block"`` by default) with the parser's reason.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import re2
from pydantic import BaseModel, ConfigDict, Field

from agent_security.supply_chain.patterns import SHELLS, is_interpreter, sensitive_path_hits
from agent_security.supply_chain.shell import (
    MAX_DEPTH,
    Redirect,
    ShellParseError,
    SimpleCommand,
    Word,
    parse_command_line,
)

__all__ = [
    "DEFAULT_RULES",
    "CommandAction",
    "CommandCheckResult",
    "CommandGovernor",
    "CommandRule",
    "PartVerdict",
]

CommandAction = Literal["allow", "block", "require_approval"]
_RANK = {"allow": 0, "require_approval": 1, "block": 2}

TRUSTED_DIRS = frozenset(
    {"/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin"}
)
"""Directories whose programs are known by their base name (``/usr/bin/curl`` is ``curl``)."""

_SAFE_DEVICES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty"})
_RISKY_ENV = re2.compile(
    r"^(?:PATH|LD_[A-Z_]+|DYLD_[A-Z_]+|PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|PERL5LIB|PERL5OPT|RUBYLIB|RUBYOPT|"
    r"NODE_OPTIONS|NODE_PATH|BASH_ENV|ENV|IFS|PS4|PROMPT_COMMAND|SHELLOPTS|BASHOPTS|GIT_[A-Z_]+|PAGER|"
    r"MANPAGER|GIT_PAGER|LESSOPEN|LESSCLOSE|EDITOR|VISUAL|SSH_ASKPASS|SUDO_ASKPASS|HOME|XDG_CONFIG_HOME|"
    r"http_proxy|https_proxy|HTTP_PROXY|HTTPS_PROXY|ALL_PROXY|all_proxy|TMPDIR|BROWSER|JAVA_TOOL_OPTIONS|"
    r"_JAVA_OPTIONS|npm_config_[a-z_]+|NPM_CONFIG_[A-Z_]+|PIP_[A-Z_]+)$"
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
class _Feature:
    label: str
    token: str
    """What an allow rule's pattern must contain to cover the feature."""


@dataclass
class _Part:
    program: str
    """Name used by allow rules (trusted path stripped; otherwise as written)."""
    base: str
    """Base name used by block and approval rules (any path stripped)."""
    args: list[Word]
    redirects: list[Redirect]
    piped_input: bool
    origin: str
    features: list[_Feature] = field(default_factory=list)

    def text(self, name: str) -> str:
        items = [name, *(w.text for w in self.args)]
        for r in self.redirects:
            if r.op in ("<<", "<<-"):
                items.append(f"{r.op} heredoc")
            else:
                items.append(f"{r.fd}{r.op} {r.target.text}")
        return " ".join(items)


# ------------------------------------------------------------------------------------------------
# Options that execute code or write, per program. A rule written for the read-only form of a program
# (``"find *"``, ``"git *"``, ``"sed *"``) does not cover them.
# ------------------------------------------------------------------------------------------------

_EXEC_LONG: dict[str, tuple[str, ...]] = {
    "find": ("-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"),
    "git": (
        "-c",
        "--config-env",
        "--exec-path",
        "--upload-pack",
        "--receive-pack",
        "-u",
        "--ext-diff",
        "--output",
        "-O",
        "--open-files-in-pager",
        "--extcmd",
        "-x",
        "--exec",
        "--paginate",
        "--template",
        "-C",
        "--git-dir",
        "--work-tree",
        "--textconv",
        "--config",
    ),
    "tar": (
        "--to-command",
        "--checkpoint-action",
        "--use-compress-program",
        "-I",
        "--rsh-command",
        "--info-script",
        "-F",
        "--new-volume-script",
        "--extract",
        "--get",
        "--overwrite",
        "--unlink-first",
    ),
    "rsync": ("-e", "--rsh", "--rsync-path"),
    "ssh": ("-o", "-F", "-L", "-R", "-D", "-w"),
    "scp": ("-o", "-F", "-S"),
    "zip": ("-T", "-TT", "--unzip-command", "--test"),
    "sort": ("-o", "--output", "--compress-program"),
    "man": ("-P", "--pager", "-H", "--html"),
    "less": ("-o", "--log-file", "-O", "--LOG-FILE"),
    "more": (),
    "curl": (
        "-o",
        "--output",
        "-O",
        "--remote-name",
        "--remote-name-all",
        "-K",
        "--config",
        "-T",
        "--upload-file",
        "--output-dir",
        "-D",
        "--dump-header",
        "-c",
        "--cookie-jar",
        "--trace",
        "--trace-ascii",
        "--libcurl",
        "--create-dirs",
    ),
    "wget": (
        "-O",
        "--output-document",
        "-o",
        "--output-file",
        "-P",
        "--directory-prefix",
        "--post-file",
        "--body-file",
        "-e",
        "--execute",
        "-i",
        "--input-file",
        "-x",
    ),
    "python": ("-c", "-m"),
    "python3": ("-c", "-m"),
    "perl": ("-e", "-E", "-i", "-n", "-p"),
    "ruby": ("-e", "-i"),
    "node": ("-e", "--eval", "-p", "--print", "-r", "--require"),
    "php": ("-r",),
    "npm": ("exec", "x", "--script-shell"),
    "npx": ("-c", "--call"),
    "make": ("-f", "--file", "--eval", "-E", "SHELL="),
    "tee": (),
    "xxd": ("-r",),
    "docker": ("run", "exec", "-v", "--volume", "--privileged", "--mount"),
    "kubectl": ("exec", "run", "apply", "delete", "cp", "edit", "patch", "replace"),
    "systemctl": ("start", "stop", "restart", "enable", "disable", "edit", "mask", "kill"),
    "dd": ("of=",),
    "openssl": ("-out", "s_client", "enc"),
    "gzip": ("-f",),
    "unzip": ("-o",),
    "chmod": ("+s", "u+s", "g+s"),
    "vim": ("-c", "+", "--cmd"),
    "vi": ("-c", "+", "--cmd"),
    "nvim": ("-c", "+", "--cmd"),
    "sed": ("--in-place",),
    "rg": ("--pre", "--pre-glob", "--search-zip", "-z"),
    "tree": ("-o",),
    "file": ("-C", "--compile"),
    "ed": (),
    "diff": ("--output",),
    "date": ("-s", "--set"),
    "hostname": (),
}
"""Options (exact token, or ``--opt=`` prefix) that execute or write."""

_EXEC_SHORT: dict[str, str] = {
    "sed": "i",
    "tar": "xFI",
    "perl": "eEinp",
    "ruby": "ei",
    "sort": "o",
    "curl": "oOKT",
    "wget": "OPei",
    "unzip": "o",
    "python": "c",
    "python3": "c",
    "ssh": "oFLRDw",
    "scp": "oFS",
    "gzip": "f",
    "less": "oO",
    "xxd": "r",
}
"""Single-letter options (also inside a cluster such as ``-ni``) that execute or write."""


def _sed_dangerous(args: Sequence[Word]) -> list[str]:
    found: list[str] = []
    scripts: list[str] = []
    take_next = False
    positional = 0
    for w in args:
        t = w.text
        if take_next:
            scripts.append(t)
            take_next = False
            continue
        if t in ("-e", "--expression"):
            take_next = True
            continue
        if t.startswith("--expression="):
            scripts.append(t.split("=", 1)[1])
            continue
        if t in ("-f", "--file") or t.startswith("--file="):
            found.append("-f (script file)")
            continue
        if t.startswith("-") and len(t) > 1:
            continue
        positional += 1
        if positional == 1 and not any(a.text in ("-e", "--expression") for a in args):
            scripts.append(t)
    for s in scripts:
        # 'e' command / 's///e' flag execute; 'w', 'W', 'r', 'R' commands / 's///w' read or write files
        if re2.search(
            r"(?:^|[;{}\n])\s*(?:\d+(?:~\d+)?|\$|/[^/]*/[IM]*|\\[^\w\s][^;\n]*)?"
            r"(?:\s*,\s*(?:\d+|\$|/[^/]*/[IM]*|[+~]\d+|\\[^\w\s][^;\n]*))?\s*!?\s*[ewWrR]",
            s,
        ) or re2.search(r"s/[^/]*/[^/]*/[gpIiMm0-9]*[ewW]", s):
            found.append("sed script runs commands or writes files")
            break
    return found


def _awk_dangerous(args: Sequence[Word]) -> list[str]:
    skip = False
    for w in args:
        t = w.text
        if skip:  # the value of -v / -F
            skip = False
            continue
        if t in ("-v", "--assign", "-F", "--field-separator"):
            skip = True
            continue
        if t in ("-f", "--file", "-i", "--include", "-l", "--load", "-E", "--exec") or t.startswith("-f"):
            return [f"{t} (program from a file)"]
        if t.startswith("-"):
            continue
        if re2.search(r"system\s*\(|\|\s*&?\s*getline|print[f]?[^;}]*(?:>|\|)|@load|ENVIRON|close\s*\(", t):
            return ["awk program runs commands, writes files or reads the environment"]
        return []
    return []


def _option_prefixes(opt: str) -> tuple[str, ...]:
    if opt.startswith("--"):
        return (opt + "=",)
    if opt.endswith("="):
        return (opt,)
    if len(opt) == 2 and opt[0] == "-":
        return (opt,)  # a short option with its value attached: -O'sh -c id', -ccore.pager=x
    return ()


_EXEC_SPEC: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    prog: (frozenset(opts), tuple(p for o in opts for p in _option_prefixes(o))) for prog, opts in _EXEC_LONG.items()
}


def _dangerous_options(part: _Part) -> list[str]:
    name = part.program if part.program == part.base else part.base
    stem = name.rstrip("0123456789.") if name.startswith(("python", "perl", "ruby")) else name
    found: list[str] = []
    args = part.args
    longs = _EXEC_LONG.get(name) or _EXEC_LONG.get(stem) or ()
    exact, prefixes = _EXEC_SPEC.get(name) or _EXEC_SPEC.get(stem) or (frozenset(), ())
    shorts = _EXEC_SHORT.get(name) or _EXEC_SHORT.get(stem) or ""
    for i, w in enumerate(args):
        t = w.text
        if t.startswith("--") and len(t) > 2:
            # GNU getopt_long accepts any unambiguous abbreviation: sed --in-pl, sort --compress-prog=sh
            given = t.split("=", 1)[0]
            for opt in longs:
                if opt.startswith("--") and opt != given and opt.startswith(given):
                    found.append(opt)
        if t in exact or (prefixes and t.startswith(prefixes)):
            for opt in longs:
                if t == opt or any(t.startswith(p) for p in _option_prefixes(opt)):
                    found.append(opt)
        if shorts and t.startswith("-") and not t.startswith("--") and len(t) > 1:
            for ch in t[1:]:
                if ch in shorts:
                    found.append(f"-{ch}")
        if name == "tar" and i == 0 and not t.startswith("-") and shorts:  # old-style 'tar xzf'
            for ch in t:
                if ch in shorts:
                    found.append(f"-{ch}")
        if name in ("less", "more", "vim", "vi", "nvim", "view") and t.startswith("+"):
            found.append("+command")
    if name == "uniq" and len([w for w in args if not w.text.startswith("-")]) >= 2:
        found.append("output file")
    if name == "sed":
        found += _sed_dangerous(args)
    if name in ("awk", "gawk", "mawk", "nawk", "busybox awk"):
        found += _awk_dangerous(args)
    if (
        name == "git"
        and any(a.text == "config" for a in args)
        and not any(a.text in ("--get", "--list", "-l", "--get-all", "--get-regexp") for a in args)
    ):
        found.append("git config (writes configuration that later runs commands)")
    if name == "git" and any(a.text in ("filter-branch", "bisect") for a in args):
        found.append("git filter-branch/bisect run")
    if name == "git" and "submodule" in (a.text for a in args) and "foreach" in (a.text for a in args):
        found.append("git submodule foreach")
    # dedupe, keep order
    return list(dict.fromkeys(found))


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
class _CompiledRule:
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
    def build(cls, rule: CommandRule) -> _CompiledRule:
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

    def matches(self, part: _Part) -> bool:
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

    def covers(self, feature: _Feature) -> bool:
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
        for sub in ("status", "log", "diff", "show", "branch", "rev-parse", "ls-files", "blame")
    ),
)
"""The conservative built-in rules used when no ``[supply_chain]`` section configures the governor:
destructive, network and privilege commands are blocked, a short list of read-only commands is
allowed (their executing or writing options are not), and everything else requires approval."""


class CommandGovernor:
    """Decide ``allow``, ``block`` or ``require_approval`` for a shell command line. Thread-safe."""

    def __init__(
        self,
        rules: Iterable[CommandRule | Mapping[str, Any]] = (),
        default_action: CommandAction = "block",
        unparseable_action: Literal["block", "require_approval"] = "block",
    ) -> None:
        self._lock = threading.Lock()
        self._compiled: tuple[_CompiledRule, ...] = ()
        self.default_action: CommandAction = "block"
        self.unparseable_action: Literal["block", "require_approval"] = "block"
        self.update_config(rules, default_action, unparseable_action)

    @property
    def rules(self) -> tuple[CommandRule, ...]:
        return tuple(c.rule for c in self._compiled)

    def update_config(
        self,
        rules: Iterable[CommandRule | Mapping[str, Any]],
        default_action: CommandAction = "block",
        unparseable_action: Literal["block", "require_approval"] = "block",
    ) -> None:
        """Replace the rules atomically (a check in flight sees either the old or the new set)."""
        if default_action not in _RANK:
            raise ValueError(f"default_action must be allow, block or require_approval, not {default_action!r}")
        if unparseable_action not in ("block", "require_approval"):
            raise ValueError("unparseable_action must be block or require_approval")
        built = tuple(
            _CompiledRule.build(r if isinstance(r, CommandRule) else CommandRule.model_validate(r)) for r in rules
        )
        index: dict[str, list[int]] = {}
        wild: list[int] = []
        for i, c in enumerate(built):
            keys = c.candidate_keys()
            if keys is None:
                wild.append(i)
            else:
                for k in keys:
                    index.setdefault(k, []).append(i)
        with self._lock:
            self._compiled = built
            self._index = (index, tuple(wild))
            self._candidates_cache: dict[tuple[str, str], tuple[_CompiledRule, ...]] = {}
            self.default_action = default_action
            self.unparseable_action = unparseable_action

    # ---- public ----------------------------------------------------------------------------------
    def _candidates(
        self,
        compiled: tuple[_CompiledRule, ...],
        index: tuple[dict[str, list[int]], tuple[int, ...]],
        cache: dict[tuple[str, str], tuple[_CompiledRule, ...]],
        part: _Part,
    ) -> tuple[_CompiledRule, ...]:
        """The rules that can match ``part``, in rule order (first match still wins)."""
        key = (part.program, part.base)
        hit = cache.get(key)
        if hit is not None:
            return hit
        by_name, wild = index
        ids = set(wild)
        for name in {part.program.lower(), part.base.lower(), posixpath.basename(part.program).lower()}:
            ids.update(by_name.get(name, ()))
        result = tuple(compiled[i] for i in sorted(ids))
        if len(cache) > 4096:
            cache.clear()
        cache[key] = result
        return result

    def check(self, command: object) -> CommandCheckResult:
        with self._lock:
            compiled, default, unparseable = self._compiled, self.default_action, self.unparseable_action
            index, cache = self._index, self._candidates_cache
        if not isinstance(command, str):
            return CommandCheckResult(
                unparseable, f"command must be a string, not {type(command).__name__}", parsed=False
            )
        line = command.strip()
        if not line:
            return CommandCheckResult(unparseable, "empty command", parsed=False)
        try:
            parts = self._parts(parse_command_line(line), 0)
        except ShellParseError as exc:
            return CommandCheckResult(unparseable, f"Cannot parse the command confidently: {exc}", parsed=False)
        except RecursionError:
            return CommandCheckResult(
                unparseable, "Cannot parse the command confidently: nesting too deep", parsed=False
            )
        if not parts:
            # only plain variable assignments (risky ones such as PATH= become parts of their own)
            return CommandCheckResult("allow", "Only sets shell variables")
        verdicts = tuple(self._check_part(p, self._candidates(compiled, index, cache, p), default) for p in parts)
        # the most restrictive part decides; among equals, one decided by a rule explains best
        worst = max(verdicts, key=lambda v: (_RANK[v.action], v.matched_rule is not None))
        return CommandCheckResult(worst.action, worst.reason, worst.matched_rule, verdicts)

    # ---- parts -----------------------------------------------------------------------------------
    def _nested(self, line: str, depth: int, origin: str) -> list[_Part]:
        """The parts of a command line run by a wrapper at ``depth`` (``su -c``, ``bash -c``, heredocs...)."""
        return self._parts(parse_command_line(line, depth=depth + 1, origin=origin), depth + 1)

    def _parts(self, cmds: list[SimpleCommand], depth: int) -> list[_Part]:
        if depth > MAX_DEPTH:
            raise ShellParseError(f"wrappers nested deeper than {MAX_DEPTH} levels")
        out: list[_Part] = []
        for cmd in cmds:
            out.extend(self._unwrap(cmd, depth))
            if len(out) > 512:
                raise ShellParseError("too many commands")
        return out

    def _unwrap(self, cmd: SimpleCommand, depth: int) -> list[_Part]:
        out: list[_Part] = []
        risky_assign = [
            a.split("=", 1)[0].removesuffix("+")
            for a in cmd.assignments
            if _RISKY_ENV.search(a.split("=", 1)[0].removesuffix("+"))
        ]
        words = list(cmd.words)
        origin = cmd.origin
        if not words:
            if risky_assign:
                out.append(
                    _Part(
                        "(assignment)",
                        "(assignment)",
                        [],
                        cmd.redirects,
                        cmd.piped_input,
                        origin,
                        [_Feature(f"sets {n}", f"{n}=") for n in risky_assign],
                    )
                )
            elif any(_write_target(r) for r in cmd.redirects):
                out.append(self._make_part("(redirection)", [], cmd, origin, []))
            return out
        extra: list[_Feature] = [_Feature(f"sets {n}", f"{n}=") for n in risky_assign]
        while words:
            head = words[0]
            if head.dynamic or head.glob:
                raise ShellParseError("the program name is not known until the command runs")
            name = head.text
            trusted = _trusted_name(name)
            if trusted is None:
                # an untrusted path is never one of the wrappers below: check it as written
                out.append(self._make_part(name, words[1:], cmd, origin, extra))
                return out
            args = words[1:]
            if trusted in ("sudo", "doas", "chroot", "su", "pkexec", "runuser"):
                out.append(self._make_part(trusted, args, cmd, origin, extra))
                rest = _skip_options(args, _WRAPPER_ARG_OPTS.get(trusted, set()))
                if trusted == "chroot" and rest:
                    rest = rest[1:]
                if trusted == "su":
                    inner = _option_value(args, ("-c", "--command"))
                    if inner is not None:
                        out.extend(self._nested(inner.text, depth, "su -c"))
                    return out
                words, origin = rest, "wrapper"
                continue
            if trusted in ("env",):
                rest = []
                i = 0
                split_string: str | None = None
                while i < len(args):
                    t = args[i].text
                    if t in ("-u", "--unset", "-C", "--chdir"):
                        i += 2
                        continue
                    if t in ("-S", "--split-string") and i + 1 < len(args):
                        split_string = args[i + 1].text
                        i += 2
                        rest = args[i:]
                        break
                    if t.startswith("--split-string=") or (t.startswith("-S") and len(t) > 2):
                        split_string = t.split("=", 1)[1] if t.startswith("--") else t[2:]
                        rest = args[i + 1 :]
                        break
                    if t == "--":
                        rest = args[i + 1 :]
                        break
                    if t.startswith("-"):
                        i += 1
                        continue
                    if "=" in t and not t.startswith("="):
                        n = t.split("=", 1)[0]
                        if _RISKY_ENV.search(n):
                            extra.append(_Feature(f"sets {n}", f"{n}="))
                        i += 1
                        continue
                    rest = args[i:]
                    break
                if split_string is not None:
                    joined = " ".join([split_string, *(w.text for w in rest)])
                    out.extend(self._nested(joined, depth, "env -S"))
                    return out
                if not rest:
                    out.append(
                        self._make_part(
                            "env",
                            [],
                            cmd,
                            origin,
                            [*extra, _Feature("prints the environment (secrets)", "env")],
                        )
                    )
                    return out
                words, origin = rest, "wrapper"
                continue
            if trusted == "busybox" and args:
                words = args
                continue
            if trusted in _TRANSPARENT:
                if trusted == "command" and any(a.text in ("-v", "-V") for a in args):
                    out.append(self._make_part("command", args, cmd, origin, extra))
                    return out
                rest = _skip_options(args, _WRAPPER_ARG_OPTS.get(trusted, set()))
                if trusted == "timeout" and rest:
                    rest = rest[1:]  # the duration
                if trusted == "flock":
                    inner = _option_value(args, ("-c", "--command"))
                    if inner is not None:
                        out.extend(self._nested(inner.text, depth, "flock -c"))
                        return out
                    rest = rest[1:] if rest else rest
                if not rest:
                    out.append(self._make_part(trusted, args, cmd, origin, extra))
                    return out
                words, origin = rest, "wrapper"
                continue
            if trusted == "watch":
                rest = _skip_options(args, {"-n", "--interval", "-d", "--differences", "-q", "--equexit"})
                joined = " ".join(w.text for w in rest)
                if any(w.dynamic for w in rest):
                    raise ShellParseError("watch of a command built at run time")
                if joined.strip():
                    out.extend(self._nested(joined, depth, "watch"))
                return out
            if trusted == "xargs":
                rest = _skip_options(args, _WRAPPER_ARG_OPTS["xargs"])
                if not rest:
                    rest = [Word("echo")]
                stdin_word = Word("$XARGS_INPUT", dynamic=True)
                out.extend(
                    self._unwrap(
                        SimpleCommand(
                            words=[*rest, stdin_word],
                            redirects=[],
                            piped_input=False,
                            depth=depth + 1,
                            origin="xargs",
                        ),
                        depth + 1,
                    )
                )
                out.append(self._make_part("xargs", args, cmd, origin, extra))
                return out
            if trusted == "eval" or (trusted in SHELLS and _has_c_option(args)):
                if trusted == "eval":
                    label = "eval"
                    if any(w.dynamic for w in args):
                        raise ShellParseError("eval of a command built at run time")
                    script = " ".join(w.text for w in args)
                else:
                    label = f"{trusted} -c"
                    script_word = _c_script(args)[0]
                    if script_word.dynamic:
                        raise ShellParseError(f"{label} of a command built at run time")
                    script = script_word.text
                out.extend(self._nested(script, depth, label))
                # redirections written on the wrapper apply to the inner commands too
                if cmd.redirects:
                    out.append(self._make_part(trusted, [], cmd, origin, extra))
                return out
            if trusted in SHELLS:
                # `bash`, `sh -s`, `bash script.sh`, `bash <<EOF`, `... | sh`
                body = next(
                    (
                        r.heredoc_body if r.op in ("<<", "<<-") else r.target.text
                        for r in cmd.redirects
                        if r.op in ("<<", "<<-", "<<<")
                    ),
                    None,
                )
                non_opts = [w for w in args if not w.text.startswith(("-", "+")) and w.text not in _STDIN_PATHS]
                if body is not None and not non_opts:
                    red = next(r for r in cmd.redirects if r.op in ("<<", "<<-", "<<<"))
                    if red.op != "<<<" and red.heredoc_expands and ("$" in body or "`" in body):
                        raise ShellParseError("heredoc fed to a shell expands variables at run time")
                    if red.op == "<<<" and red.target.dynamic:
                        raise ShellParseError("here-string fed to a shell is built at run time")
                    out.extend(self._nested(body, depth, "heredoc"))
                    return out
                feats = list(extra)
                if cmd.piped_input and not non_opts:
                    feats.append(_Feature("pipe into a shell", "|"))
                elif not non_opts and any(r.op == "<" for r in cmd.redirects):
                    feats.append(_Feature("shell reads a script from a file", "<"))
                out.append(self._make_part(trusted, args, cmd, origin, feats))
                return out
            if trusted == "find":
                part_args, inner_cmds = _split_find_exec(args)
                out.append(self._make_part(trusted, args, cmd, origin, extra))
                for inner_words in inner_cmds:
                    out.extend(
                        self._unwrap(SimpleCommand(words=inner_words, depth=depth + 1, origin="exec-option"), depth + 1)
                    )
                del part_args
                return out
            out.append(self._make_part(trusted, args, cmd, origin, extra))
            # builtins that store code the shell runs later in the same line (a trap on EXIT, an alias)
            for code, label in _stored_code(trusted, args):
                out.extend(self._nested(code, depth, label))
            return out
        return out

    def _make_part(self, name: str, args: list[Word], cmd: SimpleCommand, origin: str, extra: list[_Feature]) -> _Part:
        base = posixpath.basename(name) if "/" in name else name
        if base in _EVALUATING_BUILTINS:
            for w in args:
                if not w.dynamic and ("$" in w.text or "`" in w.text):
                    # bash evaluates these arguments as variable names or arithmetic, expanding array
                    # subscripts again: `test -v 'a[$(id)]'` runs `id` although the quotes look inert
                    raise ShellParseError(
                        f"argument of {base!r} holds a substitution the shell would expand at run time"
                    )
        program = _trusted_name(name) or name
        part = _Part(program, base, list(args), list(cmd.redirects), cmd.piped_input, origin, list(extra))
        feats = part.features
        for r in cmd.redirects:
            tgt = r.target.text
            if tgt.startswith(("/dev/tcp/", "/dev/udp/")):
                kind = tgt[5:8]
                feats.append(_Feature(f"network redirection /dev/{kind}", f"/dev/{kind}"))
                continue
            if _write_target(r):
                feats.append(_Feature(f"write redirection to {tgt[:60]}", ">"))
            if r.target.substitution or (r.target.dynamic and r.op not in ("<<", "<<-")):
                feats.append(_Feature("redirection target built at run time", "$"))
            for hit in sensitive_path_hits(tgt, 2):
                feats.append(_Feature(f"sensitive path {hit}", hit))
        if base in _COMMAND_RUNNERS:
            # not unwrapped (their options differ too much): never a silent allow
            feats.append(_Feature(f"{base} runs another command", f"{base} "))
        reads_stdin_code = not any(not a.text.startswith("-") and a.text not in _STDIN_PATHS for a in args)
        if is_interpreter(base) and reads_stdin_code:
            if cmd.piped_input:
                feats.append(_Feature(f"pipe into interpreter {base}", "|"))
            elif any(r.op in ("<", "<<", "<<-", "<<<") for r in cmd.redirects):
                feats.append(_Feature(f"interpreter {base} reads code from a redirection", "<"))
        if any(w.dynamic or w.substitution for w in args):
            feats.append(_Feature("argument built at run time (substitution, variable or xargs input)", "$"))
        for w in args:
            for hit in sensitive_path_hits(w.text, 2):
                feats.append(_Feature(f"sensitive path {hit}", hit))
        for opt in _dangerous_options(part):
            token = opt.split(" ", 1)[0] if opt.startswith(("-", "+")) else opt
            feats.append(_Feature(f"{base} {opt}", token))
        # dedupe by label
        seen: set[str] = set()
        part.features = [f for f in feats if not (f.label in seen or seen.add(f.label))]  # type: ignore[func-returns-value]
        return part

    # ---- decision --------------------------------------------------------------------------------
    @staticmethod
    def _check_part(part: _Part, compiled: tuple[_CompiledRule, ...], default: CommandAction) -> PartVerdict:
        labels = tuple(f.label for f in part.features)
        uncovered_by: list[str] = []
        for c in compiled:
            if not c.matches(part):
                continue
            if c.rule.action == "allow":
                missing = [f.label for f in part.features if not c.covers(f)]
                if missing:
                    uncovered_by.append(f"rule {c.rule.pattern!r} does not cover: {'; '.join(missing[:3])}")
                    continue
                return PartVerdict(
                    part.program, part.origin, "allow", c.rule.reason or "Allowed by rule", c.rule, labels
                )
            default_reason = "Requires approval" if c.rule.action == "require_approval" else "Blocked by rule"
            return PartVerdict(
                part.program, part.origin, c.rule.action, c.rule.reason or default_reason, c.rule, labels
            )
        action = default
        if action == "allow" and part.features:
            action = "require_approval"
            reason = f"Default policy: allow, but needs approval for: {'; '.join(labels[:3])}"
        else:
            reason = f"Default policy: {default}"
            if uncovered_by:
                reason += f" ({uncovered_by[0]})"
        return PartVerdict(part.program, part.origin, action, reason, None, labels)


_TRANSPARENT = frozenset(
    {
        "nohup",
        "time",
        "command",
        "builtin",
        "exec",
        "nice",
        "ionice",
        "setsid",
        "stdbuf",
        "timeout",
        "unbuffer",
        "flock",
        "caffeinate",
        "catchsegv",
        "chronic",
        "ifne",
    }
)
_WRAPPER_ARG_OPTS: dict[str, set[str]] = {
    "sudo": {
        "-u",
        "--user",
        "-g",
        "--group",
        "-h",
        "--host",
        "-p",
        "--prompt",
        "-C",
        "--close-from",
        "-D",
        "--chdir",
        "-r",
        "--role",
        "-t",
        "--type",
        "-U",
        "--other-user",
        "-T",
        "--command-timeout",
    },
    "doas": {"-u", "-C"},
    "runuser": {"-u", "--user", "-g", "--group", "-c", "--command"},
    "pkexec": {"--user"},
    "su": {"-c", "--command", "-s", "--shell", "-g", "--group"},
    "chroot": {"--userspec", "--groups"},
    "exec": {"-a"},
    "nice": {"-n", "--adjustment"},
    "ionice": {"-c", "--class", "-n", "--classdata", "-t"},
    "stdbuf": {"-i", "-o", "-e"},
    "timeout": {"-s", "--signal", "-k", "--kill-after"},
    "flock": {"-w", "--timeout", "-E", "--conflict-exit-code"},
    "xargs": {
        "-I",
        "-i",
        "-n",
        "--max-args",
        "-P",
        "--max-procs",
        "-L",
        "--max-lines",
        "-d",
        "--delimiter",
        "-E",
        "-e",
        "-s",
        "--max-chars",
        "-a",
        "--arg-file",
        "--process-slot-var",
    },
}


_STDIN_PATHS = frozenset({"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})

_EVALUATING_BUILTINS = frozenset(
    {
        "test",
        "[",
        "let",
        "printf",
        "declare",
        "typeset",
        "local",
        "export",
        "readonly",
        "read",
        "unset",
        "mapfile",
        "readarray",
        "shift",
        "return",
        "exit",
        "break",
        "continue",
        "wait",
        "ulimit",
        "umask",
        "fc",
        "history",
        "getopts",
        "kill",
        "jobs",
        "disown",
        "pushd",
        "popd",
        "dirs",
        "source",
        ".",
        "trap",
        "alias",
        "complete",
        "compgen",
        "bind",
        "enable",
        "hash",
    }
)
"""Bash builtins that evaluate an argument as a variable name, an arithmetic expression or code: a quoted
``$(...)`` or backtick in their arguments is not inert (``test -v 'a[$(id)]'``, ``printf -v``,
``declare``, ``let``, ``read``; ``trap`` and ``alias`` store code that runs later)."""

_COMMAND_RUNNERS = frozenset(
    {
        "strace",
        "ltrace",
        "valgrind",
        "perf",
        "gdb",
        "lldb",
        "parallel",
        "unshare",
        "nsenter",
        "firejail",
        "bwrap",
        "proot",
        "fakeroot",
        "fakechroot",
        "systemd-run",
        "run0",
        "torsocks",
        "torify",
        "proxychains",
        "proxychains4",
        "tsocks",
        "rlwrap",
        "xvfb-run",
        "dbus-launch",
        "dbus-run-session",
        "ssh-agent",
        "sg",
        "newgrp",
        "tmux",
        "screen",
        "script",
        "at",
        "batch",
        "taskset",
        "chrt",
        "numactl",
        "cpulimit",
        "prlimit",
        "setpriv",
        "capsh",
        "chpst",
        "softlimit",
        "envdir",
        "setuidgid",
        "nocache",
        "faketime",
        "daemonize",
        "start-stop-daemon",
        "expect",
        "entr",
        "inotifywait",
        "direnv",
        "npx",
        "bunx",
        "pnpx",
        "uvx",
        "pipx",
        "dotenv",
        "with-contenv",
        "s6-setuidgid",
    }
)
"""Programs that run another command given in their arguments but are not unwrapped: a part of their own
with a feature, so ``default_action="allow"`` needs approval and an allow rule must name them."""

_SHELL_OPTS_WITH_VALUE = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})


def _skip_options(args: list[Word], with_value: set[str]) -> list[Word]:
    i = 0
    while i < len(args):
        t = args[i].text
        if t == "--":
            return args[i + 1 :]
        if not t.startswith("-") or t == "-":
            return args[i:]
        if t in with_value:
            i += 2
            continue
        i += 1
    return []


def _option_value(args: list[Word], names: tuple[str, ...]) -> Word | None:
    for i, w in enumerate(args):
        if w.text in names and i + 1 < len(args):
            return args[i + 1]
        for n in names:
            if n.startswith("--") and w.text.startswith(n + "="):
                return Word(w.text.split("=", 1)[1], dynamic=w.dynamic)
    return None


def _stored_code(name: str, args: list[Word]) -> list[tuple[str, str]]:
    """Code strings that ``trap`` and ``alias`` store for later: checked as command lines of their own.
    ``complete -C``, ``compgen -C``, ``bind -x`` and ``mapfile -C`` callbacks are not parsed: refused."""
    if name == "trap":
        rest = [w for w in args if w.text != "--"]
        if rest and rest[0].text.startswith("-") and rest[0].text != "-":
            return []  # trap -p / -l: list only
        if len(rest) >= 2 and rest[0].text not in ("", "-"):
            if rest[0].dynamic:
                raise ShellParseError("trap with a command built at run time")
            return [(rest[0].text, "trap")]
        return []
    if name == "alias":
        found: list[tuple[str, str]] = []
        for w in args:
            if "=" in w.text and not w.text.startswith("-"):
                if w.dynamic:
                    raise ShellParseError("alias with a value built at run time")
                found.append((w.text.split("=", 1)[1], "alias"))
        return found
    callback = {"complete": "-C", "compgen": "-C", "mapfile": "-C", "readarray": "-C", "bind": "-x"}.get(name)
    if callback and any(w.text == callback or (w.text.startswith(callback) and len(w.text) > 2) for w in args):
        raise ShellParseError(f"{name} {callback} stores a command to run later")
    return []


def _c_index(args: list[Word]) -> int | None:
    """Index of the shell option word holding ``-c``, skipping the values of ``-o``/``+O``/``--rcfile``...
    (``bash -o errexit -c 'rm -rf /'`` and ``bash -eo pipefail -c ...`` run the string)."""
    i = 0
    while i < len(args):
        t = args[i].text
        if t == "--" or t in ("-", "+") or not t.startswith(("-", "+")):
            return None
        if t in _SHELL_OPTS_WITH_VALUE:
            i += 2
            continue
        if t.startswith("--"):
            i += 1
            continue
        if t.startswith("-") and "c" in t[1:]:
            return i
        # a cluster such as -eo / +xO takes one value per o/O letter
        i += 1 + sum(1 for ch in t[1:] if ch in "oO")
    return None


def _has_c_option(args: list[Word]) -> bool:
    return _c_index(args) is not None


def _c_script(args: list[Word]) -> list[Word]:
    """The words after the ``-c`` option: the first one is the script."""
    i = _c_index(args)
    if i is None:
        raise ShellParseError("-c without a command string")
    rest = list(args[i + 1 :])
    # options may follow -c before the script (bash -c -e 'x' is unusual; treat the first
    # non-option word as the script)
    while rest and rest[0].text.startswith("-") and rest[0].text != "-":
        rest = rest[1:]
    if not rest:
        raise ShellParseError("-c without a command string")
    return rest


def _split_find_exec(args: list[Word]) -> tuple[list[Word], list[list[Word]]]:
    outer: list[Word] = []
    inners: list[list[Word]] = []
    i = 0
    while i < len(args):
        t = args[i].text
        if t in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            inner: list[Word] = []
            while j < len(args) and args[j].text not in (";", "+"):
                w = args[j]
                inner.append(Word("$FIND_PATH", dynamic=True) if w.text == "{}" else w)
                j += 1
            if j >= len(args):
                raise ShellParseError(f"find {t} without a terminating ';' or '+'")
            if not inner:
                raise ShellParseError(f"find {t} without a command")
            inners.append(inner)
            outer.append(args[i])
            i = j + 1
            continue
        outer.append(args[i])
        i += 1
    return outer, inners


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
    return tgt not in _SAFE_DEVICES and not tgt.startswith("/dev/fd/")
