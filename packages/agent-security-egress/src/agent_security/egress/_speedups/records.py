""":func:`new_finding`: a :class:`~agent_security.egress.findings.Finding` built without the frozen
dataclass's ``__init__`` (which sets each field through ``object.__setattr__``), part of the egress speed code
(:mod:`agent_security.egress._speedups`).

The fields are stored on an instance of a plain class with the same slots (plain attribute stores), which then
becomes a ``Finding`` (``__class__`` assignment: the layouts are the same); the confidence is rounded to three
places, remembered per value (detectors produce a handful of distinct scores). A test holds the result equal
to ``Finding(...)`` and as frozen.
"""

from __future__ import annotations

from agent_security.egress.findings import Classification, Finding

__all__ = ["new_finding"]


class _Fields:
    __slots__ = Finding.__slots__


_rounded: dict[float, float] = {}


def new_finding(
    kind: str,
    classification: Classification,
    path: str,
    span: tuple[int, int],
    confidence: float,
    masked: str,
    decoding: tuple[str, ...],
    classifier: str,
) -> Finding:
    """``Finding(kind, classification, path, span, round(confidence, 3), masked, decoding, classifier)``."""
    rounded = _rounded.get(confidence)
    if rounded is None:
        rounded = round(confidence, 3)
        if len(_rounded) >= 4096:
            _rounded.clear()
        _rounded[confidence] = rounded
    f = _Fields()
    f.kind = kind  # type: ignore[attr-defined]
    f.classification = classification  # type: ignore[attr-defined]
    f.path = path  # type: ignore[attr-defined]
    f.span = span  # type: ignore[attr-defined]
    f.confidence = rounded  # type: ignore[attr-defined]
    f.masked = masked  # type: ignore[attr-defined]
    f.decoding = decoding  # type: ignore[attr-defined]
    f.classifier = classifier  # type: ignore[attr-defined]
    f.__class__ = Finding  # type: ignore[assignment]
    return f  # type: ignore[return-value]
