from __future__ import annotations

import importlib
import io
import json
import re

import pytest

from agent_security.core.builtin import output_validator
from agent_security.core.errors import ConfigurationError
from agent_security.core.models import Decision

SSN = r"\b\d{3}-\d{2}-\d{4}\b"
ALLOW = Decision.allow("ALLOW_DEV_STAGING")


def _run(ov, make_request, make_ctx, result, error=None):
    ctx = make_ctx()
    out = ov.agent_security_after_execution(
        make_request(tool="lookup_user", agent="lookup-agent"), ALLOW, result, error, ctx
    )
    return out, ctx


def test_log_action_reproduces_plugins_demo(make_request, make_ctx):
    seen: list[tuple[str, list[str]]] = []
    ov = output_validator(
        sensitive_patterns=[re.compile(SSN)], action="log", on_sensitive_data=lambda tool, m: seen.append((tool, m))
    )
    out, _ = _run(ov, make_request, make_ctx, {"name": "Alice", "ssn": "123-45-6789"})
    assert out is None
    assert seen == [("lookup_user", ["12*******89"])]  # masked, never the raw value
    [v] = ov.get_violations()
    assert (v.type, v.tool_name, v.agent_id, v.details) == (
        "sensitive_data",
        "lookup_user",
        "lookup-agent",
        "Detected 1 sensitive pattern(s)",
    )


def test_block_is_default_and_reason_has_no_raw_match(make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[SSN])
    out, ctx = _run(ov, make_request, make_ctx, {"ssn": "123-45-6789"})
    assert out is not None and out.block is not None
    assert out.block.codes == ("OUTPUT_BLOCKED",)
    assert "123-45-6789" not in out.block.reasons[0].message
    assert "lookup_user" in out.block.reasons[0].message
    assert ctx.annotations["output_validator"] == {"violations": ["sensitive_data"], "action": "blocked"}


def test_redact_keeps_structure(make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[SSN], forbidden_keywords=["TopSecret"], action="redact")
    result = {"name": "Alice", "ssn": "123-45-6789", "notes": ["project topsecret", 7], "n": (1, "x")}
    out, _ = _run(ov, make_request, make_ctx, result)
    assert out.replace is True and out.block is None
    assert out.result == {"name": "Alice", "ssn": "[REDACTED]", "notes": ["project [REDACTED]", 7], "n": (1, "x")}
    assert result["ssn"] == "123-45-6789"  # the original is not mutated


def test_redact_non_string_leaf(make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[r"\b\d{9}\b"], action="redact")
    out, _ = _run(ov, make_request, make_ctx, {"acct": 123456789, "ok": 5})
    assert out.result == {"acct": "[REDACTED]", "ok": 5}


def test_redact_falls_back_to_block_when_match_spans_values(make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[r'"user": "alice"'], action="redact")
    out, _ = _run(ov, make_request, make_ctx, {"user": "alice"})
    assert out.block is not None and out.block.codes == ("OUTPUT_BLOCKED",)


@pytest.mark.parametrize("falsy", [0, "", False, [], {}])
def test_falsy_results_are_scanned(falsy, make_request, make_ctx):
    ov = output_validator(max_output_size=1)
    out, _ = _run(ov, make_request, make_ctx, falsy)
    size = len(falsy) if isinstance(falsy, str) else len(json.dumps(falsy))
    assert (out is not None) == (size > 1)  # "false", "[]", "{}" are over 1 char; "0" and "" are not


def test_false_result_matches_keyword(make_request, make_ctx):
    ov = output_validator(forbidden_keywords=["false"])
    out, _ = _run(ov, make_request, make_ctx, False)
    assert out is not None and out.block is not None
    out0, _ = _run(output_validator(sensitive_patterns=["^0$"]), make_request, make_ctx, 0)
    assert out0 is not None


