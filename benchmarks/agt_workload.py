"""The pipeline-benchmark workload run through Microsoft's Agent Governance Toolkit (AGT).

Standalone: runs ONLY inside a virtual environment that has ``agent-governance-toolkit-core`` installed
(``benchmarks/_agt.py`` creates one) and never imports ``agent_security``. Reads the shared workload
JSON written by ``benchmarks/_workload.py``, builds the closest AGT equivalent of our pipeline, checks
that every request of the mix gets its expected steady-state outcome, then times N decisions and prints
ONE JSON object on stdout::

    python agt_workload.py --workload workload.json [--n 20000] [--warmup 1000]

What one decision does (same order as our pipeline: kill switch, rate limiter, session limits, policy,
audit):

1. kill switch -- AGT has no per-call kill-switch gate: ``hypervisor.security.kill_switch.KillSwitch``
   terminates an agent's process through a registered callback and keeps no "killed" state that a
   policy check could consult. Emulated here with a ``set``/``dict`` lookup (costs AGT ~0.05 us).
2. per-agent rate limit -- AGT native: ``agent_os.integrations.rate_limiter.RateLimiter``
   (thread-safe token bucket, ``per_agent=True``). Ours is a sliding window; both allow N calls per
   agent per window. The limit is 1,000,000/60 s so it counts every call and never trips.
3. session tool limits -- AGT has only a per-session *total* (``GovernancePolicy.max_tool_calls``
   checked against ``ExecutionContext.call_count``), not a per-tool per-session limit. Emulated with a
   ``dict`` counter (checked before the policy, incremented after an ALLOW, as ours).
4. policy -- AGT native: ``agent_os.policies.PolicyEvaluator`` over one ``PolicyDocument`` holding the
   100 rules translated one-to-one, all with the same priority (AGT sorts rules by priority with a
   stable sort, so evaluation is first-match-wins in list order, like ours). An AGT rule has exactly one
   condition (``field operator value``), so each Agent-SPM rule maps to the cheapest exact equivalent:
   tool+environment -> ``eq`` on a ``tool_env`` context field; tool only -> ``eq`` on ``tool_name``;
   environment only -> ``eq`` on ``environment``; tool list -> ``in``; everything else (prefix globs,
   ``when.contains_any``) -> ``matches`` (a regex) on a ``probe`` field ``tool\\x1fenv\\x1fv1\\x1ev2...``
   whose values are the lower-cased searchable strings (user input + string/number leaves of the tool
   arguments), which reproduces "any keyword is a case-insensitive substring of one value". Building
   the context (``tool_env``, ``probe``) is harness work done inside the timed region.
   AGT actions are allow/deny/audit/block: REQUIRE_APPROVAL maps to ``deny`` (no approval handler on
   either side, so the call is not allowed in both).
5. audit -- AGT native: ``agentmesh.governance.audit.AuditLog`` (in-memory, every entry SHA-256
   chained to the previous one plus an incremental Merkle tree). One entry per decision, including the
   kill-switch, rate-limit and session-limit denials. Chain integrity is verified after the timed run.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import re
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

# AGT 5.0.0 still warns that the old distribution names (agent-os-kernel, agentmesh-platform) are
# deprecated when ``agent_os`` / ``agentmesh`` are imported; the import paths themselves are the
# documented, unchanged ones of agent-governance-toolkit-core.
warnings.filterwarnings("ignore", category=DeprecationWarning)

from agent_os.integrations.rate_limiter import RateLimiter  # noqa: E402
from agent_os.policies import PolicyDocument, PolicyEvaluator  # noqa: E402
from agentmesh.governance.audit import AuditLog  # noqa: E402

DIST = "agent-governance-toolkit-core"
_SEP_FIELD = "\x1f"  # between tool, environment and the searchable values in the probe
_SEP_VALUE = "\x1e"  # between two searchable values (a keyword cannot span two values)


# ------------------------------------------------------------------------------------------------
# Policy translation (Agent-SPM bundle -> AGT PolicyDocument)
# ------------------------------------------------------------------------------------------------


def _tool_regex(tool: str | list[str]) -> str:
    if isinstance(tool, list):
        return "(?:" + "|".join(re.escape(t) for t in tool) + ")"
    if tool == "*":
        return f"[^{_SEP_FIELD}]*"
    if tool.endswith("*") and len(tool) > 1:
        return re.escape(tool[:-1]) + f"[^{_SEP_FIELD}]*"
    return re.escape(tool)


def _translate_rule(rule: dict[str, Any]) -> dict[str, Any]:
    match = rule["match"]
    tool: str | list[str] = match["tool_name"]
    env: str = match["environment"]
    when = rule.get("when") or {}
    unsupported = set(when) - {"contains_any"}
    if unsupported or set(match) - {"tool_name", "environment"}:
        raise SystemExit(f"rule {rule['id']}: conditions {sorted(unsupported)} have no AGT translation here")
    keywords = [k.lower() for k in when.get("contains_any", [])]
    for k in keywords:
        if _SEP_FIELD in k or _SEP_VALUE in k:
            raise SystemExit(f"rule {rule['id']}: keyword contains a separator character")
    exact_tool = isinstance(tool, str) and tool != "*" and not tool.endswith("*")

    condition: dict[str, Any]
    if not keywords and exact_tool and env != "*":
        condition = {"field": "tool_env", "operator": "eq", "value": f"{tool}{_SEP_FIELD}{env}"}
    elif not keywords and exact_tool:
        condition = {"field": "tool_name", "operator": "eq", "value": tool}
    elif not keywords and tool == "*" and env != "*":
        condition = {"field": "environment", "operator": "eq", "value": env}
    elif not keywords and tool == "*":
        condition = {"field": "always", "operator": "eq", "value": True}
    elif not keywords and isinstance(tool, list) and env == "*":
        condition = {"field": "tool_name", "operator": "in", "value": list(tool)}
    else:
        env_re = f"[^{_SEP_FIELD}]*" if env == "*" else re.escape(env)
        pattern = f"(?s)^{_tool_regex(tool)}{_SEP_FIELD}{env_re}{_SEP_FIELD}"
        if keywords:
            pattern += ".*?(?:" + "|".join(re.escape(k) for k in keywords) + ")"
        condition = {"field": "probe", "operator": "matches", "value": pattern}

    outcome = rule["outcome"]
    return {
        "name": rule["id"],
        "condition": condition,
        "action": "allow" if outcome == "ALLOW" else "deny",
        "priority": 0,
        "message": rule.get("description", ""),
    }


def build_evaluator(policy: dict[str, Any]) -> PolicyEvaluator:
    default = policy["defaults"]["outcome"]
    doc = PolicyDocument.model_validate(
        {
            "version": "1.0",
            "name": f"agent-spm-{policy['version']}",
            "rules": [_translate_rule(r) for r in policy["rules"]],
            "defaults": {"action": "allow" if default == "ALLOW" else "deny"},
        }
    )
    return PolicyEvaluator(policies=[doc])


def _searchable(value: Any, out: list[str]) -> None:
    """Agent-SPM's searchable values: strings, numbers and booleans of the tool arguments (recursively,
    values only, never keys)."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int | float):
        out.append(str(value))
    elif isinstance(value, dict):
        for v in value.values():
            _searchable(v, out)
    elif isinstance(value, list | tuple):
        for v in value:
            _searchable(v, out)


