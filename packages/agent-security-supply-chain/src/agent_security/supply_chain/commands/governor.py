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
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any, Literal

from agent_security.supply_chain._speedups.verdicts import Verdicts
from agent_security.supply_chain.commands.model import (
    _RANK,
    _RISKY_ENV,
    CommandAction,
    CommandCheckResult,
    CommandRule,
    Feature,
    Part,
    PartVerdict,
    _trusted_name,
    _write_target,
)
from agent_security.supply_chain.commands.options import dangerous_options, search_patterns
from agent_security.supply_chain.commands.paths import changed_directory, word_hits
from agent_security.supply_chain.commands.rules import CompiledRule
from agent_security.supply_chain.commands.shell import parse_command_line
from agent_security.supply_chain.commands.words import MAX_DEPTH, ShellParseError, SimpleCommand, Word
from agent_security.supply_chain.commands.wrappers import (
    _COMMAND_RUNNERS,
    _EVALUATING_BUILTINS,
    _STDIN_PATHS,
    _TRANSPARENT,
    _WRAPPER_ARG_OPTS,
    _c_script,
    _has_c_option,
    _option_value,
    _skip_options,
    _split_find_exec,
    _stored_code,
)
from agent_security.supply_chain.patterns import SHELLS, is_interpreter

__all__ = ["CommandGovernor"]

_CWD: ContextVar[str | None] = ContextVar("agent_security_governor_cwd", default=None)
"""The directory a command line has moved to with ``cd`` so far, while one check runs (``None``: unknown)."""


