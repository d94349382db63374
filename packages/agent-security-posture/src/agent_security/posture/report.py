"""``PostureReport``: inventory, risk and compliance of a deployment from its audit trail and registries.

``PostureReport.from_trail(path, now=...)`` reads the trail once (JSON Lines or SQLite), verifies its
hash chain with the core's verifier (``verify=True``, the default for a file), and builds everything.
``as_dict()`` / ``to_json()`` for machines, ``to_html()`` for people (a self-contained page: inline CSS
and SVG, no script, no network asset).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_security.core.models import AuditEvent
from agent_security.posture.activity import TrailSummary, summarize
from agent_security.posture.compliance import ComplianceFacts, ComplianceMapper, ComplianceReport
from agent_security.posture.inventory import PostureInventory
from agent_security.posture.risk import FleetRiskScore, RiskScorer
from agent_security.posture.trail import StreamReader, TrailReader, is_stream

__all__ = ["PostureReport"]


@dataclass
class PostureReport:
    generated_at: datetime
    summary: TrailSummary
    inventory: PostureInventory
    fleet: FleetRiskScore
    compliance: list[ComplianceReport]
    source: str = ""
    verified: bool | None = None
    problems: list[str] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        events: Iterable[AuditEvent],
        *,
        now: datetime | None = None,
        agent_registry: Any = None,
        tool_registry: Any = None,
        frameworks: Iterable[str] | None = None,
        verify_report: Any = None,
        source: str = "",
        kill_state: Any = None,
    ) -> PostureReport:
        """``kill_state``: the kill switch's current state (``KillSwitch.get_state()``), authoritative over
        the trail for which agents are stopped now."""
        now = now or datetime.now(UTC)
        summary = summarize(events)
        if kill_state is not None:
            summary.apply_kill_state(dict(kill_state.killed_agents), bool(kill_state.global_kill))
        inventory = PostureInventory.build(
            agent_registry=agent_registry, tool_registry=tool_registry, summary=summary, now=lambda: now
        )
        fleet = RiskScorer(summary).score_fleet(inventory.get_all())
        facts = ComplianceFacts.gather(summary, inventory, fleet, verify_report)
        mapper = ComplianceMapper(facts, now=now)
        reports = [mapper.generate_report(f) for f in frameworks] if frameworks else mapper.generate_all()
        return cls(now, summary, inventory, fleet, reports, source, facts.verified)

    @classmethod
    def from_trail(
        cls,
        path: str | os.PathLike[str],
        *,
        verify: bool = True,
        public_keys: Iterable[Any] | None = None,
        namespace: str | None = None,
        **kwargs: Any,
    ) -> PostureReport:
        """From a trail file, or a fleet's Redis audit stream by its URL (``namespace=``: its writers'
        ``store_namespace``). ``verify`` runs the core's chain verification on a file (record keeping is
        ``met`` only when it passes; a stream interleaves each process's chain and is verified at each
        process's own trail, so its report is never ``verified``); what is not an event is skipped and
        listed in ``problems``."""
        reader: TrailReader | StreamReader
        verify_report = None
        if is_stream(path):
            reader = StreamReader(str(path), namespace=namespace)
            report = cls.build(reader.events(), verify_report=None, source=reader.path, **kwargs)
            report.problems = list(reader.problems)
            return report
        reader = TrailReader(Path(path))
        if verify:
            from agent_security.core.audit import verify_file

            verify_report = verify_file(path, list(public_keys) if public_keys else None)
        report = cls.build(reader.events(), verify_report=verify_report, source=str(path), **kwargs)
        report.problems = list(reader.problems)
        return report

    def as_dict(self) -> dict[str, Any]:
        s = self.summary
        return {
            "generated_at": self.generated_at.isoformat(),
            "source": self.source,
            "trail": {
                "events": s.events,
                "first": s.first.isoformat() if s.first else None,
                "last": s.last.isoformat() if s.last else None,
                "verified": self.verified,
                "chain_breaks": s.chain_breaks,
                "kinds": dict(s.kinds),
                "outcomes": dict(s.outcomes),
                "skipped": self.problems,
            },
            "inventory": {
                "summary": self.inventory.summary(),
                "items": [i.as_dict() for i in self.inventory.get_all()],
            },
            "risk": self.fleet.as_dict(),
            "top_denied_tools": [{"tool_name": t, "denied": n} for t, n in s.top_denied_tools()],
            "open_incidents": [i.as_dict() for i in s.open_incidents],
            "recent_kills": [
                {
                    "op": k.op,
                    "agent_id": k.agent_id,
                    "reason": k.reason,
                    "timestamp": k.timestamp.isoformat(),
                    "event_id": k.event_id,
                }
                for k in s.recent_kills()
            ],
            "decisions_over_time": [{"start": start.isoformat(), **dict(counts)} for start, counts in s.series()],
            "compliance": [r.as_dict() for r in self.compliance],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent)

    def to_html(self, title: str = "Agent security posture") -> str:
        from agent_security.posture.html import render_html

        return render_html(self, title)
