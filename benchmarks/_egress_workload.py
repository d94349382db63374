"""The egress benchmark's inputs: log-like text, near-miss text and a 200-byte argument, generated from a seed
(no file to keep in step). Nothing here imports ``agent_security``.

* **log-like**: application log lines with timestamps, URLs with hex path segments and query strings, long
  dotted identifiers, trace ids and SHA-256 hashes: benign text of the kind tools read and write all day.
* **near-miss**: text dense with what looks like sensitive data and is not: order numbers, epoch times,
  amounts, IPs, zip codes, version strings, 16-digit numbers that fail Luhn, UUIDs, hex digests and
  base64 blobs of binary data.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid

COMPONENTS = [
    "UserProfileController",
    "OrderFulfillmentService",
    "PaymentGatewayClientImpl",
    "InventorySyncWorker",
    "AuthenticationFilterChain",
]

ARGUMENT = {
    "to": "team@company.example",
    "subject": "Standup reminder",
    "body": "Don't forget the standup at 10am tomorrow; the release notes for version 2.4.1 are in the wiki, page "
    "42, with the rollout plan.",
}
"""A 200-byte argument dict (one email address, which is found)."""


def log_text(size: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    total = i = 0
    while total < size:
        h = hashlib.sha256(str(i).encode()).hexdigest()
        t = hashlib.md5(str(i).encode()).hexdigest()
        comp = rng.choice(COMPONENTS)
        line = (
            f"2026-03-1{i % 10}T09:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000:03d}Z INFO [http-nio-8080-exec-{i % 16}] "
            f"c.e.api.{comp} - GET https://api.internal.example.com/v2/accounts/{t}/orders?page={i % 9}&limit=50 "
            f"status=200 duration_ms={rng.randint(1, 900)} trace_id={t} span_id={h[:16]} sha256={h} "
            f'handler=com.example.platform.{rng.choice(COMPONENTS)}Handler user_agent="Mozilla/5.0 (X11; Linux)"\n'
        )
        out.append(line)
        total += len(line)
        i += 1
    return "".join(out)[:size]


def _not_luhn(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(15)]
    total = sum(d if i % 2 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
    check = (10 - total % 10) % 10
    return "".join(map(str, digits)) + str((check + 1) % 10)


def near_miss_text(size: int, seed: int = 2) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    total = i = 0
    while total < size:
        blob = base64.b64encode(rng.randbytes(rng.randint(18, 48))).decode()
        line = (
            f"order={rng.randint(10**7, 10**8 - 1)} ts={1700000000 + i * 37} qty={rng.randint(1, 99)} "
            f"amount={rng.randint(100, 99999)}.{rng.randint(0, 99):02d} "
            f"ip=10.{i % 255}.{(i * 3) % 255}.{(i * 7) % 255} "
            f"zip={rng.randint(10000, 99999)}-{rng.randint(1000, 9999)} "
            f"v{rng.randint(1, 9)}.{rng.randint(0, 30)}.{i % 99} "
            f"ref={rng.randint(10**11, 10**12 - 1)} id={uuid.UUID(int=rng.getrandbits(128))} "
            f"sha1={hashlib.sha1(str(i).encode()).hexdigest()} blob={blob} "
            + (f"num={_not_luhn(rng)} " if i % 4 == 0 else "")
            + "\n"
        )
        out.append(line)
        total += len(line)
        i += 1
    return "".join(out)[:size]