class CommandGovernor:
    """Decide ``allow``, ``block`` or ``require_approval`` for a shell command line. Thread-safe."""

    def __init__(
        self,
        rules: Iterable[CommandRule | Mapping[str, Any]] = (),
        default_action: CommandAction = "block",
        unparseable_action: Literal["block", "require_approval"] = "block",
    ) -> None:
        self._lock = threading.Lock()
        self._compiled: tuple[CompiledRule, ...] = ()
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
            CompiledRule.build(r if isinstance(r, CommandRule) else CommandRule.model_validate(r)) for r in rules
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
            self._candidates_cache: dict[tuple[str, str], tuple[CompiledRule, ...]] = {}
            self._verdicts: Verdicts[CommandCheckResult] = Verdicts()
            self.default_action = default_action
            self.unparseable_action = unparseable_action

    # ---- public ----------------------------------------------------------------------------------
    def _candidates(
        self,
        compiled: tuple[CompiledRule, ...],
        index: tuple[dict[str, list[int]], tuple[int, ...]],
        cache: dict[tuple[str, str], tuple[CompiledRule, ...]],
        part: Part,
    ) -> tuple[CompiledRule, ...]:
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
            index, cache, verdicts = self._index, self._candidates_cache, self._verdicts
        if not isinstance(command, str):
            return CommandCheckResult(
                unparseable, f"command must be a string, not {type(command).__name__}", parsed=False
            )
        line = command.strip()
        if not line:
            return CommandCheckResult(unparseable, "empty command", parsed=False)
        return verdicts.verdict(line, lambda: self._decide(line, compiled, default, unparseable, index, cache))

    def _decide(
        self,
        line: str,
        compiled: tuple[CompiledRule, ...],
        default: CommandAction,
        unparseable: Literal["block", "require_approval"],
        index: tuple[dict[str, list[int]], tuple[int, ...]],
        cache: dict[tuple[str, str], tuple[CompiledRule, ...]],
    ) -> CommandCheckResult:
        token = _CWD.set(None)  # per check (thread- and task-local): `cd` earlier in the line moves it
        try:
            parts = self._parts(parse_command_line(line), 0)
        except ShellParseError as exc:
            return CommandCheckResult(unparseable, f"Cannot parse the command confidently: {exc}", parsed=False)
        except RecursionError:
            return CommandCheckResult(
                unparseable, "Cannot parse the command confidently: nesting too deep", parsed=False
            )
        finally:
            _CWD.reset(token)
        if not parts:
            # only plain variable assignments (risky ones such as PATH= become parts of their own)
            return CommandCheckResult("allow", "Only sets shell variables")
        verdicts = tuple(self._check_part(p, self._candidates(compiled, index, cache, p), default) for p in parts)
        # the most restrictive part decides; among equals, one decided by a rule explains best
        worst = max(verdicts, key=lambda v: (_RANK[v.action], v.matched_rule is not None))
        return CommandCheckResult(worst.action, worst.reason, worst.matched_rule, verdicts)

    # ---- parts -----------------------------------------------------------------------------------
    def _nested(self, line: str, depth: int, origin: str) -> list[Part]:
        """The parts of a command line run by a wrapper at ``depth`` (``su -c``, ``bash -c``, heredocs...)."""
        return self._parts(parse_command_line(line, depth=depth + 1, origin=origin), depth + 1)

    def _parts(self, cmds: list[SimpleCommand], depth: int) -> list[Part]:
        if depth > MAX_DEPTH:
            raise ShellParseError(f"wrappers nested deeper than {MAX_DEPTH} levels")
        out: list[Part] = []
        for cmd in cmds:
            out.extend(self._unwrap(cmd, depth))
            if len(out) > 512:
                raise ShellParseError("too many commands")
        return out

    def _unwrap(self, cmd: SimpleCommand, depth: int) -> list[Part]:
        out: list[Part] = []
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
                    Part(
                        "(assignment)",
                        "(assignment)",
                        [],
                        cmd.redirects,
                        cmd.piped_input,
                        origin,
                        [Feature(f"sets {n}", f"{n}=") for n in risky_assign],
                    )
                )
            elif any(_write_target(r) for r in cmd.redirects):
                out.append(self._make_part("(redirection)", [], cmd, origin, []))
            return out
        extra: list[Feature] = [Feature(f"sets {n}", f"{n}=") for n in risky_assign]
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
                            extra.append(Feature(f"sets {n}", f"{n}="))
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
                            [*extra, Feature("prints the environment (secrets)", "env")],
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
                    feats.append(Feature("pipe into a shell", "|"))
                elif not non_opts and any(r.op == "<" for r in cmd.redirects):
                    feats.append(Feature("shell reads a script from a file", "<"))
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

    def _make_part(self, name: str, args: list[Word], cmd: SimpleCommand, origin: str, extra: list[Feature]) -> Part:
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
        cwd = _CWD.get()
        if base in ("cd", "pushd"):
            # later parts of the line run there (a subshell's `cd` is followed too: judged more strictly)
            _CWD.set(changed_directory([w.text if not w.dynamic else "$" for w in args], cwd))
        part = Part(program, base, list(args), list(cmd.redirects), cmd.piped_input, origin, list(extra))
        feats = part.features
        for r in cmd.redirects:
            tgt = r.target.text
            if tgt.startswith(("/dev/tcp/", "/dev/udp/")):
                kind = tgt[5:8]
                feats.append(Feature(f"network redirection /dev/{kind}", f"/dev/{kind}"))
                continue
            if _write_target(r):
                feats.append(Feature(f"write redirection to {tgt[:60]}", ">"))
            if r.target.substitution or (r.target.dynamic and r.op not in ("<<", "<<-")):
                feats.append(Feature("redirection target built at run time", "$"))
            if r.op not in ("<<", "<<-", "<<<"):
                for hit in word_hits(tgt, glob=r.target.glob, dynamic=r.target.dynamic, cwd=cwd):
                    feats.append(Feature(f"sensitive path {hit}", hit))
        if base in _COMMAND_RUNNERS:
            # not unwrapped (their options differ too much): never a silent allow
            feats.append(Feature(f"{base} runs another command", f"{base} "))
        reads_stdin_code = not any(not a.text.startswith("-") and a.text not in _STDIN_PATHS for a in args)
        if is_interpreter(base) and reads_stdin_code:
            if cmd.piped_input:
                feats.append(Feature(f"pipe into interpreter {base}", "|"))
            elif any(r.op in ("<", "<<", "<<-", "<<<") for r in cmd.redirects):
                feats.append(Feature(f"interpreter {base} reads code from a redirection", "<"))
        if any(w.dynamic or w.substitution for w in args):
            feats.append(Feature("argument built at run time (substitution, variable or xargs input)", "$"))
        patterns = search_patterns(base, args)
        for i, w in enumerate(args):
            if i in patterns:
                continue  # a search pattern that names a sensitive file reads nothing
            for hit in word_hits(w.text, glob=w.glob, dynamic=w.dynamic, cwd=cwd):
                feats.append(Feature(f"sensitive path {hit}", hit))
        for opt in dangerous_options(part):
            if opt.startswith(("-", "+")):
                token = opt.split(" ", 1)[0]  # the option: a pattern covers it by naming it
            elif opt.startswith(base + " "):
                token = " ".join(opt.split(" ")[:2])  # "npm test", "git config": named in the pattern
            else:
                token = opt
            feats.append(Feature(opt if opt.startswith(base + " ") else f"{base} {opt}", token))
        # dedupe by label
        seen: set[str] = set()
        part.features = [f for f in feats if not (f.label in seen or seen.add(f.label))]  # type: ignore[func-returns-value]
        return part

    # ---- decision --------------------------------------------------------------------------------
    @staticmethod
    def _check_part(part: Part, compiled: tuple[CompiledRule, ...], default: CommandAction) -> PartVerdict:
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
