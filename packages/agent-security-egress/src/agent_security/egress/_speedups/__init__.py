"""The egress scanner's speed code, kept in one place: nothing else in the distribution trades clarity for
time. Its benchmark is ``benchmarks/bench_egress.py`` (throughput on log-like and near-miss text, latency of a
200-byte argument); the scanner tests hold the behaviour (``tests/egress/``), and
``tests/egress/test_prefilter.py`` holds the prefilter to the detectors it stands in front of.

* :mod:`.prefilter` compiles every detector's anchor, every decoder's trigger and the context-gated forms
  into one RE2 pass per layer, chosen by the JSON key the value sits under, and calls the compiled RE2
  object directly. Benign text gets no Python work at all: only a match wakes a detector.
* :mod:`.flat` scans the usual tool argument (a flat dict of short keys and string, number, boolean or null
  values) without the general walk: one search over its values joined with a separator finds each value's
  first match and whether a match spans two fields; and it holds the enforcer's one-search gate
  (``tests/egress/test_speedups_flat.py`` holds both to the general walk).
* :mod:`.records` builds findings without the frozen dataclass's ``__init__``.
"""

from __future__ import annotations

from agent_security.egress._speedups.prefilter import (
    B64_TEXT,
    GATE,
    HEX_TEXT,
    AnchorGroup,
    CombinedPass,
    Passes,
    Prefilter,
    compile_pass,
)

__all__ = ["B64_TEXT", "GATE", "HEX_TEXT", "AnchorGroup", "CombinedPass", "Passes", "Prefilter", "compile_pass"]
