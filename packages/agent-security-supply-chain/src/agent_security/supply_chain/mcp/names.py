"""Look-alike names: a confusable skeleton and a bounded near-miss index (typosquatting)."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

import re2

__all__ = ["MAX_NAME_COMPARISONS", "TypoIndex", "looks_like"]


def _dl_distance(a: str, b: str, cap: int = 3) -> int:
    """Optimal-string-alignment distance, stopping early above ``cap``."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > cap:
            return cap + 1
        prev2, prev = prev, cur
    return prev[len(b)]


_CONFUSABLE = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "3": "e",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "\u0430": "a",
        "\u0435": "e",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0445": "x",
        "\u0443": "y",
        "\u0456": "i",
        "\u0458": "j",
        "\u04bb": "h",
    }
)


@functools.lru_cache(maxsize=8192)
def _skeleton(name: str) -> str:
    s = unicodedata.normalize("NFKC", name).lower().translate(_CONFUSABLE)
    s = s.replace("rn", "m").replace("vv", "w")
    return str(re2.sub(r"[\s_.\-]+", "", s))


MAX_NAME_COMPARISONS = 200_000
"""Most near-miss (edit distance) tool-name comparisons in one scan: hostile servers with thousands of
similar names would otherwise take minutes (2,000 x 2,000 names: about a minute)."""


class TypoIndex:
    """Known and other servers' tool names by skeleton (exact look-alikes: one lookup) and by skeleton
    length (near misses: only names whose length is within the distance limit are compared)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.by_skel: dict[str, list[str]] = {}
        self.by_len: dict[int, list[tuple[str, str]]] = {}
        for n in dict.fromkeys(names):
            sk = _skeleton(n)
            self.by_skel.setdefault(sk, []).append(n)
            self.by_len.setdefault(len(sk), []).append((n, sk))
        self.budget = MAX_NAME_COMPARISONS
        self.truncated = False

    def match(self, name: str) -> str | None:
        a = _skeleton(name)
        for known in self.by_skel.get(a, ()):
            if known != name:
                return known
        if len(a) < 4:
            return None
        for length in range(len(a) - 2, len(a) + 3):
            for known, b in self.by_len.get(length, ()):
                if known == name or len(b) < 4 or a == b:
                    continue
                limit = 1 if min(len(a), len(b)) < 8 else 2
                if abs(len(a) - len(b)) > limit:
                    continue
                if self.budget <= 0:
                    self.truncated = True
                    return None
                self.budget -= 1
                if _dl_distance(a, b, limit) <= limit:
                    return known
        return None


def looks_like(name: str, known: str) -> bool:
    if name == known:
        return False
    a, b = _skeleton(name), _skeleton(known)
    if a == b:
        return True
    if min(len(a), len(b)) < 4:
        return False
    limit = 1 if min(len(a), len(b)) < 8 else 2
    return _dl_distance(a, b, limit) <= limit
