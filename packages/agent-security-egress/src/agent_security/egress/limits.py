"""The bounds of one scan: :class:`ScanLimits`, the reason code of each limit, and the running budget."""

from __future__ import annotations

from dataclasses import dataclass

from agent_security.egress.findings import ScanReport

__all__ = ["LIMIT_REASONS", "Budget", "ScanLimits"]


@dataclass(frozen=True)
class ScanLimits:
    """Bounds on one scan call. Defaults suit tool arguments of up to a few megabytes."""

    max_total_bytes: int = 16 * 1024 * 1024
    """Total bytes scanned, across all strings and decoded layers."""
    max_depth: int = 64
    """JSON nesting depth."""
    max_nodes: int = 100_000
    """Containers, keys and leaves visited."""
    max_decode_depth: int = 3
    """Nested encodings followed (``url`` inside ``base64`` inside ``escape`` is 3)."""
    max_decoded_bytes: int = 4 * 1024 * 1024
    """Total bytes produced by decoding."""
    max_decode_attempts: int = 2_000
    """Encoded-looking segments tried."""
    max_findings: int = 1_000
    max_segment_bytes: int = 1024 * 1024
    """Largest single encoded segment decoded."""
    max_anchor_hits: int = 200_000
    """Anchor matches examined per call (total work on anchor-dense hostile input)."""
    max_int_digits: int = 4300
    """Digits of an integer value converted to text and scanned (at most Python's own limit, 4300)."""


LIMIT_REASONS: dict[str, str] = {
    "max_total_bytes": "EGRESS_LIMIT_TOTAL_BYTES",
    "max_depth": "EGRESS_LIMIT_DEPTH",
    "max_nodes": "EGRESS_LIMIT_NODES",
    "max_decode_depth": "EGRESS_LIMIT_DECODE_DEPTH",
    "max_decoded_bytes": "EGRESS_LIMIT_DECODED_BYTES",
    "max_decode_attempts": "EGRESS_LIMIT_DECODE_ATTEMPTS",
    "max_findings": "EGRESS_LIMIT_FINDINGS",
    "max_segment_bytes": "EGRESS_LIMIT_SEGMENT_BYTES",
    "max_anchor_hits": "EGRESS_LIMIT_ANCHOR_HITS",
    "max_int_digits": "EGRESS_LIMIT_INT_DIGITS",
}
"""The reason code of each limit (a limit's name is also its ``[egress.limits]`` key). A denial for an
incomplete scan carries ``EGRESS_SCAN_LIMIT`` and then the code of every limit that stopped it."""


class Budget:
    """What one scan has spent so far, against its :class:`ScanLimits`."""

    __slots__ = ("attempts", "decoded", "hits", "layers", "limits", "nodes", "report", "scanned")

    def __init__(self, limits: ScanLimits, report: ScanReport) -> None:
        self.limits = limits
        self.report = report
        self.scanned = 0
        self.decoded = 0
        self.attempts = 0
        self.nodes = 0
        self.layers = 0
        self.hits = 0
