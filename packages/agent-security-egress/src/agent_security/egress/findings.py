"""What a scan reports: findings (never the raw value), the scan report, and the masking helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "Classification",
    "Finding",
    "ScanReport",
    "mask_destination",
    "mask_generic",
]


class Classification(StrEnum):
    """Data classes. Built-in classifiers produce PII, PCI and SECRET; PHI and CUSTOM are for custom ones."""

    PII = "PII"
    PCI = "PCI"
    SECRET = "SECRET"  # noqa: S105 - a class name, not a password
    PHI = "PHI"
    CUSTOM = "CUSTOM"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of sensitive data found by a scan.

    ``span`` is a half-open ``(start, end)`` character range in the *original* string found at
    ``path``. For a finding inside an encoded segment (``decoding`` not empty, e.g. ``("base64",)`` or
    ``("url", "base64")``, outermost first) the span covers the whole encoded segment, which is what a
    redaction replaces. ``masked`` is a preview safe to log: it never contains the raw value.
    """

    kind: str
    classification: Classification
    path: str
    span: tuple[int, int]
    confidence: float
    masked: str
    decoding: tuple[str, ...] = ()
    classifier: str = ""

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict (safe to log: no raw value)."""
        return {
            "kind": self.kind,
            "classification": str(self.classification),
            "path": self.path,
            "span": list(self.span),
            "confidence": round(self.confidence, 3),
            "masked": self.masked,
            "decoding": list(self.decoding),
            "classifier": self.classifier,
        }


@dataclass
class ScanReport:
    """Findings plus how complete the scan was.

    ``complete`` is False when a limit (size, depth, number of nodes, total work) stopped the scan before
    it had looked at everything; ``limits_hit`` names them. A caller enforcing policy should treat an
    incomplete scan as a failure (the enforcer does: DENY ``EGRESS_SCAN_LIMIT`` by default).
    """

    findings: list[Finding] = field(default_factory=list)
    complete: bool = True
    limits_hit: list[str] = field(default_factory=list)
    classifier_errors: list[str] = field(default_factory=list)
    """Names of classifiers whose detector or validator raised (the scan is then incomplete)."""
    bytes_scanned: int = 0
    decoded_segments: int = 0

    def hit(self, limit: str) -> None:
        self.complete = False
        if limit not in self.limits_hit:
            self.limits_hit.append(limit)

    @property
    def classifications(self) -> tuple[Classification, ...]:
        seen: dict[Classification, None] = {}
        for f in self.findings:
            seen.setdefault(f.classification, None)
        return tuple(seen)

    @property
    def kinds(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for f in self.findings:
            seen.setdefault(f.kind, None)
        return tuple(seen)


def mask_generic(value: str, keep: int = 0) -> str:
    """``keep`` leading characters (only when the value is long enough to stay unguessable), then stars."""
    if keep and len(value) >= keep * 4:
        return value[:keep] + "****"
    return "****"


def _mask_host(host: str) -> str:
    labels = host.split(".")
    if len(labels) >= 2:
        return f"{labels[0][:1]}***.{labels[-1][:12]}"
    return f"{host[:1]}***"


def mask_destination(dest: str) -> str:
    """Mask a destination (address, URL, path) for messages and logs.

    An email keeps the first letter of the local part and the top-level domain; a URL keeps its scheme,
    the first letter of the host and the top-level domain; anything else keeps two characters.
    """
    d = dest.strip()
    if "://" in d:
        scheme, _, rest = d.partition("://")
        host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
        return f"{scheme[:10]}://{_mask_host(host)}/…"
    if "@" in d:
        local, _, domain = d.rpartition("@")
        return f"{local[:1]}***@{_mask_host(domain)}"
    return (d[:2] + "***") if len(d) > 4 else "***"
