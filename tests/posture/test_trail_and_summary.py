"""Reading real trails (JSON Lines and SQLite) and what the summary makes of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from agent_security.core.models import AuditEvent
from agent_security.posture.activity import MAX_KEYS, OTHER, summarize
from agent_security.posture.trail import Position, TrailReader, detect_format, parse_event

from .conftest import HOSTILE_AGENT, TrailWriter


@pytest.mark.parametrize("name", ["trail.jsonl", "trail.db"])
def test_both_trail_formats_read_the_same_events(make_trail: Callable[..., TrailWriter], name: str) -> None:
    writer = make_trail(name, approve=True).standard()
    writer.close()
    reader = TrailReader(writer.path)
    assert reader.format == ("sqlite" if name.endswith(".db") else "jsonl")
    events = list(reader.events())
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert reader.skipped == 0
    summary = summarize(events)
    assert summary.decisions == 10
    assert summary.outcomes == {"ALLOW": 4, "DENY": 5, "REQUIRE_APPROVAL": 1}
    assert summary.denied_tools["delete_records"] == 4
    assert summary.chain_breaks == 0
    assert summary.agents["rogue-bot"].killed and summary.agents["rogue-bot"].kill_reason == "compromised"
    assert [i.incident_id for i in summary.open_incidents] == ["inc-1"]
    assert summary.human_resolutions == 1  # the approval callback answered
    assert {"kill_switch", "egress-enforcer"} <= summary.registered_plugins
    assert not any(p.endswith("_config") for p in summary.registered_plugins)


def test_positions_resume_exactly_after_an_event(standard_trail: Path) -> None:
    reader = TrailReader(standard_trail)
    read = list(reader.read())
    middle, _ = read[5]
    rest = [e.sequence for _, e in reader.read(middle)]
    assert rest == [e.sequence for _, e in read[6:]]
    assert middle.sequence == read[5][1].sequence and middle.hash == read[5][1].hash
    assert Position.from_dict(middle.as_dict()) == middle
    with pytest.raises(ValueError):
        Position.from_dict({"offset": -1, "sequence": 0, "hash": None})


def test_a_line_still_being_written_is_left_for_later_and_a_bad_line_is_skipped_and_counted(
    standard_trail: Path,
) -> None:
    lines = standard_trail.read_bytes().splitlines(keepends=True)
    standard_trail.write_bytes(lines[0] + b"not json\n" + b"".join(lines[1:]) + lines[1][:40])
    reader = TrailReader(standard_trail)
    events = list(reader.events())
    assert len(events) == len(lines)  # the torn tail is not read, the garbage line is skipped
    assert reader.skipped == 1 and ":+2: not an audit event" in reader.problems[0]


def test_unknown_fields_of_a_newer_schema_are_dropped_not_fatal() -> None:
    event = AuditEvent(kind="decision", agent_id="a", sequence=1, hash="h")
    data = json.loads(event.model_dump_json()) | {"future_field": {"x": 1}}
    assert parse_event(json.dumps(data)).agent_id == "a"
    with pytest.raises(ValueError):
        parse_event("[1, 2]")


def test_a_fifo_is_refused_instead_of_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "trail.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(OSError):
        detect_format(fifo)


def test_incidents_close_by_status_and_revive_clears_a_kill(make_trail: Callable[..., TrailWriter]) -> None:
    writer = make_trail()
    writer.call("read_file", "a")
    writer.incident("inc-1", "a", severity="critical")
    writer.incident("inc-2", "a", severity="low")
    writer.incident("inc-1", "a", status="resolved")
    writer.kill_switch.kill("a", "why")
    writer.kill_switch.revive("a")
    writer.close()
    summary = summarize(TrailReader(writer.path).events())
    assert [i.incident_id for i in summary.open_incidents] == ["inc-2"]
    assert not summary.agents["a"].killed
    assert [k.op for k in summary.recent_kills()] == ["revive", "kill"]


def test_the_summary_is_bounded_in_agents_and_time_buckets() -> None:
    from datetime import UTC, datetime, timedelta

    from agent_security.core.models import Outcome

    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = (
        AuditEvent(
            kind="decision",
            agent_id=f"agent-{i}",
            tool_name="t",
            outcome=Outcome.ALLOW,
            timestamp=start + timedelta(minutes=7 * i),
        )
        for i in range(MAX_KEYS + 50)
    )
    summary = summarize(events)
    assert len(summary.agents) == MAX_KEYS + 1 and summary.agents[OTHER].decisions == 50
    assert len(summary.timeline) <= 4096 and summary.resolution_s > 60
    series = summary.series(48)
    assert len(series) <= 48 and sum(sum(c.values()) for _, c in series) == MAX_KEYS + 50


def test_hostile_agent_ids_are_kept_verbatim_as_data(standard_trail: Path) -> None:
    summary = summarize(TrailReader(standard_trail).events())
    hostile = [a for a in summary.agents if a.startswith("evil|x=1")]
    assert hostile and "<script>" in hostile[0]
    assert HOSTILE_AGENT.startswith(hostile[0][:8])
