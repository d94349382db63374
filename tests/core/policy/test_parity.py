"""Parity with Agent-SPM's documented evaluation semantics (original-behaviour.md §2.3).

A small reference evaluator written from that description is run side by side with the engine on random
bundles and requests drawn from the domain where the original's semantics are kept unchanged (lower-case
ASCII names, prefix globs, same-typed argument literals, single-spaced ASCII text). Outside that domain
we differ on purpose (case, Unicode, numeric strings, globs anywhere): see docs/policies.md.

Issue 20 narrowed the domain to *plain* requests, where a value reads one way: no ``user_input`` and at
most one value carrying text the rules look for. Elsewhere a keyword exemption must come from the value a
rule concerns, an anchored pattern also matches each value alone, and ``user_input`` cannot switch a rule
off (or an ALLOW rule on): the readings that differ from the original's are tested in test_readings.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_security.core.models import Action, ActionRequest, AgentInfo, RequestContext, ToolIdentity
from agent_security.core.policy import PolicyEngine, load_policy

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ORDER = ["untrusted", "basic", "verified", "privileged", "system"]

TOOLS = ["send_email", "send_sms", "query_db", "query_customer_db", "trigger_payment"]
ENVS = ["prod", "dev", "staging"]
WORDS = ["export", "dump", "select", "all customers", "hello", "bulk", "5000", "report"]


# -- the reference: Agent-SPM's evaluate() as documented ----------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int | float):
        return [str(value)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def _tool_ok(spec: Any, tool: str) -> bool:
    if spec == "*":
        return True
    if isinstance(spec, list):
        return tool in spec
    if spec.endswith("*") and len(spec) > 1:
        return tool.startswith(spec[:-1])
    return tool == spec


def _one_of(spec: Any, value: str | None) -> bool:
    if value is None:
        return False
    return value in spec if isinstance(spec, list) else value == spec


def _args_ok(conditions: dict[str, Any], args: dict[str, Any]) -> bool:
    for key, expected in conditions.items():
        actual = args.get(key)
        if isinstance(expected, dict):
            for op, operand in expected.items():
                if op in ("gt", "gte", "lt", "lte"):
                    if not isinstance(actual, int | float) or isinstance(actual, bool):
                        return False
                    ok = {
                        "gt": actual > operand,
                        "gte": actual >= operand,
                        "lt": actual < operand,
                        "lte": actual <= operand,
                    }[op]
                    if not ok:
                        return False
                elif (op == "eq" and actual != operand) or (op == "neq" and actual == operand):
                    return False
        elif actual != expected or key not in args:
            return False
    return True


def _found(terms: list[str], values: list[str]) -> bool:
    return any(t.lower() in v.lower() for t in terms for v in values)


def reference(bundle: dict[str, Any], req: dict[str, Any]) -> tuple[str, str]:
    for rule in bundle["rules"]:
        m = rule["match"]
        if not _tool_ok(m["tool_name"], req["tool"]):
            continue
        if m["environment"] != "*" and m["environment"] != req["env"]:
            continue
        if "agent_type" in m and not _one_of(m["agent_type"], req["agent_type"]):
            continue
        if "trust_level_min" in m and (
            req["trust"] is None or ORDER.index(req["trust"]) < ORDER.index(m["trust_level_min"])
        ):
            continue
        if m.get("agent_roles_any") and not set(m["agent_roles_any"]) & set(req["roles"]):
            continue
        if "tool_provider" in m and not _one_of(m["tool_provider"], req["provider"]):
            continue
        w = rule.get("when", {})
        values = ([req["user_input"]] if req["user_input"] else []) + _strings(req["args"])
        if w.get("contains_any") and not _found(w["contains_any"], values):
            continue
        if w.get("not_contains") and _found(w["not_contains"], values):
            continue
        if "matches_regex" in w and not re.search(w["matches_regex"], " ".join(values), re.IGNORECASE):
            continue
        if w.get("data_labels_any") and not set(w["data_labels_any"]) & set(req["labels"]):
            continue
        if "tool_args_match" in w and not _args_ok(w["tool_args_match"], req["args"]):
            continue
        return rule["outcome"], rule["id"]
    outcome = bundle["defaults"]["outcome"]
    return outcome, f"DEFAULT_{outcome}"


# -- strategies -------------------------------------------------------------------------------------------

names = st.sampled_from(TOOLS)
tool_spec = st.one_of(
    names,
    st.just("*"),
    st.sampled_from(["send_*", "query_*", "trigger_*"]),
    st.lists(names, min_size=1, max_size=3, unique=True),
)
when = st.fixed_dictionaries(
    {},
    optional={
        "contains_any": st.lists(st.sampled_from(WORDS), max_size=3),
        "not_contains": st.lists(st.sampled_from(WORDS), max_size=2),
        "matches_regex": st.sampled_from(["^select", "\\d{4}", "customers$", "export|dump"]),
        "data_labels_any": st.lists(st.sampled_from(["PCI", "PII"]), max_size=2),
        # same-typed literals only: ordering operators on the number, equality on the string
        "tool_args_match": st.fixed_dictionaries(
            {},
            optional={
                "amount": st.one_of(
                    st.integers(0, 10_000),
                    st.fixed_dictionaries(
                        {}, optional={"gt": st.integers(0, 10_000), "lte": st.integers(0, 10_000)}
                    ).filter(bool),
                ),
                "to": st.one_of(
                    st.sampled_from(["a@x.com", "b@y.com"]), st.fixed_dictionaries({"neq": st.just("a@x.com")})
                ),
            },
        ),
    },
)


def _rule(i: int) -> st.SearchStrategy[dict[str, Any]]:
    match = st.fixed_dictionaries(
        {"tool_name": tool_spec, "environment": st.sampled_from(["*", *ENVS])},
        optional={
            "agent_type": st.one_of(
                st.sampled_from(["pr_agent", "chat_agent"]),
                st.lists(st.sampled_from(["pr_agent", "chat_agent"]), min_size=1),
            ),
            "trust_level_min": st.sampled_from(ORDER),
            "agent_roles_any": st.lists(st.sampled_from(["admin", "ops"]), max_size=2),
            "tool_provider": st.sampled_from(["mcp", "custom"]),
        },
    )
    return st.fixed_dictionaries(
        {
            "id": st.just(f"R{i}"),
            "description": st.just(f"rule {i}"),
            "match": match,
            "outcome": st.sampled_from(["ALLOW", "DENY", "REQUIRE_APPROVAL", "STEP_UP"]),
        },
        optional={"when": when},
    )


bundles = (
    st.integers(0, 10)
    .flatmap(lambda n: st.tuples(*(_rule(i) for i in range(n))))
    .flatmap(
        lambda rules: st.fixed_dictionaries(
            {
                "version": st.just("1"),
                "generated_at": st.just("2026-01-01T00:00:00Z"),
                "expires_at": st.just("2027-01-01T00:00:00Z"),
                "rules": st.just(list(rules)),
                "defaults": st.fixed_dictionaries({"outcome": st.sampled_from(["ALLOW", "DENY"])}),
            }
        )
    )
)
text = st.lists(st.sampled_from([*WORDS, "SELECT", "Export", "x"]), max_size=3).map(" ".join)
req = st.fixed_dictionaries(
    {
        "tool": names,
        "env": st.sampled_from(ENVS),
        "agent_type": st.one_of(st.none(), st.sampled_from(["pr_agent", "chat_agent"])),
        "trust": st.one_of(st.none(), st.sampled_from(ORDER)),
        "roles": st.lists(st.sampled_from(["admin", "ops", "dev"]), max_size=2),
        "provider": st.one_of(st.none(), st.sampled_from(["mcp", "custom"])),
        "user_input": st.one_of(st.none(), text),
        "labels": st.lists(st.sampled_from(["PCI", "PII", "INTERNAL"]), max_size=2),
        "args": st.fixed_dictionaries(
            {},
            optional={
                "amount": st.integers(0, 10_000),
                "to": st.sampled_from(["a@x.com", "b@y.com"]),
                "q": text,
                "nested": st.dictionaries(st.sampled_from(["k", "l"]), st.one_of(text, st.integers(0, 9999))),
            },
        ),
    }
)


def _request(r: dict[str, Any]) -> ActionRequest:
    identity = ToolIdentity(tool_name=r["tool"], provider=r["provider"]) if r["provider"] else None
    return ActionRequest(
        agent=AgentInfo(
            agent_id="a",
            environment=r["env"],
            agent_type=r["agent_type"],
            trust_level=r["trust"],
            roles=tuple(r["roles"]),
        ),
        action=Action(tool_name=r["tool"], tool_args=r["args"], tool_identity=identity),
        context=RequestContext(user_input=r["user_input"], data_labels=tuple(r["labels"])),
    )


_WORDY = re.compile("|".join([*(re.escape(w) for w in WORDS), r"\d{4}", "select", "customers"]), re.IGNORECASE)


def _plain(r: dict[str, Any]) -> bool:
    """One reading: no user_input, at most one value with text a rule of this domain looks for."""
    return not r["user_input"] and sum(1 for v in _strings(r["args"]) if _WORDY.search(v)) <= 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundles, st.lists(req, min_size=1, max_size=6))
def test_same_decisions_as_the_original_in_the_shared_domain(bundle, requests):
    engine = PolicyEngine(load_policy(bundle, now=NOW))
    for r in requests:
        if not _plain(r):
            continue
        decision = engine.evaluate(_request(r), now=NOW)
        assert (decision.outcome.value, decision.codes[0]) == reference(bundle, r), (bundle, r)