def test_keywords_case_insensitive(make_request, make_ctx):
    seen = []
    ov = output_validator(forbidden_keywords=["password"], on_sensitive_data=lambda t, m: seen.append(m))
    out, _ = _run(ov, make_request, make_ctx, "Your PASSWORD is x")
    assert out.block.reasons[0].message.endswith("Found 1 forbidden keyword(s)")
    assert seen == [["pa****rd"]]


def test_oversized(make_request, make_ctx):
    sizes = []
    ov = output_validator(max_output_size=10, on_oversized_output=lambda t, n: sizes.append(n))
    out, _ = _run(ov, make_request, make_ctx, "x" * 11)
    assert "Output size 11 exceeds max 10" in out.block.reasons[0].message
    assert sizes == [11]
    assert _run(ov, make_request, make_ctx, "x" * 10)[0] is None
    red = output_validator(max_output_size=10, action="redact")
    assert _run(red, make_request, make_ctx, "x" * 11)[0].block is not None


def test_clean_output_passes(make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[SSN], forbidden_keywords=["secret"], max_output_size=100)
    assert _run(ov, make_request, make_ctx, {"name": "Alice"})[0] is None
    assert ov.get_violations() == []


def test_error_without_result_is_skipped(make_request, make_ctx):
    ov = output_validator(max_output_size=1)
    assert _run(ov, make_request, make_ctx, None, error=RuntimeError("x"))[0] is None


def test_unscannable_result_is_blocked(make_request, make_ctx):
    loop: list[object] = []
    loop.append(loop)
    ov = output_validator(sensitive_patterns=[SSN])
    out, _ = _run(ov, make_request, make_ctx, loop)
    assert out.block is not None
    assert ov.get_violations()[0].type == "unscannable"


def test_violations_are_bounded(make_request, make_ctx):
    ov = output_validator(forbidden_keywords=["x"], action="log", max_violations=3)
    for _ in range(5):
        _run(ov, make_request, make_ctx, "x")
    assert len(ov.get_violations()) == 3
    assert ov.dropped_violations == 2
    ov.clear_violations()
    assert ov.get_violations() == []


def test_ignorecase_pattern_flag_is_kept(make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[re.compile("sk_live_[a-z0-9]+", re.IGNORECASE)])
    assert _run(ov, make_request, make_ctx, "key SK_LIVE_ABC123")[0] is not None


def test_patterns_run_in_linear_time_engine(make_request, make_ctx):
    # (a+)+$ is catastrophic for backtracking engines; RE2 answers at once.
    ov = output_validator(sensitive_patterns=[r"(a+)+$"])
    out, _ = _run(ov, make_request, make_ctx, "a" * 50_000 + "!")
    assert out is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sensitive_patterns": ["(unclosed"]},
        {"sensitive_patterns": [r"(?=lookahead)"]},
        {"sensitive_patterns": ["x" * 5000]},
        {"forbidden_keywords": [""]},
        {"action": "drop"},
        {"max_output_size": -1},
    ],
)
def test_bad_config(kwargs):
    with pytest.raises(ConfigurationError):
        output_validator(**kwargs)


# -- nested strings are scanned as they are, not JSON-escaped -------------------------------------------

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq..."
PEM_PATTERN = r"PRIVATE KEY-----\s+MII"
WIN_PATH = r"dir C:\Users\Administrator"


@pytest.mark.parametrize(
    "result",
    [
        {"stdout": PEM},
        [PEM],
        (PEM,),
        {"a": [{"b": (PEM,)}]},
        {PEM: 1},
        {"s": {PEM}},
        frozenset([PEM]),
        {"raw": PEM.encode()},
    ],
    ids=["dict", "list", "tuple", "nested", "key", "set", "frozenset", "bytes"],
)
def test_pattern_matches_a_nested_string_as_it_is(result, make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[PEM_PATTERN])
    assert _run(ov, make_request, make_ctx, PEM)[0].block is not None  # the bare string always matched
    out, _ = _run(ov, make_request, make_ctx, result)
    assert out is not None and out.block is not None and out.block.codes == ("OUTPUT_BLOCKED",)


