"""Loading bundles: sources, schema errors (naming rule id and field), bounds, expiry, no aliasing."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent_security.core.errors import PolicyLoadError
from agent_security.core.policy import (
    MAX_BUNDLE_BYTES,
    PolicyBundle,
    PolicyEngine,
    load_policy,
    load_policy_file,
    load_policy_json,
    load_policy_yaml,
)
from agent_security.core.policy.models import parse_timestamp


def test_loads_every_source_form(tmp_path, examples_dir, now):
    from_json = load_policy(examples_dir / "default-policy.json", now=now)
    from_yaml = load_policy(str(examples_dir / "default-policy.yaml"), now=now)
    text = (examples_dir / "default-policy.json").read_text()
    from_text = load_policy(text, now=now)
    from_bytes = load_policy(text.encode(), now=now)
    from_dict = load_policy(json.loads(text), now=now)
    from_model = load_policy(from_dict, now=now)
    yml = tmp_path / "p.yml"
    yml.write_text((examples_dir / "default-policy.yaml").read_text())
    from_yml = load_policy_file(yml, now=now)
    assert from_json == from_yaml == from_text == from_bytes == from_dict == from_model == from_yml
    assert [r.id for r in from_json.rules][:2] == ["DENY_BULK_EXPORT", "DENY_PCI_EMAIL"]
    assert from_json.defaults.outcome.value == "DENY"
    assert load_policy_json(text, now=now) == load_policy_yaml(
        (examples_dir / "default-policy.yaml").read_text(), now=now
    )


def test_unsupported_source_type():
    with pytest.raises(TypeError):
        load_policy(42)  # type: ignore[arg-type]


def _error(data, now) -> PolicyLoadError:
    with pytest.raises(PolicyLoadError) as info:
        load_policy(data, now=now)
    return info.value


def test_unknown_rule_key_names_rule_and_field(build_bundle, make_rule, now):
    bad = make_rule("DENY_X", "send_email", when={"contain_any": ["x"]})
    err = _error(build_bundle(bad), now)
    assert err.rule_id == "DENY_X"
    assert err.field == "when.contain_any"
    assert "unknown key 'contain_any'" in str(err)
    assert str(err).startswith('Rule "DENY_X": when.contain_any:')


@pytest.mark.parametrize(
    ("patch", "field", "fragment"),
    [
        ({"outcome": "MAYBE"}, "outcome", "must be one of: ALLOW, DENY"),
        ({"match": {"tool_name": 5, "environment": "*"}}, "match.tool_name", "string or a list of strings"),
        ({"match": {"tool_name": ["a", 3]}}, "match.tool_name", "item 1"),
        (
            {"match": {"tool_name": "a", "trust_level_min": "admin"}},
            "match.trust_level_min",
            "unknown trust level 'admin'",
        ),
        ({"match": {"environment": "*"}}, "match.tool_name", "missing required field"),
        ({"when": {"contains_any": ["ok", 7]}}, "when.contains_any", "item 1 is int"),
        ({"when": {"contains_any": ["\u200b"]}}, "when.contains_any", "empty after normalisation"),
        ({"when": {"matches_regex": "(?=lookahead)"}}, "when.matches_regex", "invalid regular expression"),
        ({"when": {"matches_regex": "(unclosed"}}, "when.matches_regex", "missing )"),
        (
            {"when": {"tool_args_match": {"amount": {"gtt": 5}}}},
            "when.tool_args_match.amount.gtt",
            "unknown operator 'gtt'",
        ),
        ({"when": {"tool_args_match": {"amount": {"gt": "lots"}}}}, "when.tool_args_match.amount.gt", "needs a number"),
        ({"when": {"tool_args_match": {"amount": {"in": 5}}}}, "when.tool_args_match.amount.in", "needs a list"),
        (
            {"when": {"tool_args_match": {"a": {"regex": "(?<=x)y"}}}},
            "when.tool_args_match.a.regex",
            "invalid regular expression",
        ),
        ({"when": {"tool_args_match": {"a..b": 1}}}, "when.tool_args_match.a..b", "empty segment"),
        ({"when": {"tool_args_match": {"a": {}}}}, "when.tool_args_match.a", "empty operator object"),
        ({"when": "always"}, "when", "must be an object"),
        ({"constraints": [1, 2]}, "constraints", "must be an object"),
        ({"approver_role": 5}, "approver_role", "string"),
    ],
)
def test_rule_errors_name_rule_id_and_field(build_bundle, make_rule, now, patch, field, fragment):
    bad = make_rule("RULE_1", "send_email")
    bad.update(patch)
    err = _error(build_bundle(make_rule("OK_0", "x"), bad), now)
    assert err.rule_id == "RULE_1"
    assert err.field == field
    assert fragment in str(err)


def test_rule_without_id_is_named_by_index(build_bundle, make_rule, now):
    bad = make_rule("X", "a")
    del bad["id"]
    err = _error(build_bundle(make_rule("A", "a"), bad), now)
    assert err.rule_id is None
    assert "Rule at index 1: id: missing required field" in str(err)


def test_duplicate_rule_ids_rejected(build_bundle, make_rule, now):
    err = _error(build_bundle(make_rule("SAME", "a"), make_rule("SAME", "b")), now)
    assert err.rule_id == "SAME"
    assert "duplicate rule id 'SAME'" in str(err)


@pytest.mark.parametrize(
    ("patch", "field", "fragment"),
    [
        ({"version": ""}, "version", "at least 1"),
        ({"version": None}, "version", "string"),
        ({"defaults": {"outcome": "allow"}}, "defaults.outcome", "must be one of"),
        ({"defaults": {"outcome": "DENY", "x": 1}}, "defaults.x", "unknown key"),
        ({"extra_top": 1}, "extra_top", "unknown key"),
        ({"generated_at": "January 1, 2026"}, "generated_at", "not an ISO-8601 timestamp"),
        ({"expires_at": "2026/12/01"}, "expires_at", "not an ISO-8601 timestamp"),
        ({"expires_at": "2026-02-30T00:00:00Z"}, "expires_at", "not a valid date"),
        ({"generated_at": "2027-01-01T00:00:00Z"}, "generated_at", "generated_at must be before expires_at"),
        ({"signature": "ABC"}, "signature", "pattern"),
        ({"signatures": [{"key_id": "k", "alg": "rsa", "sig": "x"}]}, "signatures.0.alg", "ed25519"),
    ],
)
def test_bundle_level_errors(build_bundle, now, patch, field, fragment):
    data = build_bundle()
    data.update(patch)
    err = _error(data, now)
    assert err.rule_id is None
    assert err.field == field
    assert fragment in str(err)


def test_rules_must_be_an_array(build_bundle, now):
    data = build_bundle()
    data["rules"] = {"a": 1}
    assert "'rules' must be an array" in str(_error(data, now))


def test_rule_count_limit(build_bundle, make_rule, now):
    ok = build_bundle(*(make_rule(f"R{i}", f"t{i}") for i in range(1000)))
    assert len(load_policy(ok, now=now).rules) == 1000
    too_many = build_bundle(*(make_rule(f"R{i}", f"t{i}") for i in range(1001)))
    err = _error(too_many, now)
    assert "maximum rule count of 1000 (actual: 1001)" in str(err)


def test_huge_array_gives_clean_errors(build_bundle, now):
    text = json.dumps(build_bundle()).replace('"rules": []', '"rules": [' + ",".join(["0"] * 200_000) + "]")
    assert len(text) < MAX_BUNDLE_BYTES
    err = _error(text, now)
    assert "maximum rule count of 1000 (actual: 200000)" in str(err)
    top_level = "[" + ",".join(["0"] * 200_000) + "]"
    assert "must be a non-null object" in str(_error(top_level, now))
    inside = build_bundle()
    inside["rules"] = [
        {"id": "R", "match": {"tool_name": "t"}, "outcome": "DENY", "constraints": {"big": [0] * 200_000}}
    ]
    bundle = load_policy(inside, now=now)
    assert len(bundle.rules[0].constraints["big"]) == 200_000  # type: ignore[index]


def test_depth_limit(build_bundle, now):
    def nested(levels: int) -> object:
        value: object = 1
        for _ in range(levels):
            value = {"x": value}
        return value

    ok = build_bundle()
    ok["rules"] = [{"id": "R", "match": {"tool_name": "t"}, "outcome": "DENY", "constraints": nested(17)}]
    load_policy(ok, now=now)  # bundle, rules array, rule, then 17 nested objects: 20 levels
    deep = build_bundle()
    deep["rules"] = [{"id": "R", "match": {"tool_name": "t"}, "outcome": "DENY", "constraints": nested(18)}]
    assert "maximum object depth of 20" in str(_error(deep, now))
    assert "maximum object depth of 20" in str(_error(json.dumps(deep), now))
    very_deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    assert "depth" in str(_error(very_deep, now))
    assert "depth" in str(_error(build_bundle(x=nested(100_000)), now))
    yaml_deep = "a:\n" + "".join("  " * i + "  b:\n" for i in range(30)) + "  " * 31 + "c: 1\n"
    with pytest.raises(PolicyLoadError, match="depth"):
        load_policy_yaml(yaml_deep)


def test_size_limits(tmp_path, build_bundle, make_rule, now):
    big = build_bundle(make_rule("R", "t", description="x" * (MAX_BUNDLE_BYTES + 10)))
    assert "maximum allowed size" in str(_error(big, now))
    assert "maximum allowed size" in str(_error(json.dumps(big), now))
    path = tmp_path / "big.json"
    path.write_text(json.dumps(big))
    with pytest.raises(PolicyLoadError, match="exceeds maximum allowed size"):
        load_policy(path, now=now)


def test_file_errors(tmp_path, now):
    with pytest.raises(PolicyLoadError, match="File not found"):
        load_policy(tmp_path / "missing.json", now=now)
    with pytest.raises(PolicyLoadError, match="not a regular file"):
        load_policy_file(tmp_path, now=now)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.json"
        os.mkfifo(fifo)
        with pytest.raises(PolicyLoadError, match="not a regular file"):
            load_policy(fifo, now=now)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{\xff}")
    with pytest.raises(PolicyLoadError, match="not valid UTF-8"):
        load_policy(bad, now=now)
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": ')
    with pytest.raises(PolicyLoadError, match=r"broken\.json: PolicyBundle JSON parse error"):
        load_policy(broken, now=now)


def test_json_strictness(build_bundle, now):
    text = json.dumps(build_bundle())
    assert "duplicate key 'version'" in str(_error(text.replace("{", '{"version": "x", ', 1), now))
    assert "NaN is not valid JSON" in str(_error(text.replace('"rules": []', '"rules": [], "n": NaN'), now))


def test_yaml_safety(now):
    base = (
        'version: "1"\ngenerated_at: 2026-01-01T00:00:00Z\nexpires_at: 2027-01-01T00:00:00Z\n'
        "defaults: {outcome: DENY}\n"
    )
    rules = (
        "rules:\n  - id: R\n    match: {tool_name: t, environment: prod}\n    outcome: DENY\n"
        "    when: {tool_args_match: {country: NO, flag: yes, ok: true}}\n"
    )
    bundle = load_policy_yaml(base + rules, now=now)
    assert bundle.generated_at == "2026-01-01T00:00:00Z"  # timestamps stay strings
    args = bundle.rules[0].when.tool_args_match  # type: ignore[union-attr]
    assert args == {"country": "NO", "flag": "yes", "ok": True}  # no YAML 1.1 Norway problem
    with pytest.raises(PolicyLoadError, match="duplicate key 'outcome'"):
        load_policy_yaml(base + rules + "    outcome: ALLOW\n", now=now)
    aliased = base + "x: &a [1, 2]\nrules: *a\n"
    with pytest.raises(PolicyLoadError, match="aliases are not allowed"):
        load_policy_yaml(aliased, now=now)
    with pytest.raises(PolicyLoadError, match="YAML parse error"):
        load_policy_yaml("a: [1, 2", now=now)
    with pytest.raises(PolicyLoadError, match="not JSON"):
        load_policy_yaml(base + "rules: []\nblob: !!binary aGVsbG8=\n", now=now)


YAML_HEAD = (
    'version: "1"\ngenerated_at: "2026-01-01"\nexpires_at: "2027-01-01"\n'
    "defaults: {outcome: ALLOW}\nrules:\n- id: R\n  match: {tool_name: t}\n  outcome: DENY\n"
)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("0022", "0022"),  # YAML 1.1: octal 18
        ("02134", "02134"),  # YAML 1.1: octal 1116
        ("23:30", "23:30"),  # YAML 1.1: sexagesimal 1410
        ("1:30:00", "1:30:00"),
        ("1_000", "1_000"),
        ("0b11", "0b11"),
        ("010.5", "010.5"),
        ("0o17", 15),  # YAML 1.2 octal
        ("0x1F", 31),
        ("22", 22),
        ("-5", -5),
        ("0", 0),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("-.5", -0.5),
    ],
)
def test_yaml_numbers_follow_yaml_1_2(now, literal, value):
    bundle = load_policy_yaml(YAML_HEAD + f"  when: {{tool_args_match: {{x: {literal}}}}}\n", now=now)
    loaded = bundle.rules[0].when.tool_args_match["x"]  # type: ignore[union-attr]
    assert loaded == value and type(loaded) is type(value)


def test_yaml_number_decisions(now, request_factory):
    bundle = load_policy_yaml(
        YAML_HEAD.replace("t}", "open_port}") + "  when: {tool_args_match: {port: 0022}}\n"
        "- id: LATE\n  match: {tool_name: sched}\n  outcome: DENY\n"
        "  when: {tool_args_match: {at: 23:30}}\n",
        now=now,
    )
    engine = PolicyEngine(bundle)
    assert engine.evaluate(request_factory("open_port", {"port": 22}), now=now).codes == ("R",)
    assert engine.evaluate(request_factory("open_port", {"port": 18}), now=now).codes == ("DEFAULT_ALLOW",)
    assert engine.evaluate(request_factory("sched", {"at": "23:30"}), now=now).codes == ("LATE",)


@pytest.mark.parametrize("literal", ["9" * 5000, "!!int 0022", "!!int 1_000", "!!float 1:30"])
def test_yaml_bad_numbers_are_load_errors(now, literal):
    with pytest.raises(PolicyLoadError, match="YAML parse error"):
        load_policy_yaml(YAML_HEAD + f"  when: {{tool_args_match: {{n: {{gt: {literal}}}}}}}\n", now=now)


def test_expiry_at_load(build_bundle, now, request_factory):
    data = build_bundle(expires_at="2026-03-01T00:00:00Z")
    err = _error(data, now)
    assert "expired at 2026-03-01T00:00:00Z" in str(err)
    assert err.field == "expires_at"
    bundle = load_policy(data, now=now, allow_expired=True)
    assert bundle.is_expired(now)
    assert PolicyEngine(bundle).evaluate(request_factory("t"), now=now).codes == ("POLICY_EXPIRED",)


def test_future_generated_at_is_refused_beyond_the_clock_skew(build_bundle, now):
    # a bundle dated ahead would make every genuinely newer bundle look like a rollback
    with pytest.raises(PolicyLoadError, match=r"generated_at .* is in the future") as info:
        load_policy(build_bundle(generated_at="2026-12-01T00:00:00Z"), now=now)
    assert info.value.field == "generated_at"
    with pytest.raises(PolicyLoadError, match="in the future"):
        load_policy(build_bundle(generated_at="2026-06-01T00:05:01Z"), now=now)
    assert load_policy(build_bundle(generated_at="2026-06-01T00:05:00Z"), now=now).generated_at_dt > now
    # for inspection and lint, as for an expired bundle
    data = build_bundle(generated_at="2026-12-01T00:00:00Z")
    assert load_policy(data, now=now, allow_expired=True).generated_at_dt > now


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-21T00:00:00.000Z", datetime(2026, 1, 21, tzinfo=UTC)),
        ("2026-01-21T00:00:00Z", datetime(2026, 1, 21, tzinfo=UTC)),
        ("2026-01-21T02:00:00+02:00", datetime(2026, 1, 21, tzinfo=UTC)),
        ("2026-01-21T00:00:00.123456789Z", datetime(2026, 1, 21, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2026-01-21T00:00", datetime(2026, 1, 21, tzinfo=UTC)),
        ("2026-01-21", datetime(2026, 1, 21, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "January 1, 2026",
        "2026-1-1",
        "2026-01-21 00:00:00",
        "20260121",
        "2026-01-21T00:00:00 Z",
        "2026-W03",
        "2026-13-01",
        "2026-01-21T25:00:00Z",
    ],
)
def test_timestamp_rejects_lenient_forms(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_loaded_bundle_shares_nothing_with_source(build_bundle, make_rule, now, request_factory):
    source = build_bundle(
        make_rule(
            "R",
            "pay",
            "REQUIRE_APPROVAL",
            constraints={"limits": {"max": 10}},
            when={"tool_args_match": {"amount": {"gt": 100}}},
        )
    )
    bundle = load_policy(source, now=now)
    engine = PolicyEngine(bundle)
    source["rules"][0]["outcome"] = "ALLOW"
    source["rules"][0]["constraints"]["limits"]["max"] = 10**6
    source["rules"][0]["when"]["tool_args_match"]["amount"]["gt"] = 10**9
    source["defaults"]["outcome"] = "DENY"
    decision = engine.evaluate(request_factory("pay", {"amount": 500}), now=now)
    assert decision.outcome.value == "REQUIRE_APPROVAL"
    assert decision.constraints == {"limits": {"max": 10}}
    assert bundle.rules[0].constraints == {"limits": {"max": 10}}


def test_bundle_is_deeply_immutable(build_bundle, make_rule, now, request_factory):
    bundle = load_policy(build_bundle(make_rule("R", "t", constraints={"a": {"b": [1]}})), now=now)
    rule = bundle.rules[0]
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        rule.outcome = "ALLOW"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rule.constraints["a"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        rule.constraints["a"]["b"] = 2  # type: ignore[index]
    assert isinstance(rule.constraints["a"]["b"], tuple)  # type: ignore[index]
    engine = PolicyEngine(bundle)
    first = engine.evaluate(request_factory("t"), now=now)
    first.constraints["a"]["b"].append(2)  # type: ignore[index]  # the caller's copy is theirs
    assert engine.evaluate(request_factory("t"), now=now).constraints == {"a": {"b": [1]}}


def test_environment_defaults_to_any_and_description_to_empty(build_bundle, now):
    # Agent-SPM's README example omits match.environment (and so fails its own validation).
    data = build_bundle(
        {
            "id": "R",
            "match": {
                "tool_name": "trigger_payment",
                "trust_level_min": "privileged",
                "agent_roles_any": ["finance.writer"],
            },
            "outcome": "ALLOW",
        }
    )
    rule = load_policy(data, now=now).rules[0]
    assert rule.match.environment == "*"
    assert rule.description == ""


def test_original_readme_policy_loads_and_decides(now, request_factory):
    readme = {
        "version": "0.1.0",
        "generated_at": "2026-01-29T00:00:00.000Z",
        "expires_at": "2027-01-29T00:00:00.000Z",
        "rules": [
            {
                "id": "DENY_BULK_EXPORT",
                "description": "Block bulk data exports",
                "match": {"tool_name": "query_database", "environment": "*"},
                "when": {"contains_any": ["SELECT *", "export", "dump"]},
                "outcome": "DENY",
            },
            {
                "id": "REQUIRE_APPROVAL_PAYMENT",
                "description": "Payments need approval in production",
                "match": {"tool_name": "trigger_payment", "environment": "prod"},
                "outcome": "REQUIRE_APPROVAL",
                "approver_role": "finance_manager",
            },
        ],
        "defaults": {"outcome": "ALLOW"},
    }
    engine = PolicyEngine(load_policy(readme, now=now))
    assert engine.evaluate(request_factory("query_database", {"sql": "select * from t"}), now=now).codes == (
        "DENY_BULK_EXPORT",
    )
    pay = engine.evaluate(request_factory("trigger_payment", {"amount": 1}), now=now)
    assert (pay.outcome.value, pay.approver_role) == ("REQUIRE_APPROVAL", "finance_manager")
    assert engine.evaluate(request_factory("send_email"), now=now).codes == ("DEFAULT_ALLOW",)


def test_to_data_round_trips(examples_dir, now, tmp_path: Path):
    bundle = load_policy(examples_dir / "default-policy.json", now=now)
    data = bundle.to_data()
    assert data == json.loads((examples_dir / "default-policy.json").read_text())
    assert PolicyBundle.model_validate(data) == bundle
    assert load_policy(data, now=now + timedelta(days=1)) == bundle
