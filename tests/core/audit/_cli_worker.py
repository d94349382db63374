"""A process making N ``agent-security check`` calls, each as the command line makes it (a fresh
``AgentSecurity`` from the config file, one check, shutdown), for test_shared_trail_cli.

``python _cli_worker.py CONFIG POLICY WORKER N``; prints one JSON line per call:
``{"exit": code, "allowed": bool, "codes": [reason codes]}``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from agent_security.core.cli import build_cli


def main(config: str, policy: str, worker: str, n: int) -> None:
    cli = build_cli()
    for i in range(n):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(
                [
                    "--config",
                    config,
                    "check",
                    "--policy",
                    policy,
                    "--tool",
                    "read_file",
                    "--agent",
                    f"worker-{worker}",
                    "--args",
                    json.dumps({"i": i}),
                ],
                prog_name="agent-security",
                standalone_mode=False,
            )
        decision = json.loads(out.getvalue())
        print(
            json.dumps(
                {"exit": code, "allowed": decision["allowed"], "codes": [r["code"] for r in decision["reasons"]]}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