@pytest.mark.parametrize(
    "keyword, text",
    [
        ("C:\\Users\\Administrator", WIN_PATH),
        ('password="', 'password="x"'),
        ("line one\tline two", "line one\tline two"),
    ],
)
@pytest.mark.parametrize("wrap", [lambda s: {"out": s}, lambda s: [s], lambda s: {"k": [{"x": s}]}])
def test_keyword_matches_a_nested_string_as_it_is(keyword, text, wrap, make_request, make_ctx):
    ov = output_validator(forbidden_keywords=[keyword])
    out, _ = _run(ov, make_request, make_ctx, wrap(text))
    assert out is not None and out.block is not None


def test_dataclass_fields_are_scanned_as_they_are(make_request, make_ctx):
    import dataclasses

    @dataclasses.dataclass
    class Out:
        stdout: str

    ov = output_validator(sensitive_patterns=[PEM_PATTERN])
    assert _run(ov, make_request, make_ctx, Out(PEM))[0].block is not None  # its str() shows "\\n"
    red = output_validator(sensitive_patterns=[PEM_PATTERN], action="redact")
    assert _run(red, make_request, make_ctx, [Out(PEM), "ok"])[0].result == ["[REDACTED]", "ok"]


def test_redact_rebuilds_nested_structures(make_request, make_ctx):
    import collections

    Row = collections.namedtuple("Row", "a b")
    ov = output_validator(sensitive_patterns=[PEM_PATTERN], forbidden_keywords=[r"C:\Users"], action="redact")
    result = {
        "stdout": PEM,
        "paths": (WIN_PATH, 1),
        "set": {WIN_PATH, "ok"},
        "row": Row(WIN_PATH, 2),
        "q": collections.deque([WIN_PATH], maxlen=3),
        WIN_PATH: None,
    }
    out, _ = _run(ov, make_request, make_ctx, result)
    assert out.block is None and out.replace is True
    red = out.result
    assert red["stdout"] == "-----BEGIN RSA [REDACTED]EpAIBAAKCAQEA7bq..."
    assert red["paths"] == (r"dir [REDACTED]\Administrator", 1)
    assert red["set"] == {r"dir [REDACTED]\Administrator", "ok"}
    assert type(red["row"]) is Row and red["row"] == (r"dir [REDACTED]\Administrator", 2)
    assert type(red["q"]) is collections.deque and red["q"].maxlen == 3
    assert list(red["q"]) == [r"dir [REDACTED]\Administrator"]
    assert red[r"dir [REDACTED]\Administrator"] is None and WIN_PATH not in red
    assert result["stdout"] == PEM  # the original is not mutated


def test_json_form_is_still_scanned_for_matches_across_values(make_request, make_ctx):
    # The JSON text of a structure is scanned too, so a pattern written against it keeps working.
    ov = output_validator(sensitive_patterns=[r'"user": "alice"'])
    assert _run(ov, make_request, make_ctx, {"user": "alice"})[0].block is not None


def test_dict_subclass_is_read_through_dict(make_request, make_ctx):
    class Hiding(dict):
        def items(self):
            return [("k", "clean")]

    ov = output_validator(forbidden_keywords=["secret"])
    out, _ = _run(ov, make_request, make_ctx, Hiding(k="secret"))
    assert out is not None and out.block is not None


def test_shared_references_are_bounded(monkeypatch, make_request, make_ctx):
    module = importlib.import_module("agent_security.core.builtin._output_walk")  # where results are read
    monkeypatch.setattr(module, "MAX_ITEMS", 1_000)
    node: list[object] = ["x"]
    for _ in range(12):  # 4,096 leaves through shared references
        node = [node, node]
    ov = output_validator(forbidden_keywords=["nothing-matches"])
    out, _ = _run(ov, make_request, make_ctx, node)
    assert out is not None and out.block is not None
    assert ov.get_violations()[0].type == "unscannable"
    assert _run(ov, make_request, make_ctx, ["x"] * 500)[0] is None


