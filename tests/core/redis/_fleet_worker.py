"""One process of a fleet, for ``test_redis_fleet.py``: ``python _fleet_worker.py MODE URL [N]``.

* ``limits URL N``: N checks, alternating ``search`` (1,000 per hour per tool, shared by the fleet) and
  ``pay`` in session ``s`` (600 per session); prints ``{"search": allowed, "pay": allowed, "codes": {...}}``.
* ``kill URL``: watches the kill switch (prints ``notified <global_kill> <epoch>`` on each state it is
  handed), prints ``ready``, then runs one check per ``check`` line read from stdin and prints its
  reason code (``ALLOW`` when allowed).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from typing import Any

from agent_security.core import AgentSecurity, Decision
from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.store import open_store
from agent_security.core.testing import StaticEngine


def _security(url: str, *plugins: Any) -> tuple[AgentSecurity, Any]:
    store = open_store(url, namespace="fleet-test")
    engine = StaticEngine(lambda r: Decision.allow("OK"))
    return AgentSecurity(policy_engine=engine, store=store, plugins=plugins), store


def _code(result: Any) -> str:
    return "ALLOW" if result.allowed else str(result.final_decision.reasons[0].code)


def limits(url: str, n: int) -> None:
    security, store = _security(
        url, kill_switch(), rate_limiter(0, 1_000, window_s=3600), session_context({"pay": 600})
    )
    allowed: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for i in range(n):
        tool = "search" if i % 2 else "pay"
        code = _code(security.check_tool_call(tool_name=tool, agent_id="fleet", session_id="s"))
        codes[code] += 1
        if code == "ALLOW":
            allowed[tool] += 1
    security.shutdown()
    store.close()
    print(json.dumps({"search": allowed["search"], "pay": allowed["pay"], "codes": dict(codes)}))


def kill(url: str) -> None:
    ks = kill_switch()
    security, store = _security(url, ks)
    out = threading.Lock()

    def say(line: str) -> None:
        with out:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    ks.watch(lambda state: say(f"notified {int(state.global_kill)} {time.time():.6f}"))
    say(f"ready {_code(security.check_tool_call(tool_name='t', agent_id='w'))}")
    for line in sys.stdin:
        if line.strip() == "check":
            say("checked " + _code(security.check_tool_call(tool_name="t", agent_id="w")))
    security.shutdown()
    store.close()


if __name__ == "__main__":
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "limits":
        limits(url, int(sys.argv[3]))
    else:
        kill(url)
