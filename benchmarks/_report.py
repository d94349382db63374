"""What the budget benchmarks share: the machine line, percentiles, the budget lines and the docs writer.

Every budget benchmark (``bench_pipeline.py``, ``bench_threads.py``, ``bench_memory.py``,
``bench_hook.py``) prints its figures, then one line per budget::

    budget  pipeline p50 / AGT p50            0.31x   <= 0.35x   PASS

``PASS`` / ``MISS`` (``SKIP`` when it could not be measured, ``INFO`` for a figure without a budget). A
miss never fails the run: timing depends on the machine, so budgets are reported, not enforced. When the
environment variable ``BENCH_SUMMARY`` names a file, each budget line is also appended to it (``make
bench`` prints that file at the end). ``write_docs(section, lines)`` replaces the block between
``<!-- bench:<section>:start -->`` and ``<!-- bench:<section>:end -->`` in ``docs/benchmarks.md``.

Nothing here imports ``agent_security``.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def machine() -> str:
    """One line describing where the figures were measured, with the load average when it is known (a
    machine shared with other work moves every figure, the thread ratio most)."""
    try:
        load = f", load average {os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):
        load = ""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()}{load}"
    )


def today() -> str:
    return time.strftime("%Y-%m-%d")


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of an already sorted list, nearest rank."""
    return sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]


@dataclass(frozen=True)
class Budget:
    """One budget line: ``measured`` against ``limit`` (``at_most``: measured must not exceed it)."""

    name: str
    measured: float | None
    limit: float | None
    unit: str = ""
    at_most: bool = True
    digits: int = 2

    @property
    def status(self) -> str:
        if self.measured is None:
            return "SKIP"
        if self.limit is None:
            return "INFO"
        ok = self.measured <= self.limit if self.at_most else self.measured >= self.limit
        return "PASS" if ok else "MISS"

    def _fmt(self, value: float | None) -> str:
        return "-" if value is None else f"{value:,.{self.digits}f}{self.unit}"

    @property
    def target(self) -> str:
        if self.limit is None:
            return "-"
        return ("<= " if self.at_most else ">= ") + self._fmt(self.limit)

    def line(self) -> str:
        return f"budget  {self.name:<44} {self._fmt(self.measured):>12}  {self.target:>12}  {self.status}"

    def row(self) -> str:
        """The same as a Markdown table row (``| budget | measured | target | status |``)."""
        return f"| {self.name} | {self._fmt(self.measured)} | {self.target} | {self.status} |"


BUDGET_HEADER = ["| budget | measured | target | status |", "|---|---|---|---|"]


def report(budgets: list[Budget]) -> None:
    """Print the budget lines (and append them to ``$BENCH_SUMMARY`` when set)."""
    lines = [b.line() for b in budgets]
    for ln in lines:
        print(ln)
    summary = os.environ.get("BENCH_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


def write_docs(section: str, lines: list[str], path: Path = DOCS) -> None:
    """Replace the ``section`` block of ``docs/benchmarks.md`` with ``lines`` (appended when absent)."""
    start, end = f"<!-- bench:{section}:start -->", f"<!-- bench:{section}:end -->"
    block = "\n".join([start, "", *lines, "", end])
    text = path.read_text(encoding="utf-8")
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    print(f"wrote the {section} figures to {path}")
