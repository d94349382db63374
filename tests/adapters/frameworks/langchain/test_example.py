"""The runnable example of this adapter, `examples/langchain/agent.py`, runs offline in this framework's
environment and shows a call blocked with its reason and an allowed one carried out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[4] / "examples/langchain/agent.py"


def test_the_example_runs_offline(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "query_customer_db: [error] Blocked by agent-security (DENY_BULK_EXPORT)" in done.stdout, done.stdout[-2000:]
    assert "trigger_payment: [success] paid 5000 USD" in done.stdout, done.stdout[-2000:]
