"""Egress benchmark: scanner throughput, per-call latency and efficacy on the labelled corpus.

Plain script (``make bench`` runs it): prints tables, asserts nothing. Throughput is measured on
benign mixed prose and JSON (the common case: most tool arguments hold nothing sensitive) and on the
same text sprinkled with sensitive values; latency is the p50/p99 of ``Scanner.scan`` on a 200-byte
argument dict, and of the enforcer's ``before_check`` on the same call.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime

from agent_security.core.testing import make_context, make_request
from agent_security.egress import Scanner, egress_enforcer
from agent_security.egress.testing import evaluate, generate, load_corpus

WORDS = [
    "the",
    "agent",
    "called",
    "a",
    "tool",
    "to",
    "fetch",
    "the",
    "quarterly",
    "report",
    "and",
    "summarised",
    "revenue",
    "growth",
    "for",
    "the",
    "board",
    "while",
    "the",
    "pipeline",
    "checked",
    "policy",
    "rules",
    "data",
    "labels",
    "and",
    "approvals",
    "before",
    "every",
    "request",
    "version",
    "release",
    "build",
    "deploy",
    "staging",
    "production",
    "customer",
    "order",
    "shipped",
    "invoice",
    "pending",
    "review",
]


def mixed_text(size: int, rng: random.Random, sensitive: bool = False) -> str:
    parts: list[str] = []
    total = 0
    i = 0
    while total < size:
        if i % 3 == 2:
            chunk = json.dumps(
                {
                    "id": rng.randint(1, 10**6),
                    "status": rng.choice(WORDS),
                    "ts": f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:3{rng.randint(0, 9)}:00Z",
                    "tags": rng.sample(WORDS, 3),
                    "version": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                }
            )
        else:
            chunk = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))) + ". "
        if sensitive and i % 10 == 5:
            chunk += (
                f" contact {generate('email', i)} key {generate('github_token', i)} card {generate('credit_card', i)} "
            )
        parts.append(chunk)
        total += len(chunk)
        i += 1
    return "".join(parts)[:size]


def throughput(scanner: Scanner, text: str, min_time: float = 0.5) -> float:
    n = 0
    start = time.perf_counter()
    while True:
        scanner.scan(text)
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and n >= 3:
            return len(text.encode()) * n / elapsed / 1e6


def latency(fn, rounds: int = 5, n: int = 10000) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """p50 and p99 in microseconds: the median over ``rounds`` rounds (the machine is shared, so one
    round's p99 can catch another process's burst), plus the worst round's p99."""
    p50s, p99s = [], []
    for _ in range(200):
        fn()
    for _ in range(rounds):
        samples = []
        for _ in range(n):
            t = time.perf_counter_ns()
            fn()
            samples.append(time.perf_counter_ns() - t)
        samples.sort()
        p50s.append(samples[len(samples) // 2] / 1000)
        p99s.append(samples[int(len(samples) * 0.99)] / 1000)
    return statistics.median(p50s), statistics.median(p99s), max(p99s)


def main() -> int:
    rng = random.Random(7)
    scanner = Scanner()
    print("egress scanner throughput (MB/s, UTF-8 bytes of input; one scan per call)")
    print(f"{'payload':>10} | {'benign':>8} | {'with secrets':>12}")
    for label, size in (("1 KB", 1024), ("64 KB", 64 * 1024), ("1 MB", 1024 * 1024)):
        benign = mixed_text(size, rng)
        dirty = mixed_text(size, rng, sensitive=True)
        print(f"{label:>10} | {throughput(scanner, benign):8.1f} | {throughput(scanner, dirty):12.1f}")

    args = {
        "to": "team@company.example",
        "subject": "Standup reminder",
        "body": "Don't forget the standup at 10am tomorrow; the release notes for version 2.4.1 are in the "
        "wiki, page 42, with the rollout plan.",
    }
    size = len(json.dumps(args))
    enforcer = egress_enforcer(
        tool_channel_mappings=[{"tool_name": "send_email", "channel": "email", "destination_field": "to"}]
    )
    request = make_request("send_email", args)
    ctx = make_context(now=datetime.now(UTC))
    p50, p99, pmax = latency(lambda: scanner.scan(args))
    e50, e99, emax = latency(lambda: enforcer.agent_security_before_check(request, ctx))
    print()
    print(f"latency for a {size}-byte argument dict (microseconds)")
    print(f"{'call':>22} | {'p50':>7} | {'p99':>7} | {'worst p99':>9}")
    print(f"{'Scanner.scan':>22} | {p50:7.1f} | {p99:7.1f} | {pmax:9.1f}")
    print(f"{'enforcer before_check':>22} | {e50:7.1f} | {e99:7.1f} | {emax:9.1f}")

    examples = load_corpus()
    scores = evaluate(examples, scanner)
    print()
    cats = {c: sum(1 for e in examples if e.category == c) for c in ("positive", "evasion", "hard_negative")}
    print(f"efficacy on the labelled corpus ({len(examples)} examples: {cats})")
    print(f"{'kind':>16} | {'tp':>4} | {'fp':>4} | {'fn':>4} | {'precision':>9} | {'recall':>6}")
    for kind, s in sorted(scores.items()):
        print(f"{kind:>16} | {s.tp:4d} | {s.fp:4d} | {s.fn:4d} | {s.precision:9.3f} | {s.recall:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