def policy_context(req: dict[str, Any]) -> dict[str, Any]:
    """The evaluation context AGT's PolicyEvaluator gets for one request (built inside the timed call)."""
    tool = req["tool_name"]
    env = req["environment"]
    values: list[str] = [req["user_input"]] if req.get("user_input") else []
    _searchable(req["tool_args"], values)
    return {
        "agent_id": req["agent_id"],
        "action_type": "tool_call",
        "tool_name": tool,
        "environment": env,
        "tool_env": f"{tool}{_SEP_FIELD}{env}",
        "always": True,
        "probe": f"{tool}{_SEP_FIELD}{env}{_SEP_FIELD}" + _SEP_VALUE.join(v.lower() for v in values),
        "tool_args": req["tool_args"],
    }


# ------------------------------------------------------------------------------------------------
# The governed decision
# ------------------------------------------------------------------------------------------------


class AgtPipeline:
    """Kill switch (emulated) -> RateLimiter -> session limits (emulated) -> PolicyEvaluator -> AuditLog."""

    def __init__(self, workload: dict[str, Any]) -> None:
        controls = workload["controls"]
        policy = workload["policy"]
        self.killed: dict[str, str] = dict(controls["kill_switch"]["killed_agents"])
        rl = controls["rate_limiter"]
        self.rate_limiter = RateLimiter(
            max_calls=int(rl["max_per_minute"]), time_window=float(rl["window_s"]), per_agent=True
        )
        self.session_limits: dict[str, int] = {
            tool: int(v.get("max_per_session", v.get("maxPerSession")) if isinstance(v, dict) else v)
            for tool, v in controls["session_context"]["limits"].items()
        }
        self.session_counts: dict[tuple[str, str], int] = {}
        self.evaluator = build_evaluator(policy)
        self.rule_outcome = {r["id"]: r["outcome"] for r in policy["rules"]}
        self.default_outcome = policy["defaults"]["outcome"]
        self.audit = AuditLog()

    def decide(self, req: dict[str, Any]) -> tuple[bool, str]:
        agent = req["agent_id"]
        tool = req["tool_name"]
        session = req.get("session_id")

        reason = self.killed.get(agent)
        if reason is not None:
            return self._record(req, False, "AGENT_KILL_SWITCH", reason)
        if not self.rate_limiter.allow(agent):
            return self._record(req, False, "RATE_LIMIT_AGENT", f"Agent {agent} exceeded its rate limit")
        limit = self.session_limits.get(tool) if session else None
        if limit is not None and self.session_counts.get((session, tool), 0) >= limit:
            return self._record(
                req, False, "SESSION_LIMIT_EXCEEDED", f"Tool {tool} reached its per-session limit ({limit})"
            )

        decision = self.evaluator.evaluate(policy_context(req))
        code = decision.matched_rule or f"DEFAULT_{self.default_outcome}"
        outcome = self.rule_outcome[decision.matched_rule] if decision.matched_rule else self.default_outcome
        allowed = decision.allowed and outcome == "ALLOW"
        if allowed and limit is not None:
            key = (session, tool)
            self.session_counts[key] = self.session_counts.get(key, 0) + 1
        return self._record(req, allowed, code, decision.reason, outcome)

    def policy_code(self, req: dict[str, Any]) -> str:
        """What the policy alone decides for ``req``: the matched rule id or ``DEFAULT_<outcome>``."""
        return self.evaluator.evaluate(policy_context(req)).matched_rule or f"DEFAULT_{self.default_outcome}"

    def _record(
        self, req: dict[str, Any], allowed: bool, code: str, reason: str, outcome: str | None = None
    ) -> tuple[bool, str]:
        self.audit.log(
            event_type="tool_invocation" if allowed else "tool_blocked",
            agent_did=req["agent_id"],
            action=req["tool_name"],
            resource=req["environment"],
            data={
                "code": code,
                "reason": reason,
                "session_id": req.get("session_id"),
                "outcome": outcome or ("ALLOW" if allowed else "DENY"),
            },
            outcome="success" if allowed else "denied",
            policy_decision="allow" if allowed else "deny",
        )
        return allowed, code


