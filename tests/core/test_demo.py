"""The end-to-end demo decides every scenario as expected (it is what `make demo` shows users)."""

from __future__ import annotations

import io

from agent_security.core.demo import run_demo


def test_demo_runs_clean() -> None:
    out = io.StringIO()
    assert run_demo(stream=out) == 0, out.getvalue()
    text = out.getvalue()
    assert "0 unexpected result(s)" in text and "TAMPERED" in text and "intact" in text
    assert "COMMAND_BLOCKED" in text and "EGRESS_BLOCKED" in text
