"""The scanner: one combined RE2 pass per text layer, targeted validation at anchor hits, bounded
recursive decoding, and JSON-aware walking with key-name context.

How a value is scanned:

1. JSON-like values (dicts, lists, tuples, at any depth up to ``max_depth``) are walked; every string
   leaf, every dict key and every integer is scanned. The JSON key a value sits under is context for
   the classifiers (``{"ssn": "123456789"}`` is an SSN, a bare ``123456789`` in prose is not), and a
   whole leaf under a secret-like key (``password``, ``api_key``...) is checked as a generic secret.
2. Each string is normalised (:mod:`agent_security.egress.normalize`) and encoded to UTF-8 once.
3. One RE2 search loop over the bytes matches the union of every classifier's anchor plus the
   decoding anchors (base64/hex blobs, ``%XX`` runs, ``\\uXXXX`` / ``\\xXX`` escapes). RE2 runs in
   linear time, so hostile input cannot make the pass catastrophic. Detectors run only at hits.
4. Encoded segments are decoded (bounded depth, size and count) and the decoded bytes are scanned the
   same way; a finding from inside reports its decoding path and the span of the outer segment.

Everything is bounded by :class:`ScanLimits`; when a limit stops the scan early the report says so
(``complete=False``) instead of pretending the rest was clean.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import re2

from agent_security.core.errors import ConfigurationError
from agent_security.egress.classifiers import (
    DEFAULT_CLASSIFIERS,
    Classifier,
    Hit,
    aws_secret_ok,
    secret_key_type,
    secret_value_ok,
)
from agent_security.egress.findings import Classification, Finding, ScanReport
from agent_security.egress.normalize import normalize

__all__ = ["LayerView", "ScanLimits", "Scanner", "default_scanner", "redact", "scan"]


@dataclass(frozen=True)
class ScanLimits:
    """Bounds on one scan call. Defaults suit tool arguments of up to a few megabytes."""

    max_total_bytes: int = 16 * 1024 * 1024
    """Total bytes scanned, across all strings and decoded layers."""
    max_depth: int = 64
    """JSON nesting depth."""
    max_nodes: int = 100_000
    """Containers, keys and leaves visited."""
    max_decode_depth: int = 3
    """Nested encodings followed (``url`` inside ``base64`` inside ``escape`` is 3)."""
    max_decoded_bytes: int = 4 * 1024 * 1024
    """Total bytes produced by decoding."""
    max_decode_attempts: int = 2_000
    """Encoded-looking segments tried."""
    max_findings: int = 1_000
    max_segment_bytes: int = 1024 * 1024
    """Largest single encoded segment decoded."""
    max_anchor_hits: int = 200_000
    """Anchor matches examined per call (total work on anchor-dense hostile input)."""


_DECODE_BLOB = r"[A-Za-z0-9+/]{15,}(?:\r?\n[A-Za-z0-9+/]{4,})*={0,2}"  # MIME line breaks included
_DECODE_URL = r"(?:%[0-9A-Fa-f]{2})+"
_DECODE_ESC = r"(?:\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2})+"
_RUN_STOP = frozenset(b" \t\r\n\"'<>`")
_ESC_RX = re.compile(rb"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|\\([nrt\"'/\\])")
_PCT_RX = re.compile(rb"%([0-9A-Fa-f]{2})")
_HEX_RX = re.compile(rb"[0-9A-Fa-f]+")
_AWS_SECRET_FULL = re.compile(rb"[A-Za-z0-9/+]{40}")
_MAX_SLASH_STARTS = 8


class _Budget:
    __slots__ = ("attempts", "decoded", "hits", "layers", "limits", "nodes", "report", "scanned")

    def __init__(self, limits: ScanLimits, report: ScanReport) -> None:
        self.limits = limits
        self.report = report
        self.scanned = 0
        self.decoded = 0
        self.attempts = 0
        self.nodes = 0
        self.layers = 0
        self.hits = 0


@dataclass(slots=True)
class LayerView:
    """What a detector sees: the bytes of one layer and its context (JSON key, decoding depth)."""

    data: bytes
    key: str | None
    depth: int
    layer: int
    decoded: set[str] | None = None
    """Whole-layer decoders (``url``, ``escape``) already applied to this layer."""
    key_end: int = -1
    """End of the last key name the generic-secret detector examined (hits inside it are skipped)."""


@dataclass
class _Group:
    classifiers: list[Classifier] = field(default_factory=list)
    decoder: str | None = None


def _compile(anchors: Sequence[tuple[str, _Group]]) -> tuple[_Search, list[_Group]]:
    groups: list[_Group] = [_Group()]  # index 0 unused (group numbers start at 1)
    parts = []
    for anchor, group in anchors:
        parts.append(f"({anchor})")
        groups.append(group)
    try:
        rx = re2.compile("|".join(parts))
    except Exception as exc:
        raise ConfigurationError(f"cannot compile the combined classifier pattern: {exc}") from None
    if rx.groups != len(parts):
        raise ConfigurationError("classifier anchors must not contain capturing groups; use (?:...)")
    return _searcher(rx), groups


_Search = Callable[[bytes, int, int], "tuple[int, int, int] | None"]


def _searcher(rx: Any) -> _Search:
    """``search(data, pos, end) -> (start, end, group) | None`` over bytes.

    Calls the compiled RE2 object's ``Match`` directly when the binding exposes it (it skips the
    wrapper's generator and match object: about half the cost of a call on short strings), else the
    public ``search``.
    """
    regexp = getattr(rx, "_regexp", None)
    anchor = getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None)
    if regexp is not None and anchor is not None and hasattr(regexp, "Match"):
        unanchored = anchor.UNANCHORED
        match = regexp.Match

        def fast(data: bytes, pos: int, end: int) -> tuple[int, int, int] | None:
            spans = match(unanchored, data, pos, end)
            s, e = spans[0]
            if s < 0:
                return None
            for i in range(1, len(spans)):
                if spans[i][0] >= 0:
                    return s, e, i
            return None

        return fast

    def slow(data: bytes, pos: int, end: int) -> tuple[int, int, int] | None:
        m = rx.search(data, pos, end)
        if m is None:
            return None
        s, e = m.span()
        return s, e, m.lastindex

    return slow


@functools.lru_cache(maxsize=4096)
def _norm_key(key: str) -> str:
    return re.sub(r"[\s_\-.]", "", key.lower())[-64:]


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_SHORT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,13}")


class Scanner:
    """A compiled set of classifiers. Immutable after construction and safe to share between threads."""

    def __init__(
        self,
        classifiers: Iterable[Classifier] = DEFAULT_CLASSIFIERS,
        *,
        limits: ScanLimits | None = None,
        min_confidence: float = 0.5,
    ) -> None:
        self.classifiers: tuple[Classifier, ...] = tuple(classifiers)
        self.limits = limits or ScanLimits()
        self.min_confidence = min_confidence
        kinds = [c.kind for c in self.classifiers]
        self.kinds = tuple(dict.fromkeys(kinds))
        builtin: dict[str, _Group] = {}
        custom: dict[str, _Group] = {}
        for c in self.classifiers:
            table = builtin if c.builtin else custom
            table.setdefault(c.anchor, _Group()).classifiers.append(c)
        primary = list(builtin.items())
        # decoding anchors go last: at equal start positions RE2 prefers earlier alternatives
        primary += [
            (_DECODE_URL, _Group(decoder="url")),
            (_DECODE_ESC, _Group(decoder="escape")),
            (_DECODE_BLOB, _Group(decoder="blob")),
        ]
        self._rx, self._groups = _compile(primary)
        inner = [(a, g) for a, g in primary if g.decoder != "blob"]
        self._inner_rx, self._inner_groups = _compile(inner)
        self._custom_rx: _Search | None = None
        self._custom_groups: list[_Group] = []
        if custom:
            self._custom_rx, self._custom_groups = _compile(list(custom.items()))
        self._generic_kinds = {c.kind for c in self.classifiers if c.kind == "generic_secret"}
        self._classification = {c.kind: c.classification for c in self.classifiers}

    # -- public API ------------------------------------------------------------------------------
    def scan(self, value: Any) -> ScanReport:
        """Scan a string or any JSON-like value; see the module docstring."""
        report = ScanReport()
        budget = _Budget(self.limits, report)
        self._walk(value, "$", None, 0, budget)
        report.bytes_scanned = budget.scanned
        report.decoded_segments = budget.attempts
        return report

    def findings(self, value: Any) -> list[Finding]:
        return self.scan(value).findings

    def redact(
        self,
        value: Any,
        report: ScanReport | None = None,
        *,
        kinds: Iterable[str] | None = None,
        classifications: Iterable[Classification | str] | None = None,
    ) -> Any:
        """A copy of ``value`` with every finding (optionally only some kinds/classifications) replaced by
        its masked preview. Containers are rebuilt (dicts and lists); other leaves are returned as is."""
        rep = report if report is not None else self.scan(value)
        want_k = set(kinds) if kinds is not None else None
        want_c = {Classification(c) for c in classifications} if classifications is not None else None
        by_path: dict[str, list[Finding]] = {}
        for f in rep.findings:
            if (want_k is None or f.kind in want_k) and (want_c is None or f.classification in want_c):
                by_path.setdefault(f.path, []).append(f)
        if not by_path:
            return value
        # values under a sensitive key have their own path (``$.<value#3>``); note which ones hold findings
        vpaths = {p[: p.index(">", i) + 1] for p in by_path for i in _value_marks(p)}
        return self._redact_node(value, "$", by_path, 0, vpaths)

    # -- walking -----------------------------------------------------------------------------------
    def _child(self, path: str, key: Any, index: int = 0) -> str:
        if isinstance(key, int):
            return f"{path}[{key}]"
        k = str(key)
        if _IDENT.fullmatch(k):
            return f"{path}.{k}"
        if len(k) > 64:  # truncated in the path: the key's position keeps two long keys apart
            return f"{path}[{json.dumps(k[:48] + '...')}#{index}]"
        return f"{path}[{json.dumps(k)}]"

    def _key_path(self, path: str, index: int) -> str:
        return f"{path}.<key#{index}>"

    def _value_path(self, path: str, index: int) -> str:
        """The path of the value under a sensitive key: distinct from the key's own path, so redacting
        one never rewrites the other with its spans."""
        return f"{path}.<value#{index}>"

    def _walk(self, node: Any, path: str, key: str | None, depth: int, budget: _Budget) -> None:
        report = budget.report
        if not report.complete and ("max_total_bytes" in report.limits_hit or "max_nodes" in report.limits_hit):
            return
        budget.nodes += 1
        if budget.nodes > budget.limits.max_nodes:
            report.hit("max_nodes")
            return
        if depth > budget.limits.max_depth:
            report.hit("max_depth")
            return
        if isinstance(node, str):
            self._scan_string(node, path, key, budget)
        elif isinstance(node, bool) or node is None:
            return
        elif isinstance(node, (int, float)):
            text = _number_text(node)
            if text is None:  # an int too long for str() (> 4300 digits): not looked at, so say so
                report.hit("max_int_digits")
            elif text:
                self._scan_string(text, path, key, budget)
        elif isinstance(node, Mapping):
            for i, (k, v) in enumerate(node.items()):
                ks = str(k)
                child = ""
                if not _SHORT_KEY.fullmatch(ks):  # a short identifier cannot hold any finding
                    kpath = self._key_path(path, i)
                    before = len(report.findings)
                    self._scan_string(ks, kpath, None, budget)
                    if len(report.findings) > before:  # the key itself is sensitive: keep it out of paths
                        child = self._value_path(path, i)
                self._walk(v, child or self._child(path, ks, i), ks, depth + 1, budget)
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                self._walk(v, self._child(path, i), key, depth + 1, budget)
        elif isinstance(node, (bytes, bytearray)):
            self._scan_string(bytes(node).decode("utf-8", "replace"), path, key, budget)
        else:
            # unknown leaf (pydantic model, dataclass, ...): scan its text form rather than skip it
            self._scan_string(str(node), path, key, budget)

    def _scan_string(self, text: str, path: str, key: str | None, budget: _Budget) -> None:
        if not text:
            return
        report = budget.report
        norm, omap = normalize(text)
        data = norm.encode("utf-8", "surrogatepass")
        if budget.scanned + len(data) > budget.limits.max_total_bytes:
            report.hit("max_total_bytes")
            return
        nkey = _norm_key(key) if key is not None else None
        top = budget.layers + 1
        hits = self._scan_layer(data, nkey, 0, budget)
        if nkey is not None:
            hits.extend(self._key_context_hits(data, nkey, top))
        if not hits:
            return
        hits = _resolve(hits)
        ascii_text = norm.isascii()
        bpos = cpos = 0  # byte -> character offsets, advanced incrementally (hits are sorted by start)
        for h in hits:
            if h.confidence < self.min_confidence:
                continue
            if len(report.findings) >= budget.limits.max_findings:
                report.hit("max_findings")
                return
            if ascii_text:
                ns, ne = h.start, h.end
            else:
                cpos += len(data[bpos : h.start].decode("utf-8", "replace"))
                bpos = h.start
                ns = cpos
                ne = ns + len(data[h.start : h.end].decode("utf-8", "replace"))
            span = omap.span(ns, ne)
            report.findings.append(
                Finding(
                    h.kind,
                    h.classification,
                    path,
                    span,
                    round(h.confidence, 3),
                    h.masked,
                    h.decoding,
                    h.classifier,
                )
            )

    def _key_context_hits(self, data: bytes, nkey: str, layer: int) -> list[Hit]:
        """Whole-leaf checks that need the JSON key: a generic secret under a secret-like key, an AWS
        secret access key under its key name."""
        ktype = secret_key_type(nkey)
        aws = "secretaccesskey" in nkey or "awssecret" in nkey
        if ktype is None and not aws:
            return []
        stripped = data.strip()
        if len(stripped) > 4096:  # measured after stripping: padding must not push a secret out of reach
            return []
        off = len(data) - len(data.lstrip())
        span = (off, off + len(stripped))
        text = stripped.decode("utf-8", "replace")
        out: list[Hit] = []
        if aws and "aws_secret_key" in self.kinds and _AWS_SECRET_FULL.fullmatch(stripped) and aws_secret_ok(stripped):
            out.append(
                Hit(
                    "aws_secret_key",
                    Classification.SECRET,
                    *span,
                    0.9,
                    "****",
                    85,
                    "aws_secret_key",
                    layer=layer,
                    inner=span,
                )
            )
        if ktype is not None and "generic_secret" in self._generic_kinds:
            conf = secret_value_ok(ktype, text)
            if conf > 0:
                out.append(
                    Hit(
                        "generic_secret",
                        Classification.SECRET,
                        *span,
                        min(1.0, conf + 0.1),
                        "********",
                        10,
                        "generic_secret",
                        layer=layer,
                        inner=span,
                    )
                )
        return out

    # -- one layer ---------------------------------------------------------------------------------
    def _scan_layer(self, data: bytes, key: str | None, depth: int, budget: _Budget) -> list[Hit]:
        budget.scanned += len(data)
        budget.layers += 1
        layer = budget.layers
        view = LayerView(data, key, depth, layer)
        hits: list[Hit] = []
        self._pass(self._rx, self._groups, view, 0, len(data), hits, budget)
        if self._custom_rx is not None:
            self._pass(self._custom_rx, self._custom_groups, view, 0, len(data), hits, budget)
        return hits

    def _pass(
        self,
        rx: _Search,
        groups: list[_Group],
        view: LayerView,
        pos: int,
        end: int,
        hits: list[Hit],
        budget: _Budget,
    ) -> None:
        data = view.data
        search = rx
        while pos < end:
            m = search(data, pos, end)
            if m is None:
                return
            s, e, gi = m
            budget.hits += 1
            if budget.hits > budget.limits.max_anchor_hits:
                budget.report.hit("max_anchor_hits")
                return
            group = groups[gi]
            nxt = e if e > s else s + 1
            if group.decoder is not None:
                nxt = max(nxt, self._decode(group.decoder, view, s, e, hits, budget))
            else:
                for clf in group.classifiers:
                    try:
                        for h in clf.detect(view, s, e):
                            h.layer = view.layer
                            h.inner = (h.start, h.end)
                            hits.append(h)
                            if h.consume and h.end > nxt:
                                nxt = h.end
                    except Exception:  # a custom validator's bug: fail closed, never lose the hit silently
                        report = budget.report
                        report.hit("classifier_error")
                        if clf.name not in report.classifier_errors:
                            report.classifier_errors.append(clf.name)
            pos = nxt

    # -- decoding ----------------------------------------------------------------------------------
    def _decode(self, how: str, view: LayerView, s: int, e: int, hits: list[Hit], budget: _Budget) -> int:
        lim = budget.limits
        if budget.attempts > lim.max_decode_attempts:
            return e  # already reported; stop paying for more decoding
        if how != "blob":
            # %XX and \\uXXXX are decoded for the whole layer at once, with an offset map back
            if view.decoded is None:
                view.decoded = set()
            elif how in view.decoded:
                return e
            view.decoded.add(how)
            rx = _PCT_RX if how == "url" else _ESC_RX
            decoded = _fast_unescape(view.data, how)
            if decoded == view.data or not self._charge(len(decoded), budget):
                return e
            maps: list[_ByteMap] = []

            def span(a: int, b: int) -> tuple[int, int]:
                if not maps:  # built only when the decoded layer had hits
                    maps.append(_layer_unescape(view.data, rx)[1])
                return maps[0].span(a, b)

            self._recurse(decoded, how, view, hits, budget, span)
            return e
        data = view.data
        # anchors hidden inside a long token ("my_aws_secret_access_key...") are still seen
        self._pass(self._inner_rx, self._inner_groups, view, s + 1, e, hits, budget)
        blob = data[s:e]
        if b"\n" in blob:
            blob = blob.replace(b"\r", b"").replace(b"\n", b"")
        raw, label = self._try_blob(blob, budget)
        if raw is not None:
            self._recurse(raw, label, view, hits, budget, lambda a, b: (s, e))
        return e

    def _recurse(
        self,
        decoded: bytes,
        label: str,
        view: LayerView,
        hits: list[Hit],
        budget: _Budget,
        span: Callable[[int, int], tuple[int, int]],
    ) -> None:
        """Scan a decoded layer; its hits get outer spans from ``span`` and ``label`` in their path."""
        lim = budget.limits
        budget.attempts += 1
        if view.depth + 1 > lim.max_decode_depth:
            budget.report.hit("max_decode_depth")
            return
        if budget.attempts > lim.max_decode_attempts:
            budget.report.hit("max_decode_attempts")
            return
        if budget.scanned + len(decoded) > lim.max_total_bytes:
            budget.report.hit("max_total_bytes")
            return
        if not decoded.isascii():
            text = decoded.decode("utf-8", "replace")
            decoded = normalize(text)[0].encode("utf-8", "surrogatepass")
        for h in self._scan_layer(decoded, view.key, view.depth + 1, budget):
            h.start, h.end = span(h.start, h.end)
            h.decoding = (label, *h.decoding)
            h.consume = True
            hits.append(h)

    def _try_blob(self, blob: bytes, budget: _Budget) -> tuple[bytes | None, str]:
        if len(blob) > budget.limits.max_segment_bytes:
            budget.report.hit("max_segment_bytes")
            return None, ""
        if len(blob) >= 16 and len(blob) % 2 == 0 and _HEX_RX.fullmatch(blob):
            unhexed = binascii.unhexlify(blob)
            if not self._charge(len(unhexed), budget):
                return None, ""
            if len(unhexed) >= 8 and _mostly_text(unhexed):
                return unhexed, "hex"
        raw = self._b64_text(blob, budget)
        if raw is None and b"/" in blob:
            # a blob glued to a URL path ("evil.com/x/<base64>"): "/" is in the alphabet, so the segment
            # may start after any slash; try the first few
            pos = blob.find(b"/")
            tries = 0
            while raw is None and pos >= 0 and tries < _MAX_SLASH_STARTS and len(blob) - pos > 16:
                tries += 1
                raw = self._b64_text(blob[pos + 1 :], budget)
                pos = blob.find(b"/", pos + 1)
        return (raw, "base64") if raw is not None else (None, "")

    def _b64_text(self, blob: bytes, budget: _Budget) -> bytes | None:
        body = blob.rstrip(b"=")
        if len(body) % 4 == 1:
            return None
        try:
            raw = base64.b64decode(body + b"=" * (-len(body) % 4), validate=True)
        except (binascii.Error, ValueError):
            return None
        if not self._charge(len(raw), budget):
            return None
        return raw if len(raw) >= 8 and _mostly_text(raw) else None

    @staticmethod
    def _charge(n: int, budget: _Budget) -> bool:
        """Account for ``n`` decoded bytes; False (and the scan marked incomplete) past the limit."""
        budget.decoded += n
        if budget.decoded > budget.limits.max_decoded_bytes:
            budget.report.hit("max_decoded_bytes")
            return False
        return True

    # -- redaction ---------------------------------------------------------------------------------
    def _redact_node(
        self, node: Any, path: str, by_path: dict[str, list[Finding]], depth: int, vpaths: set[str]
    ) -> Any:
        if depth > self.limits.max_depth:
            return node
        if isinstance(node, str):
            return _apply(node, by_path.get(path, ()))
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, (int, float)):
            fs = by_path.get(path)
            return _apply(_number_text(node) or "", fs) if fs else node
        if isinstance(node, Mapping):
            out: dict[Any, Any] = {}
            for i, (k, v) in enumerate(node.items()):
                kpath = self._key_path(path, i)
                kfs = by_path.get(kpath)
                newk = _apply(str(k), kfs) if kfs else k
                if kfs and (newk in out or newk in node):  # two keys masked alike must not merge
                    newk = f"{newk}#{i}"
                vpath = self._value_path(path, i)
                child = vpath if vpath in vpaths else self._child(path, str(k), i)
                out[newk] = self._redact_node(v, child, by_path, depth + 1, vpaths)
            return out
        if isinstance(node, (list, tuple)):
            items = [self._redact_node(v, self._child(path, i), by_path, depth + 1, vpaths) for i, v in enumerate(node)]
            return type(node)(items) if isinstance(node, tuple) else items
        fs = by_path.get(path)
        if isinstance(node, (bytes, bytearray)):
            return _apply(bytes(node).decode("utf-8", "replace"), fs).encode() if fs else node
        return _apply(str(node), fs) if fs else node


def _number_text(node: int | float) -> str | None:
    """The digits a number carries: ``str`` of an int, of an integral float (``4111111111111111.0`` is a
    card number too); ``""`` for other floats; ``None`` for an int too long to convert."""
    if isinstance(node, float):
        if not (node.is_integer() and abs(node) < 1e20):
            return ""
        node = int(node)
    try:
        return str(node)
    except ValueError:
        return None


def _value_marks(path: str) -> Iterable[int]:
    i = path.find(".<value#")
    while i >= 0:
        yield i
        i = path.find(".<value#", i + 1)


def _apply(text: str, findings: Iterable[Finding]) -> str:
    spans = sorted({(f.span, f.masked) for f in findings}, key=lambda x: (x[0][0], -x[0][1]))
    if not spans:
        return text
    merged: list[tuple[int, int, str]] = []
    for (s, e), masked in spans:
        if merged and s < merged[-1][1]:
            ps, pe, pm = merged[-1]
            merged[-1] = (ps, max(pe, e), pm)
        else:
            merged.append((s, e, masked))
    out = []
    pos = 0
    for s, e, masked in merged:
        out.append(text[pos:s])
        out.append(f"[{masked}]" if not masked.startswith("[") else masked)
        pos = e
    out.append(text[pos:])
    return "".join(out)


def _resolve(hits: list[Hit]) -> list[Hit]:
    """Drop duplicates and overlaps, in O(n log n).

    Within one layer, overlapping hits keep the higher priority (then the higher confidence). A decoded
    hit is dropped when a plain hit of the same kind lies inside its encoded segment (the same value
    seen twice, e.g. in a URL that also had %-escapes).
    """
    if len(hits) == 1:
        return hits
    by_layer: dict[int, tuple[list[int], list[int]]] = {}
    kept: list[Hit] = []
    for h in sorted(hits, key=lambda x: (-x.priority, -x.confidence, x.start)):
        starts, ends = by_layer.setdefault(h.layer, ([], []))
        s, e = h.inner
        i = bisect.bisect_left(starts, e)
        if i > 0 and ends[i - 1] > s:
            continue  # overlaps an accepted hit of this layer (accepted ones never overlap each other)
        starts.insert(i, s)
        ends.insert(i, e)
        kept.append(h)
    plain: dict[str, list[int]] = {}
    for h in kept:
        if not h.decoding:
            plain.setdefault(h.kind, []).append(h.start)
    for v in plain.values():
        v.sort()
    out = []
    for h in kept:
        if h.decoding and h.kind in plain:
            ps = plain[h.kind]
            i = bisect.bisect_left(ps, h.start)
            if i < len(ps) and ps[i] < h.end:
                continue
        out.append(h)
    out.sort(key=lambda x: (x.start, x.end))
    return out


class _ByteMap:
    """Offsets in a decoded byte string back to the encoded one (rewritten segments, as in normalize)."""

    __slots__ = ("_segs", "_starts")

    def __init__(self) -> None:
        self._segs: list[tuple[int, int, int, int]] = []
        self._starts: list[int] = []

    def add(self, ns: int, ne: int, os_: int, oe: int) -> None:
        self._segs.append((ns, ne, os_, oe))
        self._starts.append(ns)

    def _map(self, pos: int, end: bool) -> int:
        # an end offset belongs to the segment before it; a start offset to the one it begins
        i = (bisect.bisect_left(self._starts, pos) if end else bisect.bisect_right(self._starts, pos)) - 1
        if i < 0:
            return pos
        _, ne, os_, oe = self._segs[i]
        if pos < ne or (end and pos == ne):
            return oe if end else os_
        return oe + (pos - ne)

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self._map(start, False), self._map(end, True)


def _layer_unescape(data: bytes, rx: re.Pattern[bytes]) -> tuple[bytes, _ByteMap]:
    """Replace every escape ``rx`` matches (``%XX``; or ``\\uXXXX``, ``\\xXX``, ``\\n``...), with the map back."""
    out: list[bytes] = []
    omap = _ByteMap()
    pos = npos = 0
    for m in rx.finditer(data):
        s, e = m.span()
        if s > pos:
            out.append(data[pos:s])
            npos += s - pos
        rep = _escape_value(m)
        out.append(rep)
        omap.add(npos, npos + len(rep), s, e)
        npos += len(rep)
        pos = e
    out.append(data[pos:])
    joined = b"".join(out)
    if b"\xed" in joined:  # \\ud83d\\ude00 encoded separately: join surrogate pairs when they form one
        try:
            joined = joined.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass").decode("utf-16").encode()
        except UnicodeError:
            pass
    return joined, omap


def _fast_unescape(data: bytes, how: str) -> bytes:
    """The decoded bytes only (no offset map): ``unquote_to_bytes`` for ``%XX``, one ``re.sub`` for escapes."""
    if how == "url":
        return urllib.parse.unquote_to_bytes(data)
    return _layer_unescape(data, _ESC_RX)[0] if b"\\ud" in data.lower() else _ESC_RX.sub(_escape_value, data)


def _escape_value(m: re.Match[bytes]) -> bytes:
    groups = m.groups()
    if len(groups) == 1:  # %XX
        return bytes([int(groups[0], 16)])
    if groups[0]:
        return chr(int(groups[0], 16)).encode("utf-8", "surrogatepass")
    if groups[1]:
        return bytes([int(groups[1], 16)])
    c = groups[2]
    return {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(c, c)


def _mostly_text(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\t\r\n")
    return printable >= 0.9 * len(text)


# ------------------------------------------------------------------------------------------------
# module-level convenience
# ------------------------------------------------------------------------------------------------

_default: Scanner | None = None
_default_lock = threading.Lock()


def default_scanner() -> Scanner:
    """The shared scanner over :data:`DEFAULT_CLASSIFIERS` (built on first use)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Scanner()
    return _default


def scan(
    value: Any,
    *,
    classifiers: Iterable[Classifier] | None = None,
    min_confidence: float | None = None,
    limits: ScanLimits | None = None,
) -> list[Finding]:
    """Scan a string or any JSON-like value and return its findings (never the raw values).

    Each :class:`~agent_security.egress.findings.Finding` has ``kind``, ``classification``, ``path``
    (JSON path such as ``$.body`` or ``$.items[0]``), ``span`` (in the original string at that path),
    ``confidence``, ``masked`` (a safe preview) and ``decoding`` (e.g. ``("base64",)``). Use
    :meth:`Scanner.scan` to also learn whether the scan was complete.
    """
    if classifiers is None and min_confidence is None and limits is None:
        return default_scanner().scan(value).findings
    sc = Scanner(
        classifiers if classifiers is not None else DEFAULT_CLASSIFIERS,
        limits=limits,
        min_confidence=0.5 if min_confidence is None else min_confidence,
    )
    return sc.scan(value).findings


def redact(value: Any) -> Any:
    """``value`` with every finding of the default scanner replaced by its masked preview."""
    return default_scanner().redact(value)