# ------------------------------------------------------------------------------------------------
# Measurement
# ------------------------------------------------------------------------------------------------


def _percentile(sorted_ns: list[int], p: float) -> float:
    idx = min(len(sorted_ns) - 1, max(0, round(p / 100 * len(sorted_ns)) - 1))
    return sorted_ns[idx] / 1000.0


def _breakdown(pipeline: AgtPipeline, requests: list[dict[str, Any]], k: int) -> dict[str, float]:
    """Mean cost of the three AGT components alone, measured after the main run (for the report only)."""
    perf = time.perf_counter_ns
    contexts = [policy_context(req) for req in requests]
    m = len(requests)

    def mean_of(fn: Any) -> float:
        total = 0
        for i in range(k):
            t0 = perf()
            fn(i)
            total += perf() - t0
        return round(total / k / 1000.0, 2)

    evaluate = pipeline.evaluator.evaluate
    log = pipeline.audit.log
    allow = pipeline.rate_limiter.allow
    return {
        "policy_evaluator": mean_of(lambda i: evaluate(contexts[i % m])),
        "audit_log": mean_of(
            lambda i: log(
                event_type="tool_blocked",
                agent_did=requests[i % m]["agent_id"],
                action=requests[i % m]["tool_name"],
                data={"code": "X"},
                outcome="denied",
                policy_decision="deny",
            )
        ),
        "rate_limiter": mean_of(lambda i: allow(requests[i % m]["agent_id"])),
    }


