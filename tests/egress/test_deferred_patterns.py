"""The detectors' patterns compiled on first use (``agent_security.egress._speedups.deferred``): each one
compiles (a malformed one fails here, not on a user's first call that wakes it), a stand-in answers as the
compiled pattern does, and a scan that meets nothing leaves most of them uncompiled."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from typing import Any

import pytest

import agent_security.egress
from agent_security.egress._speedups.deferred import compile_now, compile_on_use, deferred_patterns, is_compiled


def _egress_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(agent_security.egress.__path__, "agent_security.egress."):
        if info.name.endswith((".demo", ".cli", ".testing")):
            continue
        names.append(info.name)
    return names


def test_every_deferred_pattern_compiles() -> None:
    seen = 0
    for name in _egress_modules():
        module = importlib.import_module(name)
        for attr in deferred_patterns(vars(module)):
            value = getattr(module, attr)
            items = (
                value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else [value]
            )
            for item in items:
                compile_now(item)
                assert is_compiled(item), f"{name}.{attr}"
                seen += 1
    assert seen >= 30  # the classifiers' and validators' patterns are deferred


@pytest.mark.parametrize(
    ("pattern", "flags", "text"),
    [
        (rb"(?<![A-Za-z0-9])\d{10,11}(?![A-Za-z0-9])", 0, b"call 5551234567 or 15551234567, not x5551234567"),
        (r"pass(?:word|wd)?s?$|^pwd$", re.IGNORECASE, "PASSWORD"),
        (
            r"""^(?: \$\{[^}]*\}  # ${VAR}
             | <[^<>]*> )$""",
            re.VERBOSE,
            "${DB_PASSWORD}",
        ),
    ],
)
def test_a_stand_in_answers_as_the_compiled_pattern(pattern: Any, flags: int, text: Any) -> None:
    lazy, real = compile_on_use(pattern, flags), re.compile(pattern, flags)
    assert not is_compiled(lazy)
    assert repr(lazy).startswith("compile_on_use(")
    for start, end in ((0, len(text)), (3, len(text) - 2), (5, 5)):
        assert _spans(lazy.search(text, start, end)) == _spans(real.search(text, start, end))
        assert _spans(lazy.match(text, start, end)) == _spans(real.match(text, start, end))
        assert [m.span() for m in lazy.finditer(text, start, end)] == [
            m.span() for m in real.finditer(text, start, end)
        ]
    assert is_compiled(lazy)
    assert _spans(lazy.fullmatch(text)) == _spans(real.fullmatch(text))
    assert lazy.findall(text) == real.findall(text)
    empty = text[:0]
    assert lazy.sub(empty, text) == real.sub(empty, text)
    assert lazy.split(text) == real.split(text)
    assert (lazy.pattern, lazy.flags, lazy.groups, lazy.groupindex) == (
        real.pattern,
        real.flags,
        real.groups,
        real.groupindex,
    )


def _spans(m: Any) -> tuple[tuple[int, int], ...] | None:
    return None if m is None else tuple(m.span(i) for i in range(m.re.groups + 1))


def test_a_malformed_pattern_fails_when_compiled() -> None:
    lazy = compile_on_use(r"(unclosed")
    with pytest.raises(re.error):
        compile_now(lazy)
    with pytest.raises(re.error):
        lazy.search("x")


PROBE = """
from agent_security.egress import scan
from agent_security.egress._speedups.deferred import deferred_patterns, is_compiled
import agent_security.egress.classifiers.generic as g, agent_security.egress.classifiers.numbers as n
import agent_security.egress.classifiers.secrets as s, agent_security.egress.validators as v
scan({"command": "ls -la", "description": "List files"})
names = [(m, a) for m in (g, n, s, v) for a in deferred_patterns(vars(m))]
print(sum(1 for m, a in names if is_compiled(getattr(m, a))), len(names))
"""


def test_a_scan_that_meets_nothing_compiles_few_patterns() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
    compiled, total = int(out[0]), int(out[1])
    assert total >= 25 and compiled <= 5, (compiled, total)
