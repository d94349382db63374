"""The egress scanner's speed code, kept in one place: nothing else in the distribution trades clarity for
time. Its benchmark is ``benchmarks/bench_egress.py`` (throughput on log-like and near-miss text, latency of a
200-byte argument); the scanner tests hold the behaviour (``tests/egress/``), and
``tests/egress/test_prefilter.py`` holds the prefilter to the detectors it stands in front of.

* :mod:`.prefilter` compiles every detector's anchor, every decoder's trigger and the context-gated forms
  into one RE2 pass per layer, chosen by the JSON key the value sits under, and calls the compiled RE2
  object directly. Benign text gets no Python work at all: only a match wakes a detector.
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
