"""One check for a call the host reports twice (Cursor's ``preToolUse`` and ``beforeShellExecution`` /
``beforeMCPExecution`` / ``beforeReadFile`` for the same call), across hook processes.

Every hook call is its own process, so the record lives in the shared state store (the SQLite file of the
hooks, or the configured store) and uses only its atomic operations:

* each report of a call takes the first *slot* its event has not taken yet (``claim`` of
  ``<call>:<slot>:seen:<event>``), so the n-th ``preToolUse`` of a command pairs with the n-th
  ``beforeShellExecution`` of it, and a command run again in the same generation is checked again;
* the first report in a slot to ``claim`` ``<call>:<slot>:decider`` runs the check (audited once) and
  stores its verdict; the other waits for that verdict (bounded) and answers with it. A verdict decided on
  other facts (a ``preToolUse`` that did not name the MCP server) is not reused: the call is checked again;
* a verdict that stops the call also closes the slot for the partner event, which then never comes.

Every key expires (:data:`TTL_S`). A missing verdict after the wait (the first process died) means the
waiting report checks the call itself: never a pass. Store errors propagate (the caller blocks).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_security.core.models import CheckResult
    from agent_security.core.store import Store

__all__ = ["MAX_SLOTS", "TTL_S", "WAIT_S", "Verdict", "decide_once"]

TTL_S = 120.0
"""How long a report's record is kept: the two reports of one call come within seconds of each other."""
WAIT_S = 5.0
"""How long the second report waits for the first one's verdict before checking the call itself."""
MAX_SLOTS = 32
"""Repeats of one call per generation that are paired; beyond, every report is checked on its own."""
_POLL_S = 0.01
_PREFIX = "adapters:once:"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a report answers from: the decision of the call, as stored for the partner report."""

    allowed: bool
    outcome: str
    reasons: tuple[tuple[str, str], ...]
    tool_name: str
    would_block: bool = False
    reused: bool = False
    """True when this report answered with the verdict another report decided (nothing audited here)."""

    @property
    def approval_like(self) -> bool:
        return self.outcome in ("REQUIRE_APPROVAL", "STEP_UP", "REQUIRE_TICKET", "REQUIRE_HUMAN")

    @classmethod
    def of(cls, result: CheckResult) -> Verdict:
        """The verdict of a check. For an approval-like outcome the reasons are the ones that asked for
        approval (the hook has no resolver: the pipeline's "no handler" reason says nothing to the user)."""
        decision = result.decision if result.decision.outcome.approval_like else result.final_decision
        return cls(
            allowed=result.allowed,
            outcome=str(result.decision.outcome),
            reasons=tuple((r.code, r.message) for r in decision.reasons),
            tool_name=result.request.tool_name,
            would_block=result.would_block,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "outcome": self.outcome,
            "reasons": [list(r) for r in self.reasons],
            "tool_name": self.tool_name,
            "would_block": self.would_block,
        }

    @classmethod
    def from_json(cls, data: Any) -> Verdict | None:
        """The stored verdict, or ``None`` for anything malformed (then the call is checked again)."""
        if not isinstance(data, dict):
            return None
        allowed, outcome, reasons, tool = (
            data.get("allowed"),
            data.get("outcome"),
            data.get("reasons"),
            data.get("tool_name"),
        )
        if not isinstance(allowed, bool) or not isinstance(outcome, str) or not isinstance(tool, str):
            return None
        if not isinstance(reasons, list) or not all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r) for r in reasons
        ):
            return None
        return cls(allowed, outcome, tuple((r[0], r[1]) for r in reasons), tool, bool(data.get("would_block")), True)


def call_key(*parts: Any) -> str:
    """The store key of one call (a hash: the parts may be long and hold anything)."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return _PREFIX + digest[:40]


def decide_once(
    store: Store,
    key: str,
    event: str,
    partners: Iterable[str],
    tool_name: str,
    decide: Callable[[], Verdict],
    *,
    wait_s: float = WAIT_S,
) -> Verdict:
    """The verdict for this report of the call ``key``: decided here (``decide``, which checks and audits)
    or taken from the partner report of the same call. ``partners`` are the events that report this call
    too (closed when the verdict stops the call)."""
    partners = tuple(partners)
    for slot in range(MAX_SLOTS):
        base = f"{key}:{slot}"
        if not store.claim(f"{base}:seen:{event}", ttl_s=TTL_S):
            continue
        if store.claim(f"{base}:decider", ttl_s=TTL_S):
            verdict = decide()
            store.set(f"{base}:verdict", verdict.to_json(), ttl_s=TTL_S)
            if not verdict.allowed:
                for partner in partners:  # the host does not run a blocked call: its other report never comes
                    store.claim(f"{base}:seen:{partner}", ttl_s=TTL_S)
            return verdict
        stored = _wait_for(store, f"{base}:verdict", wait_s)
        if stored is not None and stored.tool_name == tool_name:
            return stored
        return decide()
    return decide()


def _wait_for(store: Store, key: str, wait_s: float) -> Verdict | None:
    deadline = time.monotonic() + wait_s
    while True:
        value = store.get(key)
        if value is not None:
            return Verdict.from_json(value)
        if time.monotonic() >= deadline:
            return None
        time.sleep(_POLL_S)
