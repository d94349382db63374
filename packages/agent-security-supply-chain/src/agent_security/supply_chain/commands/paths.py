"""Is a path a credential location? Judged on the path the kernel would open, and on what a glob could expand to.

A word of a command is first expanded by the shell parser (quoting, ``~``), then resolved by the shared
resolver :func:`agent_security.core.paths.resolve_path` (``..``, ``/proc/self/root``, ``/dev/fd``,
symlinks that exist here), then matched against :data:`.credentials.LOCATIONS`. A glob (``~/.s?h/id_*``,
``/etc/sha*``) is a hit when it could expand to a credential location. Text that merely mentions a
location (a description, a search pattern) is matched by :func:`sensitive_text`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import re2

from agent_security.core.paths import PathError
from agent_security.supply_chain._speedups.verdicts import resolve_path
from agent_security.supply_chain.commands.credentials import LOCATIONS, CredentialLocation

__all__ = ["changed_directory", "credential_hits", "glob_hits", "path_hits", "sensitive_text", "text_hits", "word_hits"]

_HOME_PREFIX = r"(?:/root|/home/[^/]+|/Users/[^/]+|/var/root)"
_GLOB_CHARS = frozenset("*?[")
_STD_STREAM = re2.compile(r"/(?:fd/[012]|std(?:in|out|err))$")


def _pattern_regex(pattern: str) -> str:
    """An anchored regex for a location pattern over absolute paths (a location covers what is below it)."""
    if pattern.startswith("~/"):
        head, rest = _HOME_PREFIX + "/", pattern[2:]
    elif pattern.startswith("**/"):
        head, rest = "(?:.*/)?", pattern[3:]
    else:
        head, rest = "", pattern
    body = "".join("[^/]*" if ch == "*" else re2.escape(ch) for ch in rest)
    return "^" + head + body + "(?:/.*)?$"


def _text_regex(pattern: str) -> str:
    """A regex for a mention of the location inside free text (a word boundary on either side)."""
    rest = pattern[2:] if pattern.startswith(("~/", "**")) else pattern
    rest = rest.lstrip("/") if pattern.startswith("**") else rest
    body = "".join("[^/\\s'\"]*" if ch == "*" else re2.escape(ch) for ch in rest)
    if body.startswith("[^/"):  # "*.pem": a name ending in .pem
        body = "[A-Za-z0-9_.-]+" + body[len("[^/\\s'\"]*") :]
    return "(?:^|[/\\s'\"=~:(])" + body + "(?:$|[/\\s'\"`;|&)>,:])"


def _location_set(expression: Callable[[str], str]) -> re2.Set:
    locations = re2.Set.SearchSet()
    for loc in LOCATIONS:
        locations.Add(expression(loc.pattern))
    locations.Compile()
    return locations


# The three automata are built on first use (a check that names no path and no text builds none): an RE2 set
# of ~130 locations takes milliseconds to compile, which a hook's one-call process would pay every time.


@functools.cache
def _any_path() -> re2.Set:
    """Every location in one RE2 set: one pass names all the locations a path matches."""
    return _location_set(_pattern_regex)


@functools.cache
def sensitive_text() -> re2._Regexp:
    """Any mention of a credential location in free text."""
    return re2.compile("(?i)" + "|".join(f"(?:{_text_regex(loc.pattern)})" for loc in LOCATIONS))


@functools.cache
def _any_text() -> re2.Set:
    """The same, as a set: one quick pass says whether there is any mention at all."""
    return _location_set(lambda pattern: "(?i)" + _text_regex(pattern))


def credential_hits(path: str, limit: int = 3) -> list[CredentialLocation]:
    """The locations an absolute, resolved ``path`` is (or is below)."""
    found = _any_path().Match(path)
    return [LOCATIONS[i] for i in sorted(found or ())[:limit]]


def _samples() -> tuple[str, ...]:
    out: list[str] = []
    for loc in LOCATIONS:
        p = loc.pattern.replace("*", "x")
        if p.startswith("~/"):
            p = "/home/user/" + p[2:]
        elif p.startswith("**/"):
            p = "/work/" + p[3:]
        out += [p, p + "/x"]
    for key in ("id_rsa", "id_ecdsa", "id_ed25519", "authorized_keys"):
        out.append("/home/user/.ssh/" + key)
    out += ["/home/user/.aws/credentials", "/home/user/.kube/config", "/home/user/.docker/config.json"]
    return tuple(out)


_SAMPLES = _samples()


@functools.lru_cache(maxsize=4096)
def _glob_regex(glob: str) -> re2._Regexp | None:
    """A shell glob over whole paths (``*`` and ``?`` do not match ``/`` nor a leading dot)."""
    out: list[str] = []
    i = 0
    start = True
    while i < len(glob):
        ch = glob[i]
        if ch == "*":
            out.append("(?:[^./][^/]*)?" if start else "[^/]*")
        elif ch == "?":
            out.append("[^./]" if start else "[^/]")
        elif ch == "[":
            j = glob.find("]", i + 2)
            if j < 0:
                out.append(re2.escape(ch))
            else:
                cls = glob[i + 1 : j].replace("\\", "\\\\")
                out.append("[^" + cls[1:] + "]" if cls.startswith(("!", "^")) else "[" + cls + "]")
                i = j
        else:
            out.append(re2.escape(ch))
        start = ch == "/"
        i += 1
    try:
        return re2.compile("(?:^|/)" + "".join(out) + "$")
    except re2.error:
        return None


def glob_hits(resolved_glob: str, limit: int = 3) -> list[str]:
    """Sample credential paths the glob could expand to (``/home/user/.ssh/id_rsa`` for ``~/.s?h/id_*``).
    An unreadable glob is a hit (it is judged as if it reached one)."""
    rx = _glob_regex(resolved_glob)
    if rx is None:
        return [resolved_glob[:40]]
    hits = [s for s in _SAMPLES if rx.search(s)]
    return hits[:limit]


def path_hits(word: str, *, cwd: str | None = None, home: str | None = None, glob: bool | None = None) -> list[str]:
    """What makes ``word`` (a path as the shell expanded it) a credential location, or ``[]``: after
    resolution (``..``, ``/proc/self/root``, symlinks) or, for a glob, what it could expand to."""
    if not word or len(word) > 4096 or "\x00" in word:
        return []
    home = home or os.environ.get("HOME") or "/root"
    is_glob = bool(_GLOB_CHARS & set(word)) if glob is None else glob
    rooted = word.startswith(("/", "~")) or (cwd is not None and cwd.startswith("/"))
    if is_glob and not rooted:
        return _relative_glob_hits(word)
    if "/" not in word and not rooted:
        return []  # a bare name: only its text can name a credential (``id_rsa``, ``.env``): see text_hits
    try:
        # the agent's working directory is not known (unless the line changed it with ``cd``): symlinks are
        # followed for rooted paths only
        resolved = resolve_path(word, cwd=cwd, home=home, follow_symlinks=rooted and not is_glob)
    except PathError:
        return []
    if resolved.via_fd:
        return [] if _STD_STREAM.search(resolved.path) else ["an open file descriptor"]
    if is_glob:
        path = resolved.path
        home_dir = home.rstrip("/")
        if path.startswith(home_dir + "/"):
            path = "/home/user" + path[len(home_dir) :]
        return [_tilde(h) for h in glob_hits(path)]
    return [loc.pattern.removeprefix("**/").removeprefix("~/") for loc in credential_hits(resolved.path)]


_NAMES = tuple(dict.fromkeys(loc.pattern[3:].replace("*", "x") for loc in LOCATIONS if loc.pattern.startswith("**/")))
_ORDINARY_EXTENSION_GLOB = re2.compile(r"^\*\.(?:json|ya?ml|toml|xml|txt|md|log|conf|cfg|ini|db|js|ts|py)$")


def _relative_glob_hits(word: str) -> list[str]:
    """A glob relative to an unknown directory: a hit when its literal text picks out a credential file name
    (``.e*``, ``*.pem``, ``id_*``); ``*``, ``*.py`` or ``*.json`` match in every directory and are not."""
    last = word.rsplit("/", 1)[-1]
    if not re2.search(r"[A-Za-z0-9_]", last) or _ORDINARY_EXTENSION_GLOB.search(last):
        return []
    rx = _glob_regex(last)
    if rx is None:
        return [word[:40]]
    return [n for n in _NAMES if rx.search(n)][:3]


def _tilde(sample: str) -> str:
    return sample.replace("/home/user/", "~/").replace("/work/", "")


def text_hits(text: str, limit: int = 5) -> list[str]:
    """The credential locations mentioned in ``text`` (each trimmed to 40 characters)."""
    hits: list[str] = []
    if not _any_text().Match(text):
        return hits
    for m in sensitive_text().finditer(text):
        frag = m.group(0).strip(" '\"=~/:(`;|&)>,")
        if frag and frag not in hits:
            hits.append(frag[:40])
        if len(hits) >= limit:
            break
    return hits


_HOME_VAR = re2.compile(r"^\$(?:HOME|\{HOME\})(/|$)")


def word_hits(
    text: str, *, glob: bool = False, dynamic: bool = False, cwd: str | None = None, limit: int = 3
) -> list[str]:
    """Everything that makes a command word sensitive: a mention of a credential location in its text, and
    the location it names once the shell has expanded it (``$HOME``, ``~``, globs) and the kernel resolved
    it (``..``, ``/proc/self/root``, ``/dev/fd``, symlinks); relative words against ``cwd`` when known."""
    hits = text_hits(text, limit)
    word = _HOME_VAR.sub(r"~\1", text) if dynamic else text
    if "$" not in word and "`" not in word:
        for h in path_hits(word, glob=glob, cwd=cwd):
            if h not in hits and not any(h in x or x in h for x in hits):
                hits.append(h)
    return hits[:limit]


def changed_directory(args: list[str], cwd: str | None, *, home: str | None = None) -> str | None:
    """The working directory after ``cd``/``pushd`` with ``args`` from ``cwd`` (``None``: unknown)."""
    target = next((a for a in args if not a.startswith("-") or a == "-"), "~")
    if target == "-" or "$" in target or "`" in target or _GLOB_CHARS & set(target):
        return None
    if not target.startswith(("/", "~")) and cwd is None:
        return None
    try:
        return resolve_path(target, cwd=cwd, home=home or os.environ.get("HOME") or "/root").path
    except PathError:
        return None
