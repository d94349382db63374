"""Containment benchmark: what sandbox profiles cost per tool call.

Measured:

* ``SandboxManager.check_constraints`` on realistic arguments, p50 / p99 in microseconds, per call shape
  and over the mix: a file read (one path), a file write (a path and 2 KB of content), an HTTP fetch (a
  URL, headers, a JSON body), an MCP call with nested arguments (three paths in a list, options), and a
  call whose tool has no profile;
* the plugin's added cost per check: ``AgentSecurity.check_tool_call`` (example policy) over the same mix
  with and without the containment plugin, p50 each, and the difference.

Path checks read symlinks on this machine (``os.path.realpath``: one ``lstat`` per component), which is
most of the cost of a path argument. Ticket validation is a network call, cached (``cache_ttl_s``), and
not part of this measure.

Budget: ``check_constraints`` p50 over the mix <= 50 us.

Usage: ``python benchmarks/bench_containment.py [--iterations 20000]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _report

from agent_security.containment import SandboxManager, containment_plugin
from agent_security.core import AgentSecurity

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "examples" / "identity" / "policy.json"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    return _report.percentile(samples, 0.5), _report.percentile(samples, 0.99)


def _calls(root: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    data = root / "data"
    return {
        "read_file": ("read_file", {"path": str(data / "reports" / "2026-q2.csv"), "encoding": "utf-8"}),
        "write_file": (
            "write_file",
            {"file_path": str(root / "out" / "summary.md"), "content": "# Summary\n" + "lorem ipsum " * 170},
        ),
        "http_fetch": (
            "fetch",
            {
                "url": "https://api.example.com/v1/items?limit=50&cursor=abc",
                "method": "POST",
                "headers": {"Accept": "application/json", "X-Request-Id": "7f3a"},
                "body": {"query": "status:open", "fields": ["id", "title"]},
                "timeout": 10,
            },
        ),
        "mcp_nested": (
            "mcp__fs__read_multiple_files",
            {
                "paths": [str(data / "a.txt"), str(data / "b" / "c.txt"), str(data / "d.json")],
                "options": {"follow": False, "max_bytes": 65536, "cwd": str(data)},
            },
        ),
        "unprofiled": ("send_email", {"to": "a@example.com", "subject": "hi", "body": "report attached"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=20_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data" / "reports").mkdir(parents=True)
        (root / "data" / "b").mkdir()
        (root / "out").mkdir()
        manager = SandboxManager()
        manager.register_sandbox("read_file", {"read_paths": [str(root / "data")]})
        manager.register_sandbox("write_file", {"read_paths": [str(root / "data")], "write_paths": [str(root / "out")]})
        manager.register_sandbox(
            "fetch", {"network_enabled": True, "allowed_hosts": ["api.example.com"], "allowed_ports": [443]}
        )
        manager.register_sandbox("mcp__fs__*", {"read_paths": [str(root / "data")]})
        calls = _calls(root)
        clock = time.perf_counter_ns
        per_shape: dict[str, tuple[float, float]] = {}
        mix: list[float] = []
        for shape, (tool, call_args) in calls.items():
            assert manager.check_constraints(tool, call_args).allowed, shape
            for _ in range(200):
                manager.check_constraints(tool, call_args)
            samples = []
            for _ in range(args.iterations // len(calls)):
                t0 = clock()
                manager.check_constraints(tool, call_args)
                samples.append((clock() - t0) / 1000)
            mix.extend(samples)
            per_shape[shape] = _percentiles(samples)
        mix_p50, mix_p99 = _percentiles(mix)

        def whole(plugins: list[object]) -> float:
            security = AgentSecurity(policy_path=POLICY, autoload=False, plugins=plugins)
            shapes = list(calls.values())
            for tool, call_args in shapes * 40:
                security.check_tool_call(tool_name=tool, tool_args=call_args, agent_id="bench", environment="prod")
            times: list[float] = []
            for n in range(max(2_000, args.iterations // 10)):
                tool, call_args = shapes[n % len(shapes)]
                t0 = clock()
                security.check_tool_call(tool_name=tool, tool_args=call_args, agent_id="bench", environment="prod")
                times.append((clock() - t0) / 1000)
            security.shutdown()
            return _percentiles(times)[0]

        without = whole([])
        with_plugin = whole([containment_plugin(sandbox_manager=manager)])

    print(_report.machine())
    for shape, (p50, p99) in per_shape.items():
        print(f"check_constraints {shape:<12} p50 {p50:8.2f} us   p99 {p99:8.2f} us")
    print(f"check_constraints mix          p50 {mix_p50:8.2f} us   p99 {mix_p99:8.2f} us")
    print(f"check without containment      p50 {without:8.2f} us")
    print(f"check with containment         p50 {with_plugin:8.2f} us   (+{with_plugin - without:.2f} us)")
    _report.report(
        [
            _report.Budget("check_constraints p50 (mix)", mix_p50, 50.0, " us"),
            _report.Budget("check_constraints p99 (mix)", mix_p99, None, " us"),
            _report.Budget("check with containment - without, p50", with_plugin - without, None, " us"),
        ]
    )


if __name__ == "__main__":
    main()
