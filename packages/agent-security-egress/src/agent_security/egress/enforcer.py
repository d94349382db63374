"""The egress enforcer: a stateful plugin object that scans every tool call and applies the policy.

Phase ``before_check``: scan ``tool_args`` (all of them, at any depth, decoded) and ``user_input``;
add the classifications found to ``request.context.data_labels`` (so policy rules with
``data_labels_any`` see them); apply the destination policy for the tool's channel; then

* ``block``  -> DENY ``EGRESS_BLOCKED`` (message masked: rule, classes, kinds, masked destination);
* ``redact`` -> the request continues with rewritten ``tool_args`` (findings replaced by masked previews);
* ``alert``  -> an ``EGRESS_ALERT`` alert event through ``ctx.alert``, the call continues;
* ``allow``  -> nothing but the egress log entry.

A scan that hit a limit (too big, too deep, too many encoded segments) is DENY ``EGRESS_SCAN_LIMIT``
unless ``on_incomplete="alert"``.

Phase ``after_execution`` (calls made through ``protect``): scan the tool's result and apply
``result_actions`` per classification (default: redact secrets and card numbers, alert on PII).

Every check with findings appends an :class:`EgressEvent` to a bounded, thread-safe log (masked
destinations, classes and kinds only), which :class:`~agent_security.egress.compliance.ComplianceReporter`
turns into a report.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agent_security.core import (
    ActionRequest,
    CheckContext,
    Decision,
    ExecutionResult,
    PluginResult,
    hookimpl,
)
from agent_security.core.models import utcnow
from agent_security.egress._speedups.flat import nothing_to_find
from agent_security.egress.classifiers import DEFAULT_CLASSIFIERS, Classifier
from agent_security.egress.findings import Classification, Finding, ScanReport, mask_destination
from agent_security.egress.policy import (
    ACTION_SEVERITY,
    DestinationPolicyEngine,
    DestinationRule,
    EgressAction,
    EgressPolicy,
    ToolChannelMapping,
    resolve_mapping,
)
from agent_security.egress.scanner import LIMIT_REASONS, ScanLimits, Scanner

__all__ = [
    "ADDRESS_KINDS",
    "DEFAULT_DESTINATION_FIELDS",
    "DEFAULT_POLICY",
    "DEFAULT_RESULT_ACTIONS",
    "DEFAULT_TOOL_CHANNEL_MAPPINGS",
    "EgressEnforcer",
    "EgressEvent",
    "egress_enforcer",
]

DEFAULT_DESTINATION_FIELDS: tuple[str, ...] = (
    "to",
    "cc",
    "bcc",
    "recipient",
    "recipients",
    "from",
    "sender",
    "reply_to",
    "phone_number",
    "to_number",
)
"""Argument names taken as destinations for tools without a mapping (addresses, not payload)."""

DEFAULT_TOOL_CHANNEL_MAPPINGS: tuple[ToolChannelMapping, ...] = (
    ToolChannelMapping(tool_name="send_email", channel="email", destination_fields=("to", "cc", "bcc")),
    ToolChannelMapping(tool_name="*_email", channel="email", destination_fields=("to", "cc", "bcc")),
    ToolChannelMapping(tool_name="email_*", channel="email", destination_fields=("to", "cc", "bcc")),
    ToolChannelMapping(tool_name="http_*", channel="http_request", destination_fields=("url",)),
    ToolChannelMapping(tool_name="fetch*", channel="http_request", destination_fields=("url",)),
    ToolChannelMapping(tool_name="web_fetch", channel="http_request", destination_fields=("url",)),
    ToolChannelMapping(tool_name="write_file", channel="file_write", destination_fields=("path",)),
    ToolChannelMapping(tool_name="*_write_file", channel="file_write", destination_fields=("path",)),
    ToolChannelMapping(tool_name="query_*", channel="db_query", destination_fields=("database",)),
    ToolChannelMapping(tool_name="send_message", channel="chat_message", destination_fields=("channel", "to")),
    ToolChannelMapping(tool_name="slack_*", channel="chat_message", destination_fields=("channel",)),
)
"""Mappings used when none are configured (common tool names; the first match wins)."""

ADDRESS_KINDS = frozenset({"email", "phone"})
"""Kinds that, found in a destination field, are the address itself and not data leaving."""

DEFAULT_POLICY = EgressPolicy(
    rules=(
        DestinationRule(
            id="EGRESS_DEFAULT_BLOCK_SECRETS",
            description="Secrets never leave",
            classifications=(Classification.SECRET,),
            action="block",
        ),
        DestinationRule(
            id="EGRESS_DEFAULT_ALERT_PII_PCI",
            description="Personal and card data are reported",
            classifications=(Classification.PII, Classification.PCI, Classification.PHI),
            action="alert",
        ),
    ),
    default_action="alert",
)
"""The policy used when the plugin is installed without an ``[egress]`` section or ``rules``: block
SECRET findings on every channel, alert on PII/PCI/PHI, alert on anything else."""

DEFAULT_RESULT_ACTIONS: Mapping[str, EgressAction] = {
    "SECRET": "redact",
    "PCI": "redact",
    "PII": "alert",
    "PHI": "alert",
    "CUSTOM": "alert",
}

_MAX_ANNOTATED = 50


class EgressEvent(BaseModel):
    """One entry of the egress log. Holds no raw value: destinations are masked."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    timestamp: datetime
    request_id: str | None = None
    agent_id: str
    tool_name: str
    channel: str
    direction: Literal["outbound", "result"] = "outbound"
    destinations: tuple[str, ...] = ()
    classifications: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    findings: int = 0
    action: str = "allow"
    blocked: bool = False
    rule_id: str | None = None
    rule_ids: tuple[str, ...] = ()

    @property
    def destination(self) -> str | None:
        return self.destinations[0] if self.destinations else None


