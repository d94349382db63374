"""``agent-security audit export`` and ``agent-security posture`` through the real CLI, and OpenTelemetry
log export through the real SDK."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_security.core.cli import build_cli
from agent_security.posture.trail import TrailReader

from .conftest import HOSTILE_AGENT, TrailWriter


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_cli(), list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", ["cef", "leef", "ocsf", "syslog", "jsonl", "csv", "json"])
def test_export_every_format(standard_trail: Path, fmt: str) -> None:
    code, out, err = _run("audit", "export", str(standard_trail), "--format", fmt)
    assert code == 0, err
    events = list(TrailReader(standard_trail).events())
    if fmt == "json":
        assert len(json.loads(out)) == len(events)
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert len(rows) == len(events) + 1
    else:
        assert len(out.splitlines()) == len(events)
    if fmt == "ocsf":
        classes = [json.loads(line)["class_uid"] for line in out.splitlines()]
        assert classes.count(2004) == 1 and classes.count(6003) == len(events) - 1


def test_export_filters_and_writes_a_file(standard_trail: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.cef"
    code, _, err = _run(
        "audit",
        "export",
        str(standard_trail),
        "--format",
        "cef",
        "-o",
        str(target),
        "--kind",
        "guardian.",
        "--kind",
        "kill_switch.kill",
    )
    assert code == 0 and "2 event(s) written" in err
    lines = target.read_text().splitlines()
    assert [line.split("|")[4] for line in lines] == ["guardian.incident", "kill_switch.kill"]
    code, out, _ = _run("audit", "export", str(standard_trail), "--since-sequence", "12")
    assert [json.loads(line)["sequence"] for line in out.splitlines()] == [13, 14, 15]


def test_export_reports_lines_it_skipped_and_unreadable_trails(standard_trail: Path, tmp_path: Path) -> None:
    with standard_trail.open("a") as fh:
        fh.write("garbage\n")
    code, out, err = _run("audit", "export", str(standard_trail))
    assert code == 1 and "not audit events" in err and len(out.splitlines()) == 15
    code, _, err = _run("audit", "export", str(tmp_path / "missing.jsonl"))
    assert code == 2 and err.startswith("error: cannot read the trail")
    code, _, err = _run("--config", str(tmp_path / "none.toml"), "audit", "export")
    assert code == 2 and "error:" in err


def test_export_reads_the_configured_trail(standard_trail: Path, tmp_path: Path) -> None:
    config = tmp_path / "agent-security.toml"
    config.write_text(f'[core.audit]\njsonl_path = "{standard_trail}"\n')
    code, out, _ = _run("--config", str(config), "audit", "export", "--format", "jsonl")
    assert code == 0 and len(out.splitlines()) == 15


def test_posture_dashboard_json_html_and_ocsf(standard_trail: Path, tmp_path: Path) -> None:
    html, ocsf = tmp_path / "r.html", tmp_path / "c.ocsf.jsonl"
    code, out, err = _run("posture", str(standard_trail), "--html", str(html), "--ocsf", str(ocsf))
    assert code == 0, err
    for heading in (
        "Fleet risk 100 critical",
        "Agents by risk",
        "Open incidents",
        "Top denied tools",
        "Recent kills",
        "delete_records",
        "compromised",
        "frequency_spike",
        "chain verified",
    ):
        assert heading in out, heading
    assert "\x1b" not in out
    assert html.read_text().startswith("<!DOCTYPE html>")
    findings = [json.loads(line) for line in ocsf.read_text().splitlines()]
    assert {f["class_uid"] for f in findings} == {2003} and len(findings) == 7 + 5 + 10 + 9
    code, out, _ = _run("posture", str(standard_trail), "--json", "-", "--framework", "owasp_agentic")
    data = json.loads(out)
    assert code == 0 and [c["framework"] for c in data["compliance"]] == ["owasp_agentic"]


def test_the_dashboard_shows_hostile_text_as_text(make_trail: Callable[..., TrailWriter]) -> None:
    writer = make_trail()
    writer.call("read_file", "[bold red]markup[/] \x1b[2Jbot")
    writer.incident("inc-9", "x", description="\x1b]0;title\x07 [link=http://evil]click[/link]")
    writer.close()
    code, out, _ = _run("posture", str(writer.path), "--rows", "50")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "[bold red]markup[/]" in out  # rich markup in an agent id is shown, not applied
    assert "[link=http://evil" in out and "\\x1b]0;title\\x07" in out  # control characters shown escaped


def test_posture_reads_the_registries_from_a_registry_file(standard_trail: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry.yaml"
    registry.write_text(
        "version: 1\nagents:\n  - agent_id: finance-bot\n    trust_level: privileged\n    environment: prod\n"
        "    owner: fin@example.com\ntools:\n  - tool_name: query_customer_db\n    permissions_required: [db.read]\n"
    )
    code, out, err = _run("posture", str(standard_trail), "--registry", str(registry), "--json", "-")
    assert code == 0, err
    data = json.loads(out)
    finance = next(s for s in data["risk"]["agent_scores"] if s["item_id"] == "finance-bot")
    assert [f["factor"] for f in finance["factors"]] == ["production"]
    code, _, err = _run("posture", str(standard_trail), "--registry", str(tmp_path / "nope.yaml"))
    assert code == 2 and "cannot read the registries" in err


def test_posture_exits_1_on_a_tampered_trail(standard_trail: Path) -> None:
    text = standard_trail.read_text().replace('"rogue-bot"', '"angel-bot"', 1)
    standard_trail.write_text(text)
    code, out, _ = _run("posture", str(standard_trail))
    assert code == 1 and "CHAIN VERIFICATION FAILED" in out


def test_opentelemetry_log_records_from_the_trail_and_live(standard_trail: Path) -> None:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    from agent_security.core.pipeline.facade import AgentSecurity
    from agent_security.posture.otel import OtelLogExporter

    memory = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    exporter = OtelLogExporter(provider)
    events = list(TrailReader(standard_trail).events())
    assert exporter.export(events) == len(events)
    records = [r.log_record for r in memory.get_finished_logs()]
    assert len(records) == len(events)
    deny = next(r for r in records if r.attributes and r.attributes.get("agent_security.tool_name") == "delete_records")
    attributes = dict(deny.attributes or {})
    assert attributes["agent_security.outcome"] == "DENY"
    assert list(attributes["agent_security.reason_codes"]) == ["DENY_DELETE"]  # type: ignore[arg-type]
    assert deny.severity_text == "WARN" and json.loads(str(deny.body))["agent_id"] == "rogue-bot"
    first_deny = next(e for e in events if e.tool_name == "delete_records")
    assert deny.timestamp == int(first_deny.timestamp.timestamp() * 1_000_000_000)
    memory.clear()
    security = AgentSecurity(plugins=[OtelLogExporter(provider)])
    security.check_tool_call(tool_name="read_file", agent_id=HOSTILE_AGENT)
    live = [r.log_record for r in memory.get_finished_logs()]
    assert any(r.attributes and r.attributes.get("agent_security.kind") == "decision" for r in live)
    security.shutdown()


def test_posture_reads_who_is_stopped_now_and_the_registries_from_a_store(standard_trail: Path, tmp_path: Path) -> None:
    from agent_security.core.builtin import kill_switch
    from agent_security.core.store import open_store
    from agent_security.identity.registry import AgentRegistry

    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = open_store(url)
    AgentRegistry(store=store).register(
        agent_id="rogue-bot", trust_level="basic", environment="prod", owner="sec@example.com"
    )
    switch = kill_switch(store=store)
    switch.revive("rogue-bot")  # the trail says rogue-bot was killed; the store says it is back
    switch.kill("finance-bot", "leaked key")
    store.close()
    code, out, err = _run("posture", str(standard_trail), "--store", url, "--json", "-")
    assert code == 0, err
    data = json.loads(out)
    factors = {s["item_id"]: [f["factor"] for f in s["factors"]] for s in data["risk"]["agent_scores"]}
    assert "killed" in factors["finance-bot"] and "killed" not in factors["rogue-bot"]
    assert "unregistered" not in factors["rogue-bot"] and "unregistered" in factors["finance-bot"]
    code, _, err = _run("posture", str(standard_trail), "--store", "bogus://x")
    assert code == 2 and "cannot read the store" in err


def test_an_empty_trail_gives_an_empty_posture_not_an_error(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from agent_security.posture.report import PostureReport

    report = PostureReport.build([], now=datetime(2026, 6, 1, tzinfo=UTC))
    html = report.to_html()
    assert "No decision in the trail." in html and "No open incident." in html
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, out, err = _run("posture", str(empty), "--no-verify")
    assert code == 0, err
    assert "Fleet risk 0 low" in out and "no event" in out
