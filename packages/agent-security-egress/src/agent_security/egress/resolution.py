"""Overlapping hits of one scanned string resolved to the findings it reports."""

from __future__ import annotations

import bisect

from agent_security.egress.classifiers import Hit

__all__ = ["resolve"]


def resolve(hits: list[Hit]) -> list[Hit]:
    """Drop duplicates and overlaps, in O(n log n).

    Within one layer, overlapping hits keep the higher priority (then the higher confidence). A decoded
    hit is dropped when a plain hit of the same kind lies inside its encoded segment (the same value
    seen twice, e.g. in a URL that also had %-escapes).
    """
    if len(hits) == 1:
        return hits
    by_layer: dict[int, tuple[list[int], list[int]]] = {}
    kept: list[Hit] = []
    for h in sorted(hits, key=lambda x: (-x.priority, -x.confidence, x.start)):
        starts, ends = by_layer.setdefault(h.layer, ([], []))
        s, e = h.inner
        i = bisect.bisect_left(starts, e)
        if i > 0 and ends[i - 1] > s:
            continue  # overlaps an accepted hit of this layer (accepted ones never overlap each other)
        starts.insert(i, s)
        ends.insert(i, e)
        kept.append(h)
    plain: dict[str, list[int]] = {}
    for h in kept:
        if not h.decoding:
            plain.setdefault(h.kind, []).append(h.start)
    for v in plain.values():
        v.sort()
    out = []
    for h in kept:
        if h.decoding and h.kind in plain:
            ps = plain[h.kind]
            i = bisect.bisect_left(ps, h.start)
            if i < len(ps) and ps[i] < h.end:
                continue
        out.append(h)
    out.sort(key=lambda x: (x.start, x.end))
    return out
