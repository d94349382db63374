"""OCSF (Open Cybersecurity Schema Framework) objects for audit events and compliance results.

* A tool-call decision is **API Activity** (``class_uid`` 6003, category 6), with the ``ai_operation``
  profile; the verdict is an authorization of the actor: ``actor.authorizations[] = {decision, policy}``.
  The activity is read from the tool's name (``read``/``get``/``list`` ... Read, ``create``/``send`` ...
  Create, ``update``/``set`` ... Update, ``delete``/``remove`` ... Delete, else Unknown). The draft "AI Agent
  Activity" class (6009) is not released, so it is not used.
* A guardian incident is a **Detection Finding** (2004, category 2).
* A compliance control is a **Compliance Finding** (2003, category 2).
* Any other event (lifecycle, kill switch, errors) is API Activity ``Other`` (99) with its kind as the
  activity name, so a SIEM still receives it in one class.

``type_uid = class_uid * 100 + activity_id``; times are milliseconds since the epoch; ``metadata.uid`` is
the audit event id and ``metadata.correlation_uid`` the request id.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

from agent_security.core.models import APPROVAL_LIKE, AuditEvent, Outcome
from agent_security.posture.compliance.mapper import ComplianceControl, ComplianceReport
from agent_security.posture.soc.cef import PRODUCT, VENDOR, VERSION
from agent_security.posture.soc.severity import ocsf_severity_id

__all__ = ["OCSF_VERSION", "compliance_findings", "to_ocsf"]

OCSF_VERSION = "1.7.0"
_SEVERITY = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
_ACTIVITIES = (
    (4, "Delete", re.compile(r"(^|[_.\-])(delete|remove|rm|drop|destroy|purge)")),
    (3, "Update", re.compile(r"(^|[_.\-])(update|set|edit|modify|patch|put|write|rename|move)")),
    (1, "Create", re.compile(r"(^|[_.\-])(create|add|insert|send|post|new|make|upload|trigger|deploy|run|exec)")),
    (2, "Read", re.compile(r"(^|[_.\-])(read|get|list|query|search|fetch|find|describe|show|view|download)")),
)
_DECISION = {
    Outcome.ALLOW: "allow",
    Outcome.DENY: "deny",
    Outcome.REQUIRE_APPROVAL: "require_approval",
    Outcome.STEP_UP: "step_up",
    Outcome.REQUIRE_TICKET: "require_ticket",
    Outcome.REQUIRE_HUMAN: "require_human",
}


def _ms(when: datetime) -> int:
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)


def _metadata(event: AuditEvent, profiles: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "version": OCSF_VERSION,
        "product": {"name": PRODUCT, "vendor_name": VENDOR, "version": VERSION},
        "uid": event.event_id,
        "log_name": "agent-security audit trail",
        "sequence": event.sequence,
        "profiles": profiles,
        "event_code": event.kind,
    }
    if event.request_id:
        meta["correlation_uid"] = event.request_id
    return meta


@functools.lru_cache(maxsize=4096)
def _activity(tool: str) -> tuple[int, str]:
    name = tool.lower()
    for uid, label, pattern in _ACTIVITIES:
        if pattern.search(name):
            return uid, label
    return 0, "Unknown"


def _base(event: AuditEvent, class_uid: int, category_uid: int, activity_id: int, activity: str) -> dict[str, Any]:
    sev = ocsf_severity_id(event)
    return {
        "class_uid": class_uid,
        "category_uid": category_uid,
        "activity_id": activity_id,
        "activity_name": activity,
        "type_uid": class_uid * 100 + activity_id,
        "time": _ms(event.timestamp),
        "severity_id": sev,
        "severity": _SEVERITY[sev],
    }


def _api_activity(event: AuditEvent) -> dict[str, Any]:
    if event.kind == "decision" and event.tool_name:
        activity_id, activity = _activity(event.tool_name)
    else:
        activity_id, activity = 99, event.kind
    out = _base(event, 6003, 6, activity_id, activity)
    out["class_name"], out["category_name"] = "API Activity", "Application Activity"
    out["metadata"] = _metadata(event, ["ai_operation"])
    actor: dict[str, Any] = {"app_name": event.plugin_source or PRODUCT}
    if event.agent_id:
        actor["user"] = {"uid": event.agent_id, "name": event.agent_id, "type": "Other", "type_id": 99}
    if event.outcome is not None:
        actor["authorizations"] = [
            {
                "decision": _DECISION.get(event.outcome, event.outcome.value.lower()),
                "policy": {
                    "name": ",".join(r.code for r in event.reasons) or "default",
                    "uid": event.reasons[0].code if event.reasons else "default",
                    "version": str(event.data.get("policy_version", "")) or None,
                    "desc": "; ".join(r.message for r in event.reasons if r.message) or None,
                },
            }
        ]
    out["actor"] = actor
    api: dict[str, Any] = {"operation": event.tool_name or event.kind, "service": {"name": PRODUCT}}
    if event.request_id:
        api["request"] = {"uid": event.request_id}
    out["api"] = api
    out["src_endpoint"] = {"name": event.environment} if event.environment else {}
    if event.outcome is None:
        out["status_id"], out["status"] = 0, "Unknown"
    elif event.outcome is Outcome.ALLOW:
        out["status_id"], out["status"] = 1, "Success"
    elif event.outcome in APPROVAL_LIKE:
        out["status_id"], out["status"] = 99, "Pending"
    else:
        out["status_id"], out["status"] = 2, "Failure"
    codes = [r.code for r in event.reasons]
    if codes and out["status_id"] != 1:
        out["status_code"] = codes[0]
        out["status_detail"] = "; ".join(r.message for r in event.reasons if r.message) or codes[0]
    out["message"] = f"{event.kind} {event.outcome.value if event.outcome else ''} {event.tool_name or ''}".strip()
    out["unmapped"] = {"mode": event.mode, "hash": event.hash, "prev_hash": event.prev_hash, "reason_codes": codes}
    return out


def _detection_finding(event: AuditEvent) -> dict[str, Any]:
    data = event.data
    status = str(data.get("status") or "open").lower()
    closed = status in ("closed", "resolved", "dismissed", "false_positive")
    out = _base(event, 2004, 2, 3 if closed else 1, "Close" if closed else "Create")
    out["class_name"], out["category_name"] = "Detection Finding", "Findings"
    out["metadata"] = _metadata(event, [])
    incident = str(data.get("incident_id") or data.get("id") or event.event_id)
    kind = str(data.get("type") or data.get("anomaly") or "anomaly")
    out["finding_info"] = {
        "uid": incident,
        "title": f"Guardian: {kind}",
        "desc": str(data.get("description") or "")[:4096] or None,
        "types": [kind],
        "created_time": _ms(event.timestamp),
        "related_events": [{"uid": str(e)} for e in (data.get("evidence") or [])[:50]]
        if isinstance(data.get("evidence"), list)
        else [],
    }
    out["status_id"], out["status"] = (4, "Resolved") if closed else (1, "New")
    out["action"] = str(data.get("action_taken") or "") or None
    if event.agent_id:
        out["actor"] = {"user": {"uid": event.agent_id, "name": event.agent_id, "type": "Other", "type_id": 99}}
    out["message"] = out["finding_info"]["desc"] or out["finding_info"]["title"]
    return out


def to_ocsf(event: AuditEvent) -> dict[str, Any]:
    """The OCSF object of one audit event (see the module documentation)."""
    if event.kind.startswith("guardian.") and (event.data.get("incident_id") or event.data.get("id")):
        return _detection_finding(event)
    return _api_activity(event)


_COMPLIANCE_STATUS = {
    "met": (1, "Pass"),
    "partial": (2, "Warning"),
    "not_met": (3, "Fail"),
    "not_applicable": (99, "Not applicable"),
}


def compliance_finding(control: ComplianceControl, report: ComplianceReport) -> dict[str, Any]:
    status_id, status = _COMPLIANCE_STATUS[control.status]
    severity = 4 if control.status == "not_met" else 3 if control.status == "partial" else 1
    when = _ms(report.generated_at)
    return {
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200301,
        "time": when,
        "severity_id": severity,
        "severity": _SEVERITY[severity],
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": PRODUCT, "vendor_name": VENDOR, "version": VERSION},
            "uid": f"{report.framework}:{control.control_id}:{when}",
        },
        "finding_info": {
            "uid": f"{report.framework}:{control.control_id}",
            "title": f"{control.control_id} {control.title}",
            "desc": control.description,
            "created_time": when,
            "related_events": [{"uid": i} for e in control.evidence for i in e.event_ids][:50],
        },
        "compliance": {
            "standards": [report.title],
            "control": control.control_id,
            "requirements": [control.reference] if control.reference else [],
            "status_id": status_id,
            "status": status,
            "status_detail": "; ".join(e.description for e in control.evidence)[:4096],
        },
        "status_id": 1,
        "status": "New",
        "message": f"{control.control_id} {control.title}: {control.status}",
    }


def compliance_findings(report: ComplianceReport) -> list[dict[str, Any]]:
    """One Compliance Finding per control of ``report``."""
    return [compliance_finding(c, report) for c in report.controls]