def _get_field(args: Mapping[str, Any], dotted: str) -> Any:
    if dotted in args:
        return args[dotted]
    node: Any = args
    for part in dotted.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node


def _field_path(dotted: str) -> str:
    from agent_security.egress.scanner import _IDENT

    out = "$"
    for part in dotted.split("."):
        out += f".{part}" if _IDENT.fullmatch(part) else f'["{part}"]'
    return out


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + "[", prefix + "."))


class EgressEnforcer:
    """Scans tool calls and results and enforces an :class:`EgressPolicy`. Thread-safe."""

    name = "egress-enforcer"
    fail_open = False

    def __init__(
        self,
        policy: EgressPolicy | Mapping[str, Any] | None = None,
        *,
        classifiers: Iterable[Classifier] | None = None,
        tool_channel_mappings: Sequence[ToolChannelMapping | Mapping[str, Any]] | None = None,
        unmapped_channel: str = "unknown",
        default_destination_fields: Sequence[str] = DEFAULT_DESTINATION_FIELDS,
        min_confidence: float = 0.5,
        limits: ScanLimits | None = None,
        user_input: Literal["label", "enforce", "ignore"] = "label",
        result_actions: Mapping[str, EgressAction] | None = None,
        on_incomplete: Literal["block", "alert"] = "block",
        log_size: int = 10_000,
        on_blocked: Callable[[EgressEvent], None] | None = None,
        on_egress_event: Callable[[EgressEvent], None] | None = None,
        name: str | None = None,
    ) -> None:
        if policy is None:
            policy = DEFAULT_POLICY
        elif not isinstance(policy, EgressPolicy):
            policy = EgressPolicy.model_validate(dict(policy))
        if name:
            self.name = name
        self.engine = DestinationPolicyEngine(policy)
        self.scanner = Scanner(
            tuple(classifiers) if classifiers is not None else DEFAULT_CLASSIFIERS,
            limits=limits,
            min_confidence=min_confidence,
        )
        self.mappings = tuple(
            m if isinstance(m, ToolChannelMapping) else ToolChannelMapping.model_validate(dict(m))
            for m in (DEFAULT_TOOL_CHANNEL_MAPPINGS if tool_channel_mappings is None else tool_channel_mappings)
        )
        self.unmapped_channel = unmapped_channel
        self.default_destination_fields = tuple(default_destination_fields)
        self._routes: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
        self.user_input = user_input
        self.result_actions: dict[str, EgressAction] = {**DEFAULT_RESULT_ACTIONS, **(result_actions or {})}
        self.on_incomplete = on_incomplete
        self.on_blocked = on_blocked
        self.on_egress_event = on_egress_event
        self._log: deque[EgressEvent] = deque(maxlen=max(1, log_size))
        self._dropped = 0
        self._lock = threading.Lock()

    # -- log -------------------------------------------------------------------------------------
    def get_egress_log(self) -> list[EgressEvent]:
        """A copy of the log, oldest first (at most ``log_size`` entries: older ones are evicted)."""
        with self._lock:
            return list(self._log)

    def clear_egress_log(self) -> None:
        with self._lock:
            self._log.clear()

    @property
    def evicted(self) -> int:
        """How many events were evicted from the bounded log since start."""
        return self._dropped

    def _record(self, event: EgressEvent) -> None:
        with self._lock:
            if len(self._log) == self._log.maxlen:
                self._dropped += 1
            self._log.append(event)
        if self.on_egress_event is not None:
            self.on_egress_event(event)
        if event.blocked and self.on_blocked is not None:
            self.on_blocked(event)

    def update_policy(self, policy: EgressPolicy | Mapping[str, Any]) -> None:
        self.engine.update_policy(
            policy if isinstance(policy, EgressPolicy) else EgressPolicy.model_validate(dict(policy))
        )

    def compliance_report(self, from_: datetime | None = None, to: datetime | None = None) -> Any:
        from agent_security.egress.compliance import ComplianceReporter

        return ComplianceReporter().generate_report(self.get_egress_log(), from_, to)

    # -- resolution ------------------------------------------------------------------------------
    def resolve(self, tool_name: str, args: Mapping[str, Any]) -> tuple[str, list[str], list[str]]:
        """``(channel, destinations, destination paths)`` for a call."""
        route = self._routes.get(tool_name)
        if route is None:
            mapping = resolve_mapping(self.mappings, tool_name)
            channel = mapping.channel if mapping is not None else self.unmapped_channel
            fields = mapping.destination_fields if mapping is not None else self.default_destination_fields
            route = (channel, tuple(fields), tuple(_field_path(f) for f in fields))
            if len(self._routes) < 4096:  # tool names are few; never grow without bound
                self._routes[tool_name] = route
        channel, fields, field_paths = route
        dests: list[str] = []
        paths = list(field_paths)
        for fname in fields:
            v = _get_field(args, fname)
            if isinstance(v, str) and "@" in v and "://" not in v:
                dests.extend(p.strip() for p in v.split(",") if p.strip())  # "a@x.com, b@y.com"
            elif isinstance(v, str):
                dests.append(v)
            elif isinstance(v, (list, tuple)):
                dests.extend(x for x in v if isinstance(x, str))
        return channel, dests, paths

    # -- before_check ------------------------------------------------------------------------------
    @hookimpl
    def agent_security_before_check(self, request: ActionRequest, ctx: CheckContext) -> PluginResult | None:
        args = request.action.tool_args
        if nothing_to_find(self.scanner, args, request.context.user_input if self.user_input != "ignore" else None):
            return None
        report = self.scanner.scan(args)
        ui_findings: list[Finding] = []
        ui_report: ScanReport | None = None
        if self.user_input != "ignore" and request.context.user_input:
            ui_report = self.scanner.scan(request.context.user_input)
            ui_findings = [dataclasses.replace(f, path="user_input" + f.path[1:]) for f in ui_report.findings]
        channel, dests, dest_paths = self.resolve(request.tool_name, args)
        payload = [
            f for f in report.findings if not (f.kind in ADDRESS_KINDS and any(_under(f.path, p) for p in dest_paths))
        ]
        if not payload and not ui_findings and report.complete and (ui_report is None or ui_report.complete):
            return None  # only the destinations' own addresses were found
        enforced = payload + (ui_findings if self.user_input == "enforce" else [])
        labels = tuple(
            dict.fromkeys([*request.context.data_labels, *(str(c) for c in _classes(payload + ui_findings))])
        )
        masked_dests = tuple(mask_destination(d) for d in dests[:10])
        facts: dict[str, Any] = {"channel": channel}
        if masked_dests:
            facts["destinations"] = list(masked_dests)

        failed = [*report.classifier_errors, *(ui_report.classifier_errors if ui_report else [])]
        if failed:
            names = ", ".join(sorted(set(failed)))
            self._record(self._event(request, ctx, channel, masked_dests, enforced, "block", None, ()))
            return PluginResult(
                decision=Decision.deny(
                    "EGRESS_CLASSIFIER_ERROR",
                    f"Egress classifier failed ({names}); blocked",
                    plugin_source=self.name,
                ),
                annotations={**facts, "classifier_errors": sorted(set(failed))},
            )
        incomplete = [*report.limits_hit, *(ui_report.limits_hit if ui_report else [])]
        if incomplete:
            facts["scan_incomplete"] = sorted(set(incomplete))
            if self.on_incomplete == "block":
                msg = f"Egress scan could not complete ({', '.join(sorted(set(incomplete)))}); blocked"
                self._record(self._event(request, ctx, channel, masked_dests, enforced, "block", None, ()))
                return PluginResult(decision=_limit_denial(incomplete, msg, self.name), annotations=facts)
            ctx.alert(
                "EGRESS_SCAN_INCOMPLETE",
                "Egress scan hit a limit; the rest was not inspected",
                {"limits": sorted(set(incomplete)), "tool_name": request.tool_name},
            )

        if not enforced and not ui_findings:
            return None
        decision = self.engine.check(enforced, channel, dests)
        facts.update(
            {
                "action": decision.action,
                "rule_ids": list(decision.rule_ids),
                "labels": [str(c) for c in _classes(payload + ui_findings)],
                "findings": [f.as_dict() for f in (enforced or ui_findings)[:_MAX_ANNOTATED]],
            }
        )
        if enforced:
            self._record(
                self._event(
                    request,
                    ctx,
                    channel,
                    masked_dests,
                    enforced,
                    decision.action,
                    decision.deciding_rule,
                    decision.rule_ids,
                )
            )
        labelled = (
            request.model_copy(update={"context": request.context.model_copy(update={"data_labels": labels})})
            if labels != request.context.data_labels
            else None
        )
        if decision.blocked:
            return PluginResult(
                decision=Decision.deny("EGRESS_BLOCKED", decision.reason, plugin_source=self.name),
                request=labelled,
                annotations=facts,
            )
        alerted = decision.findings_with("alert")
        if alerted:
            ctx.alert(
                "EGRESS_ALERT",
                _summary("Sensitive data leaving", alerted, channel, masked_dests),
                {
                    "tool_name": request.tool_name,
                    "channel": channel,
                    "destinations": list(masked_dests),
                    "kinds": sorted({f.kind for f in alerted}),
                    "classifications": sorted({str(f.classification) for f in alerted}),
                    "rule_ids": sorted({rid for f, a, rid in decision.per_finding if a == "alert" and rid}),
                },
            )
        update: dict[str, Any] = {}
        if labels != request.context.data_labels:
            update["context"] = request.context.model_copy(update={"data_labels": labels})
        to_redact = decision.findings_with("redact")
        if to_redact:
            redacted = self.scanner.redact(args, ScanReport(findings=to_redact))
            update["action"] = request.action.model_copy(update={"tool_args": redacted})
            facts["redacted"] = len(to_redact)
        if not update:
            return PluginResult(annotations=facts)
        return PluginResult(request=request.model_copy(update=update), annotations=facts)

    # -- after_execution ---------------------------------------------------------------------------
    @hookimpl
    def agent_security_after_execution(
        self,
        request: ActionRequest,
        decision: Decision,
        result: Any,
        error: BaseException | None,
        ctx: CheckContext,
    ) -> ExecutionResult | None:
        if error is not None or result is None:
            return None
        model: type[BaseModel] | None = None
        if isinstance(result, BaseModel):  # scan (and redact) its JSON form, then rebuild it if it validates
            model, result = type(result), result.model_dump(mode="json")
        if nothing_to_find(self.scanner, {}, result) if type(result) is str else nothing_to_find(self.scanner, result):
            return None
        report = self.scanner.scan(result)
        if report.classifier_errors:
            return ExecutionResult(
                block=Decision.deny(
                    "EGRESS_CLASSIFIER_ERROR",
                    f"Tool result could not be classified ({', '.join(report.classifier_errors)} failed)",
                    plugin_source=self.name,
                )
            )
        if report.limits_hit and self.on_incomplete == "block":
            msg = f"Tool result could not be fully scanned ({', '.join(report.limits_hit)})"
            return ExecutionResult(block=_limit_denial(report.limits_hit, msg, self.name))
        if not report.findings:
            return None
        per = [(f, self.result_actions.get(str(f.classification), "alert")) for f in report.findings]
        action: EgressAction = max((a for _, a in per), key=lambda a: ACTION_SEVERITY[a])
        channel = "tool_result"
        self._record(self._event(request, ctx, channel, (), report.findings, action, None, (), direction="result"))
        if action == "block":
            hit = [f for f, a in per if a == "block"]
            return ExecutionResult(
                block=Decision.deny(
                    "EGRESS_BLOCKED",
                    _summary("Tool result withheld", hit, channel, ()),
                    plugin_source=self.name,
                )
            )
        alerted = [f for f, a in per if a == "alert"]
        if alerted:
            ctx.alert(
                "EGRESS_ALERT",
                _summary("Sensitive data in tool result", alerted, channel, ()),
                {
                    "tool_name": request.tool_name,
                    "channel": channel,
                    "kinds": sorted({f.kind for f in alerted}),
                    "classifications": sorted({str(f.classification) for f in alerted}),
                },
            )
        to_redact = [f for f, a in per if a == "redact"]
        if to_redact:
            redacted = self.scanner.redact(result, ScanReport(findings=to_redact))
            if model is not None:
                try:
                    redacted = model.model_validate(redacted)
                except ValueError:
                    pass  # a masked value no longer fits a field's type: hand back the redacted dict
            return ExecutionResult(replace=True, result=redacted)
        return None

    # -- helpers -----------------------------------------------------------------------------------
    def _event(
        self,
        request: ActionRequest,
        ctx: CheckContext | None,
        channel: str,
        dests: Sequence[str],
        findings: Sequence[Finding],
        action: str,
        rule_id: str | None,
        rule_ids: Sequence[str],
        direction: Literal["outbound", "result"] = "outbound",
    ) -> EgressEvent:
        now = ctx.now if ctx is not None else utcnow()
        return EgressEvent(
            timestamp=now,
            request_id=request.request_id,
            agent_id=request.agent_id,
            tool_name=request.tool_name,
            channel=channel,
            direction=direction,
            destinations=tuple(dests),
            classifications=tuple(str(c) for c in _classes(findings)),
            kinds=tuple(dict.fromkeys(f.kind for f in findings)),
            findings=len(findings),
            action=action,
            blocked=action == "block",
            rule_id=rule_id,
            rule_ids=tuple(rule_ids),
        )


