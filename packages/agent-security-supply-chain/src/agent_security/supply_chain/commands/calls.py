"""The commands a tool call carries, whatever the tool is called.

A call is governed for what it does: every argument (at any depth, under any spelling or letter case of its
name) that holds a command line, a script, or code in a language a shell or interpreter runs. Code in an
interpreted language is checked as that interpreter running it inline (``python3 -c '<code>'``, ``node -e
'<code>'``), so an allow rule must name that form; code whose language is unknown or missing is checked as a
shell command line when the tool runs code (a shell-named tool, a ``shell``/``code_execute`` action, a tool
named ``run_*``/``exec*``/``eval*``...); code in a language nothing here runs (JSON, SQL, Markdown...) is
not a command.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent_security.supply_chain._speedups.calls import carries_no_command

__all__ = [
    "CODE_ARG_NAMES",
    "COMMAND_ARG_NAMES",
    "INTERPRETER_LANGUAGES",
    "SHELL_LANGUAGES",
    "Command",
    "arg_key",
    "commands_in_args",
    "language_of_tool",
    "runs_code",
]

MAX_DEPTH = 6
MAX_VALUES = 4096
"""Most argument values read in one call; past it the call counts as holding an unreadable command."""

COMMAND_ARG_NAMES = frozenset(
    {
        "command", "cmd", "commandline", "cmdline", "commandstring", "cmdstring", "shellcommand", "shellcmd",
        "bashcommand", "bash", "sh", "zsh", "shell", "script", "shellscript", "bashscript", "commands", "cmds",
        "terminalcommand", "runcommand", "exec", "execute", "argv",
    }
)  # fmt: skip
"""Argument names (lower-cased, separators removed: ``commandLine``, ``command_line``, ``Command-Line``
are all ``commandline``) whose string value is a shell command line (a list of strings: an argv)."""

CODE_ARG_NAMES = frozenset(
    {"code", "source", "sourcecode", "program", "snippet", "codesnippet", "expression", "inputcode"}
)
"""Argument names holding code whose language another argument (or the argument's own name) gives."""

LANGUAGE_ARG_NAMES = frozenset({"language", "lang", "interpreter", "kernel", "runtime", "languageid", "syntax", "kind"})

SHELL_LANGUAGES = frozenset(
    {"bash", "sh", "shell", "zsh", "dash", "ksh", "fish", "console", "terminal", "shellscript", "shellsession", "posix"}
)

INTERPRETER_LANGUAGES: dict[str, tuple[str, str]] = {
    "python": ("python3", "-c"),
    "python3": ("python3", "-c"),
    "py": ("python3", "-c"),
    "ipython": ("python3", "-c"),
    "javascript": ("node", "-e"),
    "js": ("node", "-e"),
    "node": ("node", "-e"),
    "nodejs": ("node", "-e"),
    "typescript": ("deno", "eval"),
    "ts": ("deno", "eval"),
    "deno": ("deno", "eval"),
    "bun": ("bun", "-e"),
    "ruby": ("ruby", "-e"),
    "rb": ("ruby", "-e"),
    "perl": ("perl", "-e"),
    "php": ("php", "-r"),
    "lua": ("lua", "-e"),
    "r": ("Rscript", "-e"),
    "powershell": ("pwsh", "-Command"),
    "pwsh": ("pwsh", "-Command"),
    "ps1": ("pwsh", "-Command"),
    "applescript": ("osascript", "-e"),
    "julia": ("julia", "-e"),
    "groovy": ("groovy", "-e"),
}
"""Languages an interpreter runs, and the interpreter with its inline-code option."""

INERT_LANGUAGES = frozenset(
    {"json", "yaml", "yml", "toml", "xml", "html", "css", "markdown", "md", "text", "plain", "plaintext", "txt",
     "csv", "sql", "graphql", "regex", "diff", "patch", "ini", "dockerfile", "mermaid", "latex", "tex"}
)  # fmt: skip
"""Languages no shell or interpreter here runs: code in them is not a command."""

_CODE_RUNNER_TOKENS = frozenset(
    {"run", "exec", "execute", "eval", "evaluate", "repl", "interpret", "interpreter", "sandbox", "notebook", "jupyter"}
)
_SEP = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)
def _arg_key(name: str) -> str:
    return _SEP.sub("", name.lower())


def arg_key(name: str) -> str:
    """An argument name as compared here: lower-cased, separators removed."""
    return _arg_key(name[:256])


# fixed, trivially linear patterns on short names: the standard library's engine is faster to call here
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^A-Za-z0-9]+")


@functools.lru_cache(maxsize=4096)
def _name_tokens(name: str) -> frozenset[str]:
    spaced = _CAMEL.sub(r"\1 \2", name)
    return frozenset(t for t in _NON_WORD.split(spaced.lower()) if t)


