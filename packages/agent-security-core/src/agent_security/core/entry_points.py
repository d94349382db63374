"""Entry points of installed distributions, read without :mod:`importlib.metadata` where that is exact.

:func:`importlib.metadata.entry_points` costs a fresh process (a hook call) tens of milliseconds: importing
it pulls in :mod:`email`, :mod:`zipfile`, :mod:`csv` and more, and each distribution's name and version
come from parsing its whole ``METADATA`` file as an e-mail message. :func:`find` reads the same files the
same way for the common layout (directories on ``sys.path`` holding ``*.dist-info`` folders, found by the
standard path finder) and gives the same entry points, distribution names and versions; for anything
else (a zip or egg on ``sys.path``, an ``.egg-info``, another distribution finder on ``sys.meta_path``,
a file it cannot read or parse exactly) it returns ``None`` and the caller asks
:mod:`importlib.metadata`, which then decides (or fails) as it always did.
"""

# ruff: noqa: PTH113, PTH118, PTH119, PTH208  (os.path on strings, as importlib.metadata's own path search)
from __future__ import annotations

import os
import sys
from importlib import import_module
from importlib.machinery import PathFinder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FoundEntryPoint", "declares", "find"]


class FoundEntryPoint:
    """One entry point of one distribution (as :class:`importlib.metadata.EntryPoint`: ``name``,
    ``value``, ``group``, :meth:`load`; plus the distribution's ``Name`` and ``Version``)."""

    __slots__ = ("dist_name", "group", "name", "value", "version")

    def __init__(self, name: str, value: str, group: str, dist_name: str | None, version: str | None) -> None:
        self.name, self.value, self.group = name, value, group
        self.dist_name, self.version = dist_name, version

    def load(self) -> Any:
        """Import the module and resolve the attributes ``value`` names (``module[:attr.attr]``), as
        :meth:`importlib.metadata.EntryPoint.load` does."""
        import re

        match = re.match(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$", self.value)
        if match is None:
            raise ValueError(f"malformed entry point value {self.value!r}")
        target: Any = import_module(match.group("module"))
        for attr in filter(None, (match.group("attr") or "").split(".")):
            target = getattr(target, attr)
        return target


class _NotExact(Exception):
    """Something :func:`find` does not read exactly as :mod:`importlib.metadata` would."""


def _normalize(name: str) -> str:
    # importlib.metadata.Prepared.normalize: PEP 503, dashes as underscores
    out, run = [], False
    for ch in name:
        if ch in "-_.":
            if not run:
                out.append("_")
            run = True
        else:
            out.append(ch)
            run = False
    return "".join(out).lower()


def _read(path: str) -> str | None:
    """A file's text (``None`` when absent, as ``PathDistribution.read_text``)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _NotExact from exc


def _sections(text: str) -> dict[str, list[tuple[str, str]]]:
    """``entry_points.txt`` as ``importlib.metadata.Sectioned`` reads it: stripped lines, ``#`` comments,
    ``[group]`` headers, ``name = value`` pairs (lines before any header ignored)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    group: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line.strip("[]")
            continue
        if group is None:
            continue
        name, eq, value = line.partition("=")
        if not eq:
            raise _NotExact  # importlib.metadata raises here: let it
        groups.setdefault(group, []).append((name.strip(), value.strip()))
    return groups


def _name_version(text: str | None) -> tuple[str | None, str | None]:
    """``Name`` and ``Version`` from a ``METADATA`` header block, as ``email`` (compat32) parses them."""
    if not text:
        raise _NotExact  # importlib.metadata would read PKG-INFO, then the folder itself
    head = text.partition("\n\n")[0]
    if any(c in head for c in "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"):
        raise _NotExact  # line ends email splits differently from str.split
    found: dict[str, str] = {}
    last: str | None = None
    for line in head.split("\n"):
        if not line:
            break  # the end of a METADATA file with no body
        if line[:1] in (" ", "\t"):
            if last in ("name", "version"):
                raise _NotExact  # a folded value
            continue
        key, colon, value = line.partition(":")
        if not colon or not key or any(not ("!" <= c <= "~") for c in key) or line.startswith("From "):
            raise _NotExact
        last = key.lower()
        if last in ("name", "version") and last not in found:
            found[last] = value.lstrip(" \t")
    return found.get("name"), found.get("version")


def _scan(groups: tuple[str, ...]) -> dict[str, list[FoundEntryPoint]]:
    for finder in sys.meta_path:
        fd = getattr(finder, "find_distributions", None)
        if fd is not None and fd != PathFinder.find_distributions:
            raise _NotExact  # another finder may know distributions we would not see
    out: dict[str, list[FoundEntryPoint]] = {g: [] for g in groups}
    seen: set[str] = set()
    for entry in sys.path:
        if not isinstance(entry, str):
            raise _NotExact
        root = entry or "."
        try:
            children = os.listdir(root)
        except OSError:
            if os.path.isfile(root):
                raise _NotExact from None  # a zip archive: importlib.metadata looks inside
            continue
        if os.path.basename(root).lower().endswith(".egg"):
            raise _NotExact
        infos: dict[str, list[str]] = {}
        for child in children:
            low = child.lower()
            if low.endswith(".egg-info"):
                raise _NotExact
            if low.endswith(".dist-info"):
                infos.setdefault(_normalize(low.rpartition(".")[0].partition("-")[0]), []).append(child)
        for folders in infos.values():
            for folder in folders:
                if not folder.endswith(".dist-info"):
                    raise _NotExact  # importlib.metadata then takes the name from METADATA
                # importlib.metadata._unique: the first distribution of a (normalised) name wins
                name_key = _normalize(folder[: -len(".dist-info")].partition("-")[0])
                if name_key in seen:
                    continue
                seen.add(name_key)
                path = os.path.join(root, folder)
                text = _read(os.path.join(path, "entry_points.txt"))
                if not text:
                    continue
                sections = _sections(text)
                if not any(g in sections for g in groups):
                    continue
                dist_name, version = _name_version(_read(os.path.join(path, "METADATA")))
                for group in groups:
                    for ep_name, value in sections.get(group, ()):
                        out[group].append(FoundEntryPoint(ep_name, value, group, dist_name, version))
    return out


def find(group: str) -> list[FoundEntryPoint] | None:
    """The entry points of ``group`` of every installed distribution (``None``: ask
    :mod:`importlib.metadata`). Read afresh on every call, as :mod:`importlib.metadata` reads them."""
    try:
        return _scan((group,))[group]
    except _NotExact:
        return None


def declares(group: str) -> bool | None:
    """Whether any installed distribution declares an entry point in ``group`` (``None``: unknown)."""
    found = find(group)
    return None if found is None else bool(found)