def test_total_characters_are_bounded(monkeypatch, make_request, make_ctx):
    module = importlib.import_module("agent_security.core.builtin._output_walk")  # where results are read
    monkeypatch.setattr(module, "MAX_CHARS", 1_000)
    ov = output_validator(forbidden_keywords=["nothing-matches"])
    assert _run(ov, make_request, make_ctx, ["y" * 400] * 3)[0].block is not None
    assert _run(ov, make_request, make_ctx, ["y" * 400] * 2)[0] is None


def test_deep_nesting_is_unscannable_not_a_crash(make_request, make_ctx):
    deep: list[object] = []
    node = deep
    for _ in range(500):
        child: list[object] = []
        node.append(child)
        node = child
    ov = output_validator(action="redact", forbidden_keywords=["x"])
    out, _ = _run(ov, make_request, make_ctx, deep)
    assert out.block is not None and ov.get_violations()[0].type == "unscannable"


def test_unknown_object_is_scanned_as_its_str(make_request, make_ctx):
    class Opaque:
        def __str__(self):
            return "token=abc"

    ov = output_validator(forbidden_keywords=["token="], action="redact")
    out, _ = _run(ov, make_request, make_ctx, {"o": Opaque(), "n": 3})
    assert out.result == {"o": "[REDACTED]", "n": 3}


def test_strings_are_matched_one_at_a_time_not_across_neighbours(make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[r"password\s+\S+"], forbidden_keywords=["end\nstart"])
    assert _run(ov, make_request, make_ctx, {"field": "password", "value": "x"})[0] is None
    assert _run(ov, make_request, make_ctx, ["the end", "start"])[0] is None
    assert _run(ov, make_request, make_ctx, ["a", "password\n  x"])[0].block is not None
    assert _run(ov, make_request, make_ctx, ["a", "the end\nstart"])[0].block is not None


# -- results that cannot be scanned without consuming them ----------------------------------------------

AWS = "key=AKIAABCDEFGHIJKLMNOP"
AWS_PATTERN = r"AKIA[0-9A-Z]{16}"


class _FileLike:
    """What an HTTP response or a stream looks like: the body is read, not shown by str()."""

    def __init__(self, body: str) -> None:
        self._body = body

    def read(self) -> str:
        return self._body

    def __repr__(self) -> str:
        return "<Response [200]>"


async def _agen():
    yield AWS


def _lazy_results():
    return {
        "generator": (x for x in [AWS]),
        "map": map(str.upper, [AWS.lower()]),
        "iterator": iter([AWS]),
        "stringio": io.StringIO(AWS),
        "bytesio": io.BytesIO(AWS.encode()),
        "read": _FileLike(AWS),
        "async_generator": _agen(),
        "nested": {"rows": (x for x in [AWS])},
    }


@pytest.mark.parametrize("kind", list(_lazy_results()))
@pytest.mark.parametrize("action", ["block", "redact"])
def test_lazy_result_is_blocked_without_being_consumed(kind, action, make_request, make_ctx):
    result = _lazy_results()[kind]
    ov = output_validator(sensitive_patterns=[AWS_PATTERN], action=action)
    out, ctx = _run(ov, make_request, make_ctx, result)
    assert out is not None and out.block is not None and out.block.codes == ("OUTPUT_BLOCKED",)
    assert "cannot be scanned without consuming it" in out.block.reasons[0].message
    assert ctx.annotations["output_validator"] == {"violations": ["unscannable"], "action": "blocked"}
    if kind == "generator":
        assert next(result) == AWS  # nothing was consumed


