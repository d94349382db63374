"""Look-alike agent ids: the skeleton of an id, from the Unicode confusables table.

``canonical_agent_id`` (core) already folds case, width, invisible characters and compatibility forms:
``Agent-7``, ``agent-7 `` and ``agent\u200b-7`` are one id. What it keeps apart on purpose are letters of
other scripts that look like Latin ones: Cyrillic ``\u0430`` in ``\u0430gent-7`` is a different id, which a human
reading an audit trail or a dashboard cannot tell from ``agent-7``. The registry refuses to treat such a
spelling as a new agent: its *skeleton* (each non-ASCII character replaced by its ASCII look-alike from
the confusables table of the maintained ``confusable_homoglyphs`` package, Unicode's ``confusables.txt``)
is compared with the skeletons of the registered ids, and a match that is not the same id is an
``IDENTITY_MISMATCH``.

ASCII characters are left as they are (``agent-1`` and ``agent-l`` are two ids): two registered ids that
differ only in ASCII look-alikes are the operator's choice, and each is registered.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from agent_security.core.normalize import canonical_agent_id

__all__ = ["skeleton"]

_lock = threading.Lock()
_table: dict[str, str] | None = None


def _build() -> dict[str, str]:
    from confusable_homoglyphs import confusables  # the 900 kB table is read on first use only

    data: dict[str, Any] = confusables.confusables_data
    table: dict[str, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_forms = sorted(
            e["c"] for e in entries if isinstance(e, dict) and len(e.get("c", "")) == 1 and e["c"].isascii()
        )
        if ascii_forms:
            table[char] = ascii_forms[0]
    return table


def _mapping() -> dict[str, str]:
    global _table
    if _table is None:
        with _lock:
            if _table is None:
                _table = _build()
    return _table


@functools.lru_cache(maxsize=4096)
def skeleton(agent_id: str) -> str:
    """The look-alike form of ``agent_id``: canonical, then each non-ASCII character replaced by its ASCII
    look-alike when the confusables table has one, then canonical again (``\u0410GENT-7`` and ``\u0430gent-7`` both
    give ``agent-7``)."""
    canonical = canonical_agent_id(agent_id)
    if canonical.isascii():
        return canonical
    table = _mapping()
    return canonical_agent_id("".join(table.get(ch, ch) for ch in canonical))
