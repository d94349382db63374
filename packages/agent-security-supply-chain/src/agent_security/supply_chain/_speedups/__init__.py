"""The supply-chain guard's speed code, kept in one place: nothing else in the distribution trades clarity
for time. Its benchmark is the default-install line of ``benchmarks/bench_pipeline.py`` (and
``benchmarks/bench_supply_chain.py``); the governor and guard tests hold the behaviour
(``tests/supply_chain/``), and ``tests/supply_chain/test_speedups.py`` holds the speed code to the general
path.

* :mod:`.verdicts` remembers the governor's verdict on a command line together with what the filesystem
  answered while it was reached (the symlinks its paths resolved through), and hands it back only while
  those answers are unchanged;
* :mod:`.calls` tells, from the argument names alone, a call that carries no command (what a tool's names and
  action type say about it is remembered by the guard itself, ``guard._tool_facts``, a plain memo).
"""

from __future__ import annotations