def test_lazy_result_is_logged_and_returned_with_log(make_request, make_ctx):
    gen = (x for x in [AWS])
    ov = output_validator(sensitive_patterns=[AWS_PATTERN], action="log")
    assert _run(ov, make_request, make_ctx, gen)[0] is None
    assert [v.type for v in ov.get_violations()] == ["unscannable"]
    assert list(gen) == [AWS]


def test_unawaited_coroutine_is_blocked(make_request, make_ctx):
    async def fetch() -> str:
        return AWS

    coro = fetch()
    try:
        out, _ = _run(output_validator(sensitive_patterns=[AWS_PATTERN]), make_request, make_ctx, coro)
        assert out.block is not None
    finally:
        coro.close()


def test_lazy_results_through_protect():
    from agent_security.core import AgentSecurity
    from agent_security.core.errors import SecurityError
    from agent_security.core.testing import StaticEngine

    for action in ("block", "redact"):
        security = AgentSecurity(
            policy_engine=StaticEngine(lambda r: ALLOW),
            autoload=False,
            plugins=[output_validator(sensitive_patterns=[AWS_PATTERN], action=action)],
        )
        for make in (lambda: (x for x in [AWS]), lambda: io.StringIO(AWS), lambda: _FileLike(AWS)):
            with pytest.raises(SecurityError) as err:
                security.protect("t", make, agent_id="a")()
            assert err.value.codes == ("OUTPUT_BLOCKED",)
        assert security.protect("t", lambda: [AWS.lower()], agent_id="a")() == [AWS.lower()]
        security.shutdown()


# -- exceptions the tool raised -------------------------------------------------------------------------

LEAK = "upstream returned 500: {'aws_key': 'AKIAABCDEFGHIJKLMNOP'}"
LEAK_REDACTED = "upstream returned 500: {'aws_key': '[REDACTED]'}"


def _raised(exc: BaseException) -> BaseException:
    """``exc`` as a tool leaves it: raised, with a traceback."""
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_exception_with_a_secret_is_withheld_in_block_mode(make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[AWS_PATTERN])
    out, ctx = _run(ov, make_request, make_ctx, None, error=_raised(RuntimeError(LEAK)))
    assert out is not None and out.block is not None and out.block.codes == ("OUTPUT_BLOCKED",)
    message = out.block.reasons[0].message
    assert "AKIA" not in message and message.startswith("Exception raised by tool lookup_user withheld")
    assert ctx.annotations["output_validator"] == {
        "violations": ["sensitive_data"],
        "action": "blocked",
        "scanned": "exception",
    }
    [v] = ov.get_violations()
    assert (v.type, v.action_taken) == ("sensitive_data", "blocked")


def test_clean_exception_passes(make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[AWS_PATTERN], max_output_size=1)
    out, ctx = _run(ov, make_request, make_ctx, None, error=_raised(RuntimeError("timeout after 30s")))
    assert out is None and "output_validator" not in ctx.annotations  # max_output_size is for results


def test_exception_is_logged_with_log(make_request, make_ctx):
    ov = output_validator(sensitive_patterns=[AWS_PATTERN], action="log")
    assert _run(ov, make_request, make_ctx, None, error=_raised(RuntimeError(LEAK)))[0] is None
    assert [(v.type, v.action_taken) for v in ov.get_violations()] == [("sensitive_data", "logged")]


def test_redact_rebuilds_an_exception_of_the_same_type(make_request, make_ctx):
    class UpstreamError(RuntimeError):
        pass

    original = _raised(UpstreamError(LEAK, 500))
    ov = output_validator(sensitive_patterns=[AWS_PATTERN], action="redact")
    out, ctx = _run(ov, make_request, make_ctx, None, error=original)
    assert out is not None and out.replace is True and out.block is None
    new = out.result
    assert type(new) is UpstreamError and new is not original
    assert new.args == (LEAK_REDACTED, 500)
    assert new.__traceback__ is None and new.__cause__ is None and new.__context__ is None
    assert original.args[0] == LEAK  # the original is not changed
    assert ctx.annotations["output_validator"]["action"] == "redacted"


