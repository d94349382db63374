"""Rich tables and a progress bar (drawn only when stdout is a terminal) for the posture demos."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

__all__ = ["make_table", "posture_tables", "steps", "wide_console"]

T = TypeVar("T")


def wide_console() -> Console:
    """The terminal's console; 120 columns when the output is a file or a pipe (rich's default is 80)."""
    console = Console()
    return console if console.is_terminal else Console(width=120)


def make_table(title: str, headers: Sequence[str]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def steps(console: Console, items: Iterable[T], label: str) -> Iterator[T]:
    """Yield ``items`` under a progress bar when the console is a terminal; silently otherwise."""
    seq = list(items)
    if not console.is_terminal:
        yield from seq
        return
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(label, total=len(seq))
        for item in seq:
            yield item
            bar.advance(task)


def posture_tables(report: Any, originals: dict[str, str] | None = None) -> list[Table]:
    """The risk scores and the compliance summary of a :class:`~agent_security.posture.PostureReport`;
    ``originals`` (agent id, ``"fleet"`` or a framework -> text) adds the original's figure beside ours."""
    originals = originals or {}
    fleet = report.fleet
    risk = make_table("Risk scores (from the registry and the demo's audit trail)",
                      ["agent", "score", "level", "factors", "original"])  # fmt: skip
    for score in fleet.agent_scores:
        factors = ", ".join(f"{f.factor} {f.impact:+d}" for f in score.factors)
        risk.add_row(score.item_id, str(score.score), score.level, factors, originals.get(score.item_id, ""))
    risk.add_row("fleet", str(fleet.overall_score), fleet.level, f"mean agent score {fleet.mean_agent_score}",
                 originals.get("fleet", ""))  # fmt: skip
    compliance = make_table("Compliance summary (evidence: the same trail, its hash chain verified)",
                            ["framework", "score", "met", "partial", "not met", "original"])  # fmt: skip
    for rep in report.compliance:
        s = rep.summary
        compliance.add_row(rep.title, f"{rep.compliance_score}%", str(s.get("met", 0)), str(s.get("partial", 0)),
                           str(s.get("not_met", 0)), originals.get(rep.framework, ""))  # fmt: skip
    return [risk, compliance]
