"""The HTML report rendered by a real headless Chromium: what the browser built (its DOM) and what it drew
(the screenshot's pixels), with hostile agent ids and tool names in the trail."""

from __future__ import annotations

import struct
import subprocess
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent_security.posture.html import OUTCOME_COLORS
from agent_security.posture.report import PostureReport

NOW = datetime(2026, 6, 2, tzinfo=UTC)


def _chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) pixels of a non-interlaced 8-bit PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        filt = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if filt == 1:
                line[i] = (line[i] + a) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + b) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(x for j, x in enumerate(line) if j % 4 != 3))
        prev = line
    return width, height, rows


def _count_color(rows: list[bytes], hex_color: str, tolerance: int = 6) -> int:
    target = bytes.fromhex(hex_color.lstrip("#"))
    n = 0
    for row in rows:
        for i in range(0, len(row), 3):
            if all(abs(row[i + k] - target[k]) <= tolerance for k in range(3)):
                n += 1
    return n


@pytest.fixture
def html_report(standard_trail: Path, tmp_path: Path) -> tuple[Path, PostureReport]:
    report = PostureReport.from_trail(standard_trail, now=NOW)
    page = tmp_path / "report.html"
    page.write_text(report.to_html(), encoding="utf-8")
    return page, report


def test_the_report_is_self_contained_and_escapes_the_trail(html_report: tuple[Path, PostureReport]) -> None:
    page, _ = html_report
    html = page.read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html.lower()
    assert "src=" not in html and "<link" not in html and "@import" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html  # the hostile agent id, as text
    assert "default-src 'none'" in html


def test_chromium_builds_the_charts_and_tables(
    html_report: tuple[Path, PostureReport], system_program: Callable[[str], str], tmp_path: Path
) -> None:
    page, report = html_report
    chromium = system_program("chromium")
    result = _chromium(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "<script" not in dom.lower()  # the hostile agent id did not become an element
    assert "&lt;script&gt;" in dom
    assert dom.count('class="bar bar-DENY"') >= 2 and dom.count('class="bar bar-ALLOW"') >= 2
    assert 'id="chart-denied"' in dom and ">delete_records<" in dom
    assert dom.count('class="incident"') == len(report.summary.open_incidents) == 1
    assert dom.count('class="control"') == sum(len(r.controls) for r in report.compliance)
    assert 'id="fw-owasp_agentic"' in dom and "ASI10" in dom


def test_chromium_draws_the_charts(
    html_report: tuple[Path, PostureReport], system_program: Callable[[str], str], tmp_path: Path
) -> None:
    page, _ = html_report
    chromium = system_program("chromium")
    shot = tmp_path / "shot.png"
    result = _chromium(
        chromium,
        tmp_path / "profile",
        "--window-size=1200,1400",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 1400)
    deny = _count_color(rows, OUTCOME_COLORS["DENY"])
    allow = _count_color(rows, OUTCOME_COLORS["ALLOW"])
    approval = _count_color(rows, OUTCOME_COLORS["REQUIRE_APPROVAL"])
    # the timeline's stacked bars and the denied-tools bars are painted in their colours, in proportion:
    # 5 denials against 4 allows on the timeline, plus the denied-tools chart
    assert deny > 5000 and allow > 5000 and approval > 500, (deny, allow, approval)
    assert deny > allow
