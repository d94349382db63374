""":func:`new_finding`: a :class:`~agent_security.egress.findings.Finding` built without the frozen
dataclass's ``__init__`` (which sets each field through ``object.__setattr__``), part of the egress speed code
(:mod:`agent_security.egress._speedups`). The fields are set through the class's slot descriptors, the
confidence rounded to three places (remembered per value: detectors produce a handful of distinct scores).
A test holds the result equal to ``Finding(...)``.
"""

from __future__ import annotations

from agent_security.egress.findings import Classification, Finding

__all__ = ["new_finding"]

_new = object.__new__
_kind = Finding.kind.__set__  # type: ignore[attr-defined]
_classification = Finding.classification.__set__  # type: ignore[attr-defined]
_path = Finding.path.__set__  # type: ignore[attr-defined]
_span = Finding.span.__set__  # type: ignore[attr-defined]
_confidence = Finding.confidence.__set__  # type: ignore[attr-defined]
_masked = Finding.masked.__set__  # type: ignore[attr-defined]
_decoding = Finding.decoding.__set__  # type: ignore[attr-defined]
_classifier = Finding.classifier.__set__  # type: ignore[attr-defined]
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
    f: Finding = _new(Finding)
    _kind(f, kind)
    _classification(f, classification)
    _path(f, path)
    _span(f, span)
    _confidence(f, rounded)
    _masked(f, masked)
    _decoding(f, decoding)
    _classifier(f, classifier)
    return f
