"""Programs that run other commands: wrappers the governor unwraps (``sudo``, ``env``, ``timeout``, ``xargs``,
``sh -c``, ``find -exec``...), builtins that evaluate their arguments, and runners it does not unwrap."""

from __future__ import annotations

from agent_security.supply_chain.commands.words import ShellParseError, Word

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
