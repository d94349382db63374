"""The labelled corpus holds a floor: precision and recall >= 0.95 for every kind."""

from __future__ import annotations

from agent_security.egress import DEFAULT_CLASSIFIERS
from agent_security.egress.testing import evaluate, load_corpus

FLOOR = 0.95


def test_corpus_covers_every_kind_and_every_category() -> None:
    examples = load_corpus()
    cats = {e.category for e in examples}
    assert cats == {"positive", "hard_negative", "evasion"}
    positives: dict[str, int] = {}
    for e in examples:
        for k in e.expect:
            positives[k] = positives.get(k, 0) + 1
    for c in DEFAULT_CLASSIFIERS:
        assert positives.get(c.kind, 0) >= 5, c.kind
    assert sum(1 for e in examples if e.category == "hard_negative") >= 40


def test_precision_and_recall_floor_per_kind() -> None:
    scores = evaluate(load_corpus())
    low = {
        k: (round(s.precision, 3), round(s.recall, 3), s.misses[:5], s.false_alarms[:5])
        for k, s in scores.items()
        if s.precision < FLOOR or s.recall < FLOOR
    }
    assert not low
    assert {c.kind for c in DEFAULT_CLASSIFIERS} <= set(scores)


def test_hard_negatives_are_clean_and_evasions_found() -> None:
    examples = load_corpus()
    from agent_security.egress import scan

    noisy = [e.id for e in examples if e.category == "hard_negative" and scan(e.value)]
    assert not noisy
    missed = [e.id for e in examples if e.category == "evasion" and not e.expect <= {f.kind for f in scan(e.value)}]
    assert not missed
