"""Plain-text tables and a progress bar for the demos (the core depends on no table library).

:class:`Table` aligns columns and wraps long cells; :func:`progress` draws a bar on stdout only when it is
a terminal, so logs and CI output stay clean.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["Table", "is_tty", "progress"]

T = TypeVar("T")


def is_tty(stream: Any) -> bool:
    return bool(getattr(stream, "isatty", None)) and bool(stream.isatty())


class Table:
    """Rows of text under headers; ``widths`` caps a column (its cells wrap), ``None`` fits the content."""

    def __init__(self, headers: Sequence[str], widths: Sequence[int | None] | None = None, title: str = "") -> None:
        self.headers = list(headers)
        self.widths = list(widths) if widths is not None else [None] * len(self.headers)
        self.title = title
        self.rows: list[list[str]] = []

    def add(self, *cells: object) -> None:
        if len(cells) != len(self.headers):
            raise ValueError(f"a row needs {len(self.headers)} cells, got {len(cells)}")
        self.rows.append([str(c) for c in cells])

    def _column_widths(self) -> list[int]:
        out = []
        for i, header in enumerate(self.headers):
            natural = max([len(header), *(len(r[i]) for r in self.rows)])
            cap = self.widths[i]
            out.append(min(natural, cap) if cap else natural)
        return out

    def lines(self) -> list[str]:
        widths = self._column_widths()
        out = [self.title] if self.title else []
        out.append("  ".join(h.ljust(w) for h, w in zip(self.headers, widths, strict=True)).rstrip())
        out.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            wrapped = [textwrap.wrap(cell, w) or [""] for cell, w in zip(row, widths, strict=True)]
            for n in range(max(len(c) for c in wrapped)):
                parts = [(c[n] if n < len(c) else "").ljust(w) for c, w in zip(wrapped, widths, strict=True)]
                out.append("  ".join(parts).rstrip())
        return out

    def render(self, stream: Any = None) -> None:
        stream = stream or sys.stdout
        for line in self.lines():
            print(line, file=stream)


def progress(items: Iterable[T], label: str, total: int | None = None, stream: Any = None) -> Iterator[T]:
    """Yield ``items``, drawing ``label [####    ] i/n`` on ``stream`` (stdout) when it is a terminal."""
    stream = stream or sys.stdout
    seq = list(items)
    total = total or len(seq)
    draw = is_tty(stream) and total > 0 and os.environ.get("TERM") != "dumb"
    for i, item in enumerate(seq):
        if draw:
            filled = 30 * i // total
            stream.write(f"\r{label} [{'#' * filled}{' ' * (30 - filled)}] {i}/{total}")
            stream.flush()
        yield item
    if draw:
        stream.write("\r" + " " * (len(label) + 45) + "\r")
        stream.flush()