def test_redact_falls_back_to_redacted_tool_error(make_request, make_ctx):
    from agent_security.core.errors import RedactedToolError

    class HttpError(Exception):
        def __init__(self, status: int, body: str) -> None:  # not safe to call with other arguments
            super().__init__(f"HTTP {status}: {body}")
            self.body = body

    ov = output_validator(sensitive_patterns=[AWS_PATTERN], action="redact")
    out, _ = _run(ov, make_request, make_ctx, None, error=_raised(HttpError(500, LEAK)))
    new = out.result
    assert type(new) is RedactedToolError
    assert new.original_type.endswith("HttpError")
    assert str(new) == f"{new.original_type}: HTTP 500: {LEAK_REDACTED}"


def test_redact_withholds_a_message_it_cannot_clean(make_request, make_ctx):
    from agent_security.core.errors import RedactedToolError

    ov = output_validator(sensitive_patterns=[r"REDACTED|hunter2"], action="redact")  # matches its own mark
    out, _ = _run(ov, make_request, make_ctx, None, error=_raised(ValueError("password hunter2")))
    assert type(out.result) is RedactedToolError and out.result.original_type == "ValueError"
    assert str(out.result) == "ValueError: the exception's message held sensitive output and was withheld"


@pytest.mark.parametrize(
    "build",
    [
        lambda: KeyError(PEM),  # str() of a KeyError is the repr: "\\n"; its args hold the key as it is
        lambda: _chain(RuntimeError("fetch failed"), ValueError(PEM)),
        lambda: _noted(RuntimeError("fetch failed"), PEM),
        lambda: _attr(RuntimeError("exit status 1"), stderr=PEM),
        lambda: ExceptionGroup("several", [ValueError("ok"), KeyError(PEM)]),
    ],
    ids=["key_error", "cause", "note", "attribute", "group"],
)
@pytest.mark.parametrize("action", ["block", "redact"])
def test_every_readable_part_of_an_exception_is_scanned(build, action, make_request, make_ctx):
    error = build()
    ov = output_validator(sensitive_patterns=[PEM_PATTERN], action=action)
    out, _ = _run(ov, make_request, make_ctx, None, error=error)
    assert out is not None
    if action == "block":
        assert out.block is not None
    else:
        new = out.result
        assert new is not error and not getattr(new, "__notes__", None) and new.__cause__ is None
        assert "MII" not in str(new) and "MII" not in repr(new.args) and "stderr" not in vars(new)


