"""Which tool arguments hold a path, a URL, a host, an environment variable name or a timeout.

Every argument is walked (nested mappings and lists, within :data:`MAX_DEPTH` levels and
:data:`MAX_VALUES` values; past either the walk reports :class:`ArgumentsTooLarge`, which the caller
judges as a violation). A string is read as

* a **URL** when the whole value is one (``scheme://...``, ``file:...``), whatever its key;
* a **host** under a host-like key (``host``, ``hostname``, ``server``, ``ip``, ...), a scheme-less
  **URL** under a URL-like key (``url``, ``endpoint``, ``webhook``, ...);
* an **environment variable name** under an env-like key (``env``, ``env_var``, ``variables``; the keys of
  a mapping under such a key; ``NAME=value`` items);
* a **path** under a path-like key (``path``, ``file``, ``dir``, ``dest``, ``cwd``, ``source``, ...,
  in any spelling: ``filePath``, ``output_dir``), or, under any key that is not free text (``content``,
  ``text``, ``message``, ...), when it is shaped like one (``/...``, ``~/...``, ``./...``, ``../...``);
* a **timeout** under a timeout-like key (``timeout``, ``timeout_ms``, ``timeoutSeconds``).

A path written into a command line (``cat /etc/passwd``) is the command governor's to read (see
docs/containment.md): this module does not parse shell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from agent_security.containment.urls import looks_like_url

__all__ = ["MAX_DEPTH", "MAX_VALUES", "ArgumentsTooLarge", "Found", "Kind", "find_arguments", "key_tokens"]

MAX_DEPTH = 32
MAX_VALUES = 20_000
MAX_CANDIDATE_CHARS = 8192

Kind = Literal["url", "host", "path", "env", "timeout_s"]

PATH_TOKENS = frozenset(
    {
        "path", "paths", "file", "files", "filename", "filenames", "filepath", "dir", "dirs", "directory",
        "directories", "folder", "dest", "destination", "dst", "src", "cwd", "workdir", "outfile", "infile",
        "pathname", "notebook",
    }
)  # fmt: skip
WEAK_PATH_TOKENS = frozenset({"source", "target", "root", "location", "output", "mount", "volume", "glob", "to"})
"""Keys that hold a path or something else (``target="prod"``): a path when the value has a ``/``."""
URL_TOKENS = frozenset({"url", "urls", "uri", "uris", "href", "link", "endpoint", "webhook", "callback"})
HOST_TOKENS = frozenset({"host", "hostname", "hosts", "domain", "server", "ip", "address", "addr", "netloc"})
ENV_KEYS = frozenset(
    {"env", "envvar", "env_var", "env_vars", "envvars", "env_name", "environment_variables", "environment_variable",
     "variable", "var_name", "getenv"}
)  # fmt: skip
TEXT_TOKENS = frozenset(
    {
        "content", "contents", "text", "body", "message", "messages", "prompt", "query", "description",
        "comment", "note", "code", "pattern", "regex", "data", "old", "new", "str", "subject", "title",
        "summary", "input", "html", "markdown", "template", "diff", "patch",
    }
)  # fmt: skip
TIMEOUT_MS = frozenset({"timeout_ms", "timeoutms", "timeout_millis", "timeout_milliseconds"})
TIMEOUT_S = frozenset({"timeout", "timeout_s", "timeout_sec", "timeout_secs", "timeout_seconds", "timeoutseconds"})
_HOSTISH = re.compile(r"^[\w.\-\[\]:%/]+$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


class ArgumentsTooLarge(ValueError):
    """Arguments nested deeper or holding more values than the walk checks."""


@dataclass(frozen=True, slots=True)
class Found:
    """One argument to check: its ``where`` (``args.files[2].path``), the last mapping ``key`` above it,
    what it holds and the value (a string, or seconds for a timeout)."""

    where: str
    key: str
    kind: Kind
    value: Any


def key_tokens(key: str) -> tuple[str, ...]:
    """``"outputFilePath"`` -> ``("output", "file", "path")``."""
    return _key_facts(key)[0]


@dataclass(frozen=True, slots=True)
class _KeyFacts:
    tokens: frozenset[str]
    env: bool
    timeout_scale: float | None
    """1.0 for a timeout in seconds, 0.001 in milliseconds, ``None`` for a key that is no timeout."""


_TIMEOUT_MS_NORMAL = frozenset(k.replace("_", "") for k in TIMEOUT_MS)
_TIMEOUT_S_NORMAL = frozenset(k.replace("_", "") for k in TIMEOUT_S)


@lru_cache(maxsize=8192)
def _key_facts(key: str) -> tuple[tuple[str, ...], _KeyFacts]:
    tokens = tuple(t for t in _SPLIT.split(_CAMEL.sub("_", key[:256]).lower()) if t)
    normal = "_".join(tokens)
    squashed = normal.replace("_", "")
    scale = 0.001 if squashed in _TIMEOUT_MS_NORMAL else 1.0 if squashed in _TIMEOUT_S_NORMAL else None
    return tokens, _KeyFacts(frozenset(tokens), normal in ENV_KEYS, scale)


def _path_shaped(text: str) -> bool:
    return text == "~" or text.startswith(("/", "~/", "./", "../"))


def _classify_string(key: str, text: str) -> Kind | None:
    if not text or len(text) > MAX_CANDIDATE_CHARS:
        return None
    stripped = text.strip()
    facts = _key_facts(key)[1]
    tokens = facts.tokens
    if looks_like_url(stripped) and (tokens & (URL_TOKENS | HOST_TOKENS) or not any(c.isspace() for c in stripped)):
        return "url"  # a whole URL; under a URL key even one with spaces (malformed: a violation)
    single_line = "\n" not in text and "\r" not in text
    if tokens & HOST_TOKENS and single_line and _HOSTISH.match(stripped):
        return "host" if "/" not in stripped else "url"  # not "a@b.example" (an e-mail address)
    if tokens & URL_TOKENS and single_line and " " not in stripped and not _path_shaped(stripped):
        return "url"
    if facts.env:
        return "env"
    if tokens & PATH_TOKENS and single_line:
        return "path"
    if tokens & WEAK_PATH_TOKENS and single_line and ("/" in text or text.startswith(("~", "."))):
        return "path"
    if single_line and not tokens & TEXT_TOKENS and _path_shaped(text):
        return "path"
    return None


def _timeout(key: str, value: Any) -> float | None:
    scale = _key_facts(key)[1].timeout_scale
    if scale is None or isinstance(value, bool):
        return None
    number: float
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number * scale


def find_arguments(args: Mapping[str, Any]) -> Iterator[Found]:
    """Every path, URL, host, environment variable name and timeout in ``args`` (see the module
    documentation). Raises :class:`ArgumentsTooLarge` past the walk's bounds."""
    stack: list[tuple[str, str, Any, int]] = [("args", "", args, 0)]
    seen = 0
    while stack:
        where, key, value, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise ArgumentsTooLarge(f"more than {MAX_VALUES} argument values")
        if depth > MAX_DEPTH:
            raise ArgumentsTooLarge(f"arguments nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, str):
            kind = _classify_string(key, value)
            if kind == "env":
                yield Found(where, key, "env", value.partition("=")[0].strip())
            elif kind is not None:
                yield Found(where, key, kind, value.strip() if kind != "path" else value)
            else:
                seconds = _timeout(key, value)
                if seconds is not None:
                    yield Found(where, key, "timeout_s", seconds)
        elif isinstance(value, Mapping):
            env_map = _key_facts(key)[1].env
            for k, v in reversed(list(value.items())):
                name = str(k)
                if env_map:  # {"env": {"NAME": "value"}}: the names, and a value that is a whole URL
                    yield Found(f"{where}.{name[:64]}", key, "env", name)
                    if isinstance(v, str) and len(v) <= MAX_CANDIDATE_CHARS and looks_like_url(v.strip()):
                        yield Found(f"{where}.{name[:64]}", name, "url", v.strip())
                    continue
                stack.append((f"{where}.{name[:64]}", name, v, depth + 1))
        elif isinstance(value, list | tuple):
            for i in range(len(value) - 1, -1, -1):
                stack.append((f"{where}[{i}]", key, value[i], depth + 1))
        elif isinstance(value, int | float):
            seconds = _timeout(key, value)
            if seconds is not None:
                yield Found(where, key, "timeout_s", seconds)