def _classes(findings: Iterable[Finding]) -> tuple[Classification, ...]:
    return tuple(dict.fromkeys(f.classification for f in findings))


def _summary(prefix: str, findings: Sequence[Finding], channel: str, dests: Sequence[str]) -> str:
    classes = ", ".join(sorted({str(f.classification) for f in findings}))
    kinds = ", ".join(sorted({f.kind for f in findings}))
    to = f" to {', '.join(dests[:3])}" if dests else ""
    return f"{prefix}: [{classes}] ({kinds}) via {channel}{to}"


def egress_enforcer(
    policy: EgressPolicy | Mapping[str, Any] | None = None,
    classifiers: Iterable[Classifier] | None = None,
    tool_channel_mappings: Sequence[ToolChannelMapping | Mapping[str, Any]] | None = None,
    **options: Any,
) -> EgressEnforcer:
    """The original's ``egressEnforcer(config)``: build an :class:`EgressEnforcer`.

    ``policy`` is an :class:`EgressPolicy` or a dict ``{"rules": [...], "default_action": ...}``;
    ``None`` means :data:`DEFAULT_POLICY`. ``options`` are the keyword arguments of
    :class:`EgressEnforcer` (``unmapped_channel``, ``min_confidence``, ``limits``, ``user_input``,
    ``result_actions``, ``on_incomplete``, ``log_size``, ``on_blocked``, ``on_egress_event``).
    """
    return EgressEnforcer(policy, classifiers=classifiers, tool_channel_mappings=tool_channel_mappings, **options)


def _limit_denial(limits_hit: list[str], message: str, source: str) -> Decision:
    """DENY ``EGRESS_SCAN_LIMIT``, then one reason per limit that stopped the scan (its own code)."""
    decision = Decision.deny("EGRESS_SCAN_LIMIT", message, plugin_source=source)
    for name in sorted(set(limits_hit)):
        code = LIMIT_REASONS.get(name)
        if code is not None:
            decision = decision.with_reason(code, f"scan limit {name} reached ([egress.limits] {name})")
    return decision