def run(workload: dict[str, Any], n: int, warmup: int) -> dict[str, Any]:
    pipeline = AgtPipeline(workload)
    requests = workload["requests"]
    m = len(requests)
    decide = pipeline.decide
    perf = time.perf_counter_ns

    warmup = max(warmup, 3 * m)  # the session-limited request must have used up its budget
    for i in range(warmup):
        decide(requests[i % m])

    # The policy alone must decide every request as ours does (same rule, or the default).
    mismatches: list[dict[str, Any]] = []
    for req in requests:
        got = pipeline.policy_code(req)
        if got != req["policy_code"]:
            mismatches.append({"request": req["id"], "policy_code": got, "expected": req["policy_code"]})
    # Steady-state correctness: one full cycle must give exactly the expected outcomes.
    for req in requests:
        allowed, code = decide(req)
        exp = req["expected"]
        if allowed != exp["allowed"] or code != exp["code"]:
            mismatches.append({"request": req["id"], "got": {"allowed": allowed, "code": code}, "expected": exp})
    if mismatches:
        raise SystemExit("AGT outcomes differ from the workload's expectations: " + json.dumps(mismatches))

    samples = [0] * n
    allowed_count = 0
    gc.collect()
    for i in range(n):
        req = requests[i % m]
        t0 = perf()
        allowed, _code = decide(req)
        samples[i] = perf() - t0
        allowed_count += allowed

    entries = len(pipeline.audit._chain._entries)
    ok, err = pipeline.audit.verify_integrity()
    if not ok:
        raise SystemExit(f"AGT audit chain failed verification: {err}")
    breakdown = _breakdown(pipeline, requests, max(1_000, n // 4))

    samples.sort()
    return {
        "tool": DIST,
        "version": importlib.metadata.version(DIST),
        "python": sys.version.split()[0],
        "p50_us": round(_percentile(samples, 50), 2),
        "p90_us": round(_percentile(samples, 90), 2),
        "p99_us": round(_percentile(samples, 99), 2),
        "mean_us": round(statistics.fmean(samples) / 1000.0, 2),
        "n": n,
        "warmup": warmup,
        "rules": len(workload["policy"]["rules"]),
        "requests_in_mix": m,
        "allowed_share": round(allowed_count / n, 3),
        "audit_entries": entries,
        "breakdown_mean_us": breakdown,
        "features": [
            "kill switch: emulated (dict lookup; AGT KillSwitch only terminates processes)",
            "per-agent rate limit: agent_os.integrations.rate_limiter.RateLimiter (native)",
            "per-tool session limits: emulated (dict counter; AGT has only a per-session total)",
            "100-rule first-match policy incl. keyword conditions: agent_os.policies.PolicyEvaluator "
            "(native; one condition per rule, keywords via 'matches' regex on a harness-built probe)",
            "hash-chained in-memory audit, one entry per decision: agentmesh.governance.audit.AuditLog "
            "(native; SHA-256 chain + Merkle tree), verified after the run",
            "REQUIRE_APPROVAL mapped to deny (no approval handler on either side)",
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, type=Path, help="workload JSON (benchmarks/_workload.py)")
    parser.add_argument("--n", type=int, default=None, help="timed calls (default: the workload's)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up calls (default: the workload's)")
    args = parser.parse_args(argv)
    workload = json.loads(args.workload.read_text(encoding="utf-8"))
    n = args.n if args.n is not None else int(workload["timed"])
    warmup = args.warmup if args.warmup is not None else int(workload["warmup"])
    if n <= 0 or warmup < 0:
        parser.error("--n must be > 0 and --warmup >= 0")
    result = run(workload, n, warmup)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
