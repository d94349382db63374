"""A prefilter pass compiles what tells which of its alternatives matched (an RE2 set and a capturing
alternation) when a match first needs it: a value that matches nothing (a hook's one cold call, most of
the time) does not pay for them, and a match still names the right alternative, from any thread."""

from __future__ import annotations

import threading

import pytest
import re2

from agent_security.egress import scan
from agent_security.egress._speedups.prefilter import AnchorGroup, compile_pass


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real_set = re2.Set.FullMatchSet

    def counting_set(*args: object) -> object:
        calls.append("set")
        return real_set(*args)

    monkeypatch.setattr(re2.Set, "FullMatchSet", counting_set)
    return calls


def test_a_built_in_pass_compiles_its_resolver_at_the_first_match_only(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _compiles(monkeypatch)
    groups = [AnchorGroup(decoder="a"), AnchorGroup(decoder="b"), AnchorGroup(decoder="c")]
    combined = compile_pass([("foo[0-9]+", groups[0]), ("bar", groups[1]), ("ba[rz]!", groups[2])], check=False)
    assert calls == []
    data = b"nothing to see here"
    assert combined.search(data, 0, len(data)) is None
    assert calls == []  # no match: never compiled
    data = b"x foo12 bar baz!"
    assert combined.search(data, 0, len(data))[2] == 1  # type: ignore[index]
    assert combined.search(data, 8, len(data))[2] == 2  # type: ignore[index]
    assert combined.search(data, 11, len(data))[2] == 3  # type: ignore[index]
    assert calls == ["set"]  # compiled once


def test_a_custom_pass_still_compiles_everything_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _compiles(monkeypatch)
    compile_pass([("foo", AnchorGroup()), ("bar", AnchorGroup())], check=True)
    assert calls == ["set"]  # a custom anchor's failure is a configuration error at start, not at a scan


def test_concurrent_first_matches_agree() -> None:
    combined = compile_pass([("a+b", AnchorGroup()), ("c+d", AnchorGroup())], check=False)
    data = b"zz cccd aab"
    results: list[object] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        barrier.wait()
        results.append(combined.search(data, 0, len(data)))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [(3, 7, 2)] * 8


def test_a_fresh_scanner_still_finds_and_names_each_kind() -> None:
    text = "Dear John, your SSN is 123-45-6789 and your email is john@example.com, card 4111 1111 1111 1111"
    assert {"ssn", "email", "credit_card"} <= {f.kind for f in scan(text)}