def _chain(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


def _noted(exc: BaseException, note: str) -> BaseException:
    exc.add_note(note)
    return exc


def _attr(exc: BaseException, **attrs: object) -> BaseException:
    for name, value in attrs.items():
        setattr(exc, name, value)
    return exc


def test_subprocess_error_output_is_scanned(make_request, make_ctx):
    import subprocess

    error = subprocess.CalledProcessError(1, ["aws", "configure"], output="", stderr=AWS)
    out, _ = _run(output_validator(sensitive_patterns=[AWS_PATTERN]), make_request, make_ctx, None, error=error)
    assert out.block is not None


def test_exception_with_a_lazy_attribute_is_unscannable(make_request, make_ctx):
    error = _attr(RuntimeError("HTTP 500"), body=io.StringIO(AWS))
    block = output_validator(sensitive_patterns=[AWS_PATTERN])
    out, _ = _run(block, make_request, make_ctx, None, error=error)
    assert out.block is not None and block.get_violations()[0].type == "unscannable"
    redact = output_validator(sensitive_patterns=[AWS_PATTERN], action="redact")
    out, _ = _run(redact, make_request, make_ctx, None, error=error)
    assert type(out.result) is RuntimeError and out.result.args == ("HTTP 500",) and "body" not in vars(out.result)


def test_exception_whose_str_raises_is_unscannable(make_request, make_ctx):
    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    ov = output_validator(forbidden_keywords=["x"])
    out, _ = _run(ov, make_request, make_ctx, None, error=Broken())
    assert out.block is not None and ov.get_violations()[0].type == "unscannable"


def test_exception_chain_is_bounded(make_request, make_ctx):
    error: BaseException = RuntimeError("0")
    for i in range(1, 200):
        error = _chain(RuntimeError(str(i)), error)
    ov = output_validator(forbidden_keywords=["nothing-matches"])
    out, _ = _run(ov, make_request, make_ctx, None, error=error)
    assert out.block is not None and ov.get_violations()[0].type == "unscannable"
    short = _chain(RuntimeError("a"), _chain(RuntimeError("b"), RuntimeError("c")))
    assert _run(ov, make_request, make_ctx, None, error=short)[0] is None


def test_exceptions_through_protect():
    from agent_security.core import AgentSecurity
    from agent_security.core.errors import SecurityError
    from agent_security.core.testing import StaticEngine

    def fetch() -> None:
        raise RuntimeError(LEAK)

    def engine():
        return StaticEngine(lambda r: ALLOW)

    block = AgentSecurity(
        policy_engine=engine(), autoload=False, plugins=[output_validator(sensitive_patterns=[AWS_PATTERN])]
    )
    with pytest.raises(SecurityError) as err:
        block.protect("fetch", fetch, agent_id="a")()
    assert err.value.codes == ("OUTPUT_BLOCKED",) and err.value.__context__ is None
    [event] = [e for e in block.get_audit_log() if e.kind == "execution"]
    assert not event.allowed and event.reasons[0].code == "OUTPUT_BLOCKED"
    assert "AKIA" not in event.model_dump_json()
    assert event.data["plugins"]["output_validator"]["scanned"] == "exception"

    redact = AgentSecurity(
        policy_engine=engine(),
        autoload=False,
        plugins=[output_validator(sensitive_patterns=[AWS_PATTERN], action="redact")],
    )
    with pytest.raises(RuntimeError) as caught:
        redact.protect("fetch", fetch, agent_id="a")()
    assert str(caught.value) == LEAK_REDACTED and caught.value.__context__ is None
    [event] = [e for e in redact.get_audit_log() if e.kind == "execution"]
    assert event.reasons[0].code == "EXECUTION_ERROR" and "AKIA" not in event.model_dump_json()
    assert event.data["plugins"]["execution"] == {
        "redacted_by": ["output_validator"],
        "error": "RuntimeError",
        "raised": "RuntimeError",
    }
    block.shutdown()
    redact.shutdown()


def test_redact_falls_back_when_the_rebuilt_exception_cannot_be_shown(make_request, make_ctx):
    from agent_security.core.errors import RedactedToolError

    class Detailed(Exception):  # built with arguments only, its __str__ finds no attribute
        def __str__(self) -> str:
            return f"{self.args[0]} ({self.detail})"

    error = Detailed(LEAK)
    error.detail = "more"
    ov = output_validator(sensitive_patterns=[AWS_PATTERN], action="redact")
    out, _ = _run(ov, make_request, make_ctx, None, error=error)
    assert type(out.result) is RedactedToolError
    assert str(out.result).endswith(f"Detailed: {LEAK_REDACTED} (more)")


def test_pydantic_model_fields_are_scanned_as_they_are(make_request, make_ctx):
    from pydantic import BaseModel

    class Out(BaseModel):
        stdout: str

    assert "\\n" in str(Out(stdout=PEM))  # its str() escapes the newline
    ov = output_validator(sensitive_patterns=[PEM_PATTERN])
    assert _run(ov, make_request, make_ctx, Out(stdout=PEM))[0].block is not None
    assert _run(ov, make_request, make_ctx, Out(stdout="ok"))[0] is None
