"""JSON paths of findings, and redaction: a copy of a value with every finding replaced by its masked preview."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from agent_security.egress.findings import Finding

__all__ = ["apply_masks", "child_path", "key_path", "number_text", "redact_node", "value_marks", "value_path"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def child_path(path: str, key: Any, index: int = 0) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    k = str(key)
    if _IDENT.fullmatch(k):
        return f"{path}.{k}"
    if len(k) > 64:  # truncated in the path: the key's position keeps two long keys apart
        return f"{path}[{json.dumps(k[:48] + '...')}#{index}]"
    return f"{path}[{json.dumps(k)}]"


def key_path(path: str, index: int) -> str:
    return f"{path}.<key#{index}>"


def value_path(path: str, index: int) -> str:
    """The path of the value under a sensitive key: distinct from the key's own path, so redacting one never
    rewrites the other with its spans."""
    return f"{path}.<value#{index}>"


def redact_node(
    node: Any, path: str, by_path: dict[str, list[Finding]], depth: int, vpaths: set[str], max_depth: int
) -> Any:
    """``node`` with the findings of ``by_path`` masked (``vpaths``: value paths that hold findings)."""
    if depth > max_depth:
        return node
    if isinstance(node, str):
        return apply_masks(node, by_path.get(path, ()))
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, (int, float)):
        fs = by_path.get(path)
        return apply_masks(number_text(node) or "", fs) if fs else node
    if isinstance(node, Mapping):
        out: dict[Any, Any] = {}
        for i, (k, v) in enumerate(node.items()):
            kfs = by_path.get(key_path(path, i))
            newk = apply_masks(str(k), kfs) if kfs else k
            if kfs and (newk in out or newk in node):  # two keys masked alike must not merge
                newk = f"{newk}#{i}"
            vpath = value_path(path, i)
            child = vpath if vpath in vpaths else child_path(path, str(k), i)
            out[newk] = redact_node(v, child, by_path, depth + 1, vpaths, max_depth)
        return out
    if isinstance(node, (list, tuple)):
        items = [redact_node(v, child_path(path, i), by_path, depth + 1, vpaths, max_depth) for i, v in enumerate(node)]
        return type(node)(items) if isinstance(node, tuple) else items
    fs = by_path.get(path)
    if isinstance(node, (bytes, bytearray)):
        return apply_masks(bytes(node).decode("utf-8", "replace"), fs).encode() if fs else node
    return apply_masks(str(node), fs) if fs else node


def number_text(node: int | float) -> str | None:
    """The digits a number carries: ``str`` of an int, of an integral float (``4111111111111111.0`` is a
    card number too); ``""`` for other floats; ``None`` for an int too long to convert."""
    if isinstance(node, float):
        if not (node.is_integer() and abs(node) < 1e20):
            return ""
        node = int(node)
    try:
        return str(node)
    except ValueError:
        return None


def value_marks(path: str) -> Iterable[int]:
    i = path.find(".<value#")
    while i >= 0:
        yield i
        i = path.find(".<value#", i + 1)


def apply_masks(text: str, findings: Iterable[Finding]) -> str:
    spans = sorted({(f.span, f.masked) for f in findings}, key=lambda x: (x[0][0], -x[0][1]))
    if not spans:
        return text
    merged: list[tuple[int, int, str]] = []
    for (s, e), masked in spans:
        if merged and s < merged[-1][1]:
            ps, pe, pm = merged[-1]
            merged[-1] = (ps, max(pe, e), pm)
        else:
            merged.append((s, e, masked))
    out = []
    pos = 0
    for s, e, masked in merged:
        out.append(text[pos:s])
        out.append(f"[{masked}]" if not masked.startswith("[") else masked)
        pos = e
    out.append(text[pos:])
    return "".join(out)
