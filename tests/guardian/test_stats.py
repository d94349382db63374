"""The incremental statistics held against brute-force references (property tests)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.guardian.config import BaselineConfig
from agent_security.guardian.state import AgentState
from agent_security.guardian.stats import BUCKETS, Rate, SequenceProgress, SequenceSet

WINDOW = 60.0
BUCKET = WINDOW / BUCKETS
gaps = st.lists(st.floats(min_value=0, max_value=40, allow_nan=False), min_size=1, max_size=200)


@settings(max_examples=200, deadline=None)
@given(gaps)
def test_window_count_is_never_above_the_exact_count_and_never_misses_a_recent_call(steps: list[float]) -> None:
    rate, cfg = Rate(), BaselineConfig()
    times: list[float] = []
    t = 1_000_000.0
    for step in steps:
        t += step
        times.append(t)
        upper = rate.tick(int(t / BUCKET), int(t / 60), cfg)
        counted = rate.exact()
        assert upper >= counted
        in_window = sum(1 for x in times if t - x < WINDOW)
        recent = sum(1 for x in times if t - x < WINDOW - BUCKET)
        assert recent <= counted <= in_window


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=60))
def test_baseline_is_an_ewma_of_interval_counts(counts: list[int]) -> None:
    cfg = BaselineConfig(alpha=0.2, warmup_intervals=30, z=3, min_count=1)
    rate = Rate()
    for interval, n in enumerate(counts):
        for _ in range(n):
            rate.tick(interval * 100, interval, cfg)
    rate.tick(len(counts) * 100, len(counts), cfg)  # closes the last interval
    mean = var = 0.0
    first = next((i for i, c in enumerate(counts) if c), len(counts))
    seen = counts[first:]  # from the agent's first call; silent intervals after it count as zero
    for i, x in enumerate(seen):
        if i == 0:
            mean = float(x)
        else:
            diff = x - mean
            mean += 0.2 * diff
            var = 0.8 * (var + diff * 0.2 * diff)
    assert abs(rate.mean - mean) < 1e-6 and abs(rate.var - var) < 1e-6
    assert rate.n == len(seen)
    if rate.n >= 30:
        assert abs(rate.limit - max(1.0, mean + 3 * var**0.5)) < 1e-6
    else:
        assert rate.limit == float("inf")  # still warming up


tools = st.sampled_from(["a", "b", "c"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(tools, st.floats(min_value=0, max_value=50, allow_nan=False)), max_size=60))
def test_two_step_sequence_is_sound_and_complete(calls: list[tuple[str, float]]) -> None:
    seqs = SequenceSet((("a", "c"),))
    prog = SequenceProgress()
    t = 0.0
    stamped: list[tuple[str, float, str]] = []
    reported = []
    for i, (tool, step) in enumerate(calls):
        t += step
        stamped.append((tool, t, f"e{i}"))
        for _, (start, ids) in prog.advance(seqs, seqs.relevant(tool), tool, t, f"e{i}", 100.0):
            reported.append((start, ids))
    by_id = {eid: (tool, ts) for tool, ts, eid in stamped}
    for start, ids in reported:  # sound: an a, then a later c, within the window
        (t0, a), (t1, c) = (by_id[ids[0]][1], by_id[ids[0]][0]), (by_id[ids[1]][1], by_id[ids[1]][0])
        assert a == "a" and c == "c" and t0 == start and 0 <= t1 - t0 <= 100
        assert int(ids[0][1:]) < int(ids[1][1:])
    exists = any(
        x[0] == "a" and y[0] == "c" and 0 <= y[1] - x[1] <= 100 and i < j
        for i, x in enumerate(stamped)
        for j, y in enumerate(stamped)
    )
    assert bool(reported) == exists  # complete: a match that exists is reported


def test_state_round_trips_through_json() -> None:
    import json

    seqs = SequenceSet((("a", "*", "c"),))
    state = AgentState("bot", 5.0, evidence=4)
    cfg = BaselineConfig()
    pair = state.add_tool("a", 4, 10)
    for i in range(50):
        pair.tick(i, i // 4, cfg)
        state.volume.tick(i, i // 4, cfg)
    state.seq.advance(seqs, seqs.relevant("a"), "a", 10.0, "e1", 600)
    data = json.loads(json.dumps(state.dump(seqs)))
    again = AgentState.load("bot", data, seqs, evidence=4, max_tools=10)
    assert again.dump(seqs) == state.dump(seqs)
    assert again.pairs["a"].exact() == pair.exact() and again.pairs["a"].limit == pair.limit
