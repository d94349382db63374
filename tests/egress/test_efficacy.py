"""The labelled corpora hold a floor: precision and recall >= 0.95 for every kind on the template corpus, and
>= ``efficacy.FLOOR`` on the public one (Presidio's, gitleaks' and detect-secrets' test material, each row
citing its source, plus format-valid fakes and negatives in the shape of real logs and code)."""

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


def test_public_corpus_cites_its_sources_and_holds_the_floor() -> None:
    import json
    from importlib import resources

    from agent_security.egress.efficacy import FLOOR, load_public_corpus

    text = resources.files("agent_security.egress").joinpath("_corpus/public.jsonl").read_text("utf-8")
    rows = [json.loads(ln) for ln in text.splitlines() if ln.strip() and not ln.startswith("//")]
    sources = {r["source"] for r in rows}
    assert all(r["source"] for r in rows)
    for tool in ("microsoft/presidio", "gitleaks/gitleaks", "Yelp/detect-secrets"):
        assert any(tool in s and s.startswith("https://github.com/") for s in sources), tool
    examples = load_public_corpus()
    assert sum(1 for e in examples if e.category == "hard_negative") >= 50
    scores = evaluate(examples)
    low = {k: (s.precision, s.recall, s.misses[:3], s.false_alarms[:3]) for k, s in scores.items()
           if min(s.precision, s.recall) < FLOOR}  # fmt: skip
    assert not low


def test_make_efficacy_dlp_prints_every_kind() -> None:
    from agent_security.egress.efficacy import load_public_corpus, report

    lines: list[str] = []
    report("public corpus", load_public_corpus(), lines.append)
    assert any("generic_secret" in ln for ln in lines) and any("iban" in ln for ln in lines)
