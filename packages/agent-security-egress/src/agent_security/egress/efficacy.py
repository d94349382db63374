"""Efficacy: per-kind precision and recall of the scanner on two labelled corpora, printed by
``make efficacy-dlp`` (``python -m agent_security.egress.efficacy``) and held to a floor by the tests.

* **public** (``_corpus/public.jsonl``): test material of the tools security teams already trust, each row
  citing its source: Presidio's recogniser tests (cards, IBANs, SSNs, emails, phones), gitleaks' rule tests
  (true positives in gitleaks' generated form, its false positives), detect-secrets' keyword tests; plus
  format-valid fakes of the newer kinds and negatives in the shape of real logs, code, lockfiles and config.
* **templates** (``_corpus/efficacy.jsonl``, see :mod:`agent_security.egress.testing`): positives, evasions
  and hard negatives filled with generated values.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from importlib import resources

from agent_security.egress.testing import KindScore, LabelledExample, evaluate, load_corpus

__all__ = ["FLOOR", "load_public_corpus", "main", "report"]

FLOOR = 0.9
"""Every kind's precision and recall on each corpus (the tests hold it)."""


def load_public_corpus() -> list[LabelledExample]:
    """The public corpus; each example's id names its row and source."""
    text = resources.files("agent_security.egress").joinpath("_corpus/public.jsonl").read_text("utf-8")
    out: list[LabelledExample] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        row = json.loads(line)
        ex_id = f"P{n} {row['source'].rsplit('/', 1)[-1]}"
        out.append(LabelledExample(ex_id, row["category"], row["value"], frozenset(row["expect"])))
    return out


def report(name: str, examples: list[LabelledExample], echo: Callable[[str], None] = print) -> dict[str, KindScore]:
    """Print per-kind precision/recall for ``examples``; return the scores."""
    scores = evaluate(examples)
    cats: dict[str, int] = {}
    for e in examples:
        cats[e.category] = cats.get(e.category, 0) + 1
    echo(f"{name}: {len(examples)} examples {cats}")
    echo(f"{'kind':>16} | {'tp':>4} | {'fp':>4} | {'fn':>4} | {'precision':>9} | {'recall':>6}")
    for kind, s in sorted(scores.items()):
        flag = "" if min(s.precision, s.recall) >= FLOOR else "   BELOW FLOOR"
        echo(f"{kind:>16} | {s.tp:4d} | {s.fp:4d} | {s.fn:4d} | {s.precision:9.3f} | {s.recall:6.3f}{flag}")
        for ex in [*s.misses[:3], *s.false_alarms[:3]]:
            echo(f"{'':>16}   {'missed' if ex in s.misses else 'false alarm'}: {ex}")
    echo("")
    return scores


def main() -> int:
    """Print both corpora's figures; 1 when a kind is below :data:`FLOOR`."""
    below = 0
    for name, examples in (("public corpus", load_public_corpus()), ("template corpus", load_corpus())):
        scores = report(name, examples)
        below += sum(1 for s in scores.values() if min(s.precision, s.recall) < FLOOR)
    print(f"floor {FLOOR}: " + ("every kind holds it" if not below else f"{below} kind(s) below it"))
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
