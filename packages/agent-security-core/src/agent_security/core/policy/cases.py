"""Policy unit tests: files of request -> expected decision cases, run against a bundle.

A case file is YAML or JSON::

    policy: ../policies/default-policy.yaml   # optional; relative to this file (or --policy)
    now: "2026-06-01T00:00:00Z"                # optional clock for expiry (default: the real time)
    cases:
      - name: bulk export is blocked in prod
        request:
          tool_name: query_customer_db
          tool_args: {query: "SELECT * FROM customers"}
          environment: prod
          user_input: Export all customers to CSV
        expect: {outcome: DENY, code: DENY_BULK_EXPORT}
      - name: refunds need a finance manager
        request: {tool_name: trigger_refund, environment: prod}
        expect: {outcome: REQUIRE_APPROVAL, approver_role: finance_manager}

``request`` takes the flat fields below (defaults: ``agent_id: policy-test``, ``environment:
unknown``), or a full ``ActionRequest`` (with ``agent`` and ``action`` objects). ``expect`` takes
``outcome``, ``code`` (the first reason code), ``codes`` (all reason codes, in order) and
``approver_role``; a bare string is an outcome. Use :func:`run_policy_cases` from your own tests, or
``agent-security policy test CASES`` in CI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_security.core.errors import PolicyLoadError
from agent_security.core.models import (
    Action,
    ActionRequest,
    AgentInfo,
    Decision,
    Outcome,
    RequestContext,
    ToolIdentity,
    TrustLevel,
)
from agent_security.core.policy.engine import PolicyEngine
from agent_security.core.policy.loader import _read_file, parse_policy_text
from agent_security.core.policy.models import parse_timestamp

__all__ = [
    "CaseExpectation",
    "CaseFile",
    "CaseRequest",
    "CaseResult",
    "CasesReport",
    "PolicyCase",
    "build_request",
    "load_cases",
    "run_policy_cases",
]

MAX_CASES_BYTES = 8 * 1024 * 1024


class _CaseModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseRequest(_CaseModel):
    """The flat request form of a test case."""

    tool_name: str = Field(min_length=1)
    tool_args: dict[str, Any] = Field(default_factory=dict)
    agent_id: str = "policy-test"
    environment: str = "unknown"
    action_type: str = "tool_call"
    agent_type: str | None = None
    trust_level: TrustLevel | None = None
    roles: tuple[str, ...] = ()
    tool_provider: str | None = None
    user_input: str | None = None
    data_labels: tuple[str, ...] = ()
    session_id: str | None = None

    def to_request(self) -> ActionRequest:
        identity = (
            ToolIdentity(tool_name=self.tool_name, provider=self.tool_provider)
            if self.tool_provider is not None
            else None
        )
        return ActionRequest(
            agent=AgentInfo(
                agent_id=self.agent_id,
                name=self.agent_id,
                environment=self.environment,
                agent_type=self.agent_type,
                trust_level=self.trust_level,
                roles=self.roles,
            ),
            action=Action(
                type=self.action_type, tool_name=self.tool_name, tool_args=self.tool_args, tool_identity=identity
            ),
            context=RequestContext(
                user_input=self.user_input, data_labels=self.data_labels, session_id=self.session_id
            ),
        )


class CaseExpectation(_CaseModel):
    outcome: Outcome | None = None
    code: str | None = None
    codes: tuple[str, ...] | None = None
    approver_role: str | None = None

    def check(self, decision: Decision) -> list[str]:
        """What does not match (empty when the decision is as expected)."""
        problems = []
        if self.outcome is not None and decision.outcome is not self.outcome:
            problems.append(f"outcome {decision.outcome.value}, expected {self.outcome.value}")
        first = decision.codes[0] if decision.codes else None
        if self.code is not None and first != self.code:
            problems.append(f"code {first}, expected {self.code}")
        if self.codes is not None and decision.codes != self.codes:
            problems.append(f"codes {list(decision.codes)}, expected {list(self.codes)}")
        if self.approver_role is not None and decision.approver_role != self.approver_role:
            problems.append(f"approver_role {decision.approver_role}, expected {self.approver_role}")
        return problems


class PolicyCase(_CaseModel):
    name: str | None = None
    request: dict[str, Any]
    expect: CaseExpectation

    @field_validator("expect", mode="before")
    @classmethod
    def _bare_outcome(cls, value: Any) -> Any:
        return {"outcome": value} if isinstance(value, str) else value

    @field_validator("expect")
    @classmethod
    def _something_expected(cls, value: CaseExpectation) -> CaseExpectation:
        if value.model_dump(exclude_none=True) == {}:
            raise ValueError("expect must name at least one of outcome, code, codes, approver_role")
        return value


class CaseFile(_CaseModel):
    policy: str | None = None
    now: str | None = None
    cases: tuple[PolicyCase, ...] = Field(min_length=1)

    @field_validator("now")
    @classmethod
    def _now(cls, value: str | None) -> str | None:
        if value is not None:
            parse_timestamp(value)
        return value


def build_request(spec: Mapping[str, Any]) -> ActionRequest:
    """An :class:`ActionRequest` from a case's ``request`` (flat form, or full form with ``action``)."""
    if "action" in spec or "agent" in spec:
        return ActionRequest.model_validate(dict(spec))
    return CaseRequest.model_validate(dict(spec)).to_request()


@dataclass(frozen=True)
class CaseResult:
    index: int
    name: str
    passed: bool
    problems: tuple[str, ...]
    outcome: str | None
    codes: tuple[str, ...]
    trace: tuple[str, ...] = ()
    """For a failed case: how each candidate rule fared (see :meth:`PolicyEngine.explain`)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "passed": self.passed,
            "problems": list(self.problems),
            "outcome": self.outcome,
            "codes": list(self.codes),
            "trace": list(self.trace),
        }


@dataclass
class CasesReport:
    results: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "results": [r.to_dict() for r in self.results]}


def run_policy_cases(
    engine: PolicyEngine, cases: Sequence[PolicyCase] | CaseFile, *, now: datetime | None = None
) -> CasesReport:
    """Evaluate every case against ``engine``; a case whose request is invalid fails with the reason."""
    if isinstance(cases, CaseFile):
        if now is None and cases.now is not None:
            now = parse_timestamp(cases.now)
        cases = cases.cases
    report = CasesReport()
    for i, case in enumerate(cases):
        name = case.name or f"case {i + 1}"
        try:
            request = build_request(case.request)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            report.results.append(CaseResult(i, name, False, (f"invalid request: {where}: {err['msg']}",), None, ()))
            continue
        decision = engine.evaluate(request, now=now)
        problems = case.expect.check(decision)
        trace: tuple[str, ...] = ()
        if problems:
            trace = tuple(str(t) for t in engine.explain(request, now=now)[1]) or (
                "no rule names this tool and environment",
            )
        report.results.append(
            CaseResult(i, name, not problems, tuple(problems), decision.outcome.value, decision.codes, trace)
        )
    return report


def load_cases(path: str | os.PathLike[str]) -> CaseFile:
    """Read a case file (YAML if ``.yaml``/``.yml``, else JSON). Raises ``PolicyLoadError``."""
    file = Path(path)
    where = str(file)
    fmt = "yaml" if file.suffix.lower() in (".yaml", ".yml") else "json"
    data = parse_policy_text(
        _read_file(file, MAX_CASES_BYTES), fmt=fmt, source=where, what="Test case file", max_bytes=MAX_CASES_BYTES
    )
    try:
        return CaseFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        raise PolicyLoadError(f"{where}: {loc}: {message}", field=loc or None, source=where) from None