def name_tokens(name: str) -> frozenset[str]:
    return _name_tokens(name[:256])


@functools.lru_cache(maxsize=4096)
def language_of_tool(tool_name: str) -> str | None:
    """The language a tool's name gives its code (``python``, ``run_python``, ``node_eval``, ``bash``)."""
    toks = name_tokens(tool_name)
    for lang in (*INTERPRETER_LANGUAGES, *SHELL_LANGUAGES):
        if lang in toks and len(lang) > 2:
            return lang
    return None


@functools.lru_cache(maxsize=4096)
def runs_code(tool_name: str) -> bool:
    """Whether a tool's name says it runs what it is given (``run_code``, ``execute``, ``python_repl``)."""
    return bool(name_tokens(tool_name) & _CODE_RUNNER_TOKENS)


@dataclass(frozen=True)
class Command:
    """One command found in the arguments: ``text`` is the command line to check (``None``: the value
    cannot be read as one, e.g. a list holding a number), ``where`` the argument path, ``language`` what
    the code was declared as (``None`` for a command argument)."""

    where: str
    text: str | None
    language: str | None = None


_LANGUAGE_KEYS: dict[str, str] = {
    f"{lang}{suffix}": lang
    for lang in (*INTERPRETER_LANGUAGES, *SHELL_LANGUAGES)
    for suffix in ("", "code", "script", "source")
}
"""Argument names that say their language (``python``, ``python_code``, ``bash_script``)."""


_LOOKED_AT = COMMAND_ARG_NAMES | CODE_ARG_NAMES | frozenset(_LANGUAGE_KEYS)
"""Argument names :func:`commands_in_args` reads the value of (besides the caller's extra ones)."""


def _language_of(args: Mapping[str, Any], key: str) -> str | None:
    own = _LANGUAGE_KEYS.get(arg_key(key))
    if own is not None:
        return own
    for k, v in args.items():
        if isinstance(k, str) and arg_key(k) in LANGUAGE_ARG_NAMES and isinstance(v, str):
            return arg_key(v) or None
    return None


def _as_line(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return shlex.join(value)
    return None


def _language_key(key: str) -> bool:
    return arg_key(key) in _LANGUAGE_KEYS


def commands_in_args(
    args: Mapping[str, Any],
    *,
    code_runner: bool,
    extra_names: frozenset[str] = frozenset(),
    tool_language: str | None = None,
) -> tuple[list[Command], bool]:
    """``(commands, saw_inert_code)``: the commands to check in ``args`` (nested mappings and lists too),
    and whether code in a language nothing runs was seen (so a shell tool holding only that is not called
    "without a command"). ``code_runner``: the tool runs code, so code of unknown language is a shell line."""
    if carries_no_command(args, _LOOKED_AT, extra_names, arg_key, MAX_VALUES):
        return [], False
    found: list[Command] = []
    inert = False
    budget = MAX_VALUES
    stack: list[tuple[Mapping[Any, Any], str, int]] = [(args, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        for key, value in node.items():
            budget -= 1
            if budget < 0:
                found.append(Command(path or "(arguments)", None))
                return found, inert
            if not isinstance(key, str):
                continue
            where = f"{path}.{key}" if path else key
            k = arg_key(key)
            if isinstance(value, Mapping):
                if depth < MAX_DEPTH:
                    stack.append((value, where, depth + 1))
                else:
                    found.append(Command(where, None))
                continue
            if k in COMMAND_ARG_NAMES or k in extra_names:
                if isinstance(value, bool | int | float) or value is None:
                    continue  # a flag such as shell=True: not a command
                if k in ("commands", "cmds") and isinstance(value, list | tuple):
                    found.extend(Command(f"{where}[{i}]", _as_line(v)) for i, v in enumerate(value[:64]))
                else:
                    found.append(Command(where, _as_line(value)))
                continue
            if k in CODE_ARG_NAMES or _language_key(key):
                if not isinstance(value, str | list | tuple):
                    continue
                text = value if isinstance(value, str) else _as_line(value)
                lang = _language_of(node, key) or tool_language
                if lang in SHELL_LANGUAGES:
                    found.append(Command(where, text, lang))
                elif lang in INTERPRETER_LANGUAGES:
                    program, flag = INTERPRETER_LANGUAGES[lang]
                    found.append(Command(where, None if text is None else shlex.join([program, flag, text]), lang))
                elif lang in INERT_LANGUAGES:
                    inert = True
                elif code_runner:
                    found.append(Command(where, text, lang))  # unknown or missing language: read as shell
                continue
            if isinstance(value, list | tuple) and depth < MAX_DEPTH:
                for i, item in enumerate(value[:64]):
                    if isinstance(item, Mapping):
                        stack.append((item, f"{where}[{i}]", depth + 1))
    return found, inert
