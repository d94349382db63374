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

import functools
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent_security.egress._speedups.flat import scan_flat
from agent_security.egress._speedups.prefilter import CombinedPass, Passes, Prefilter
from agent_security.egress._speedups.records import new_finding
from agent_security.egress.classifiers import (
    DEFAULT_CLASSIFIERS,
    Classifier,
    Hit,
    aws_secret_ok,
    secret_key_type,
    secret_value_ok,
)
from agent_security.egress.decoding import (
    LAYER_RX,
    OverBudget,
    decode_a85,
    decode_blob,
    decode_chars,
    layer_unescape,
    unescape_layer,
)
from agent_security.egress.findings import Classification, Finding, ScanReport
from agent_security.egress.limits import LIMIT_REASONS, Budget, ScanLimits
from agent_security.egress.normalize import normalize
from agent_security.egress.pieces import scan_pieces
from agent_security.egress.redaction import child_path, key_path, number_text, redact_node, value_marks, value_path
from agent_security.egress.resolution import resolve

__all__ = ["LIMIT_REASONS", "LayerView", "ScanLimits", "Scanner", "default_scanner", "redact", "scan"]


_AWS_SECRET_FULL = re.compile(rb"[A-Za-z0-9/+]{40}")
# the whole run a decoder trigger matched inside: base64/base64url/hex/base32 characters, MIME line breaks
_RUN_FWD = re.compile(rb"[A-Za-z0-9+/_\-]*(?:\r?\n[A-Za-z0-9+/_\-]{4,})*={0,6}")
_RUN_BACK = re.compile(rb"[A-Za-z0-9+/_\-]{0,1024}")
_CHARS_RUN = re.compile(rb"(?:0x[0-9A-Fa-f]{2}|\d{1,3})(?:\s*,\s*(?:0x[0-9A-Fa-f]{2}|\d{1,3})){7,4095}")
_A85_END = re.compile(rb"<~[!-uz\s]{0,1048576}?~>")
_LAYER_DECODERS = frozenset(("url", "escape", "html", "obfuscation"))


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
    gate: bool = False
    """A bare number was seen: the context-gated anchors run over this layer too."""


@functools.lru_cache(maxsize=4096)
def _norm_key(key: str) -> str:
    return re.sub(r"[\s_\-.]", "", key.lower())[-64:]


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_SHORT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,13}")


class _KeyContext(dict[str, bool]):
    """Whether a normalised key is context for a whole-leaf check (a secret-like key, an AWS secret key
    name), memoised: ``ctx[nkey]``."""

    def __missing__(self, nkey: str) -> bool:
        got = secret_key_type(nkey) is not None or "secretaccesskey" in nkey or "awssecret" in nkey
        if len(self) >= 4096:
            self.clear()
        self[nkey] = got
        return got


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
        self._prefilter = Prefilter(self.classifiers)
        self._key_context = _KeyContext()
        self._generic_kinds = {c.kind for c in self.classifiers if c.kind == "generic_secret"}
        self._classification = {c.kind: c.classification for c in self.classifiers}

    # -- public API ------------------------------------------------------------------------------
    def scan(self, value: Any) -> ScanReport:
        """Scan a string or any JSON-like value; see the module docstring."""
        report = ScanReport()
        budget = Budget(self.limits, report)
        if type(value) is not dict or not scan_flat(self, value, budget):
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
        vpaths = {p[: p.index(">", i) + 1] for p in by_path for i in value_marks(p)}
        return redact_node(value, "$", by_path, 0, vpaths, self.limits.max_depth)

    # -- walking -----------------------------------------------------------------------------------
    def _walk(self, node: Any, path: str, key: str | None, depth: int, budget: Budget) -> None:
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
            text = number_text(node)
            if text is None or len(text) > budget.limits.max_int_digits:  # not looked at, so say so
                report.hit("max_int_digits")
            elif text:
                self._scan_string(text, path, key, budget)
        elif isinstance(node, Mapping):
            for i, (k, v) in enumerate(node.items()):
                ks = str(k)
                child = ""
                if not _SHORT_KEY.fullmatch(ks):  # a short identifier cannot hold any finding
                    kpath = key_path(path, i)
                    before = len(report.findings)
                    self._scan_string(ks, kpath, None, budget)
                    if len(report.findings) > before:  # the key itself is sensitive: keep it out of paths
                        child = value_path(path, i)
                self._walk(v, child or child_path(path, ks, i), ks, depth + 1, budget)
            scan_pieces(self, node, path, budget)
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                self._walk(v, child_path(path, i), key, depth + 1, budget)
            scan_pieces(self, node, path, budget)
        elif isinstance(node, (bytes, bytearray)):
            self._scan_string(bytes(node).decode("utf-8", "replace"), path, key, budget)
        else:
            # unknown leaf (pydantic model, dataclass, ...): scan its text form rather than skip it
            self._scan_string(str(node), path, key, budget)

    def _scan_string(
        self, text: str, path: str, key: str | None, budget: Budget, first: tuple[int, int, int] | None = None
    ) -> None:
        """Scan one string (``first``: the prefilter's first match in its ASCII bytes, already found)."""
        if not text:
            return
        report = budget.report
        ascii_text = text.isascii()
        norm, omap = (text, None) if ascii_text else normalize(text)
        data = norm.encode("utf-8", "surrogatepass")
        if budget.scanned + len(data) > budget.limits.max_total_bytes:
            report.hit("max_total_bytes")
            return
        nkey = _norm_key(key) if key is not None else None
        top = budget.layers + 1
        hits = self._scan_layer(data, nkey, 0, budget, first)
        if nkey is not None and self._key_context[nkey]:
            hits.extend(self._key_context_hits(data, nkey, top))
        if not hits:
            return
        if len(hits) > 1:
            hits = resolve(hits)
        ascii_text = ascii_text or norm.isascii()
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
            span = omap.span(ns, ne) if omap is not None and omap.segments else (ns, ne)
            report.findings.append(
                new_finding(h.kind, h.classification, path, span, h.confidence, h.masked, h.decoding, h.classifier)
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
    def _scan_layer(
        self, data: bytes, key: str | None, depth: int, budget: Budget, first: tuple[int, int, int] | None = None
    ) -> list[Hit]:
        budget.scanned += len(data)
        budget.layers += 1
        passes = self._prefilter.passes[key]
        custom = self._prefilter.custom
        if first is None:
            first = passes.outer.search(data, 0, len(data))
        if first is None and custom is None:
            return []  # the common case: nothing in the layer wakes any detector
        view = LayerView(data, key, depth, budget.layers)
        hits: list[Hit] = []
        if first is not None:
            self._pass(passes.outer, passes, view, first, len(data), hits, budget)
            if view.gate and passes.gated is not None:
                self._pass(passes.gated, passes, view, 0, len(data), hits, budget)
        if custom is not None:
            self._pass(custom, passes, view, 0, len(data), hits, budget)
        return hits

    def _pass(
        self,
        rx: CombinedPass,
        passes: Passes,
        view: LayerView,
        pos: int | tuple[int, int, int],
        end: int,
        hits: list[Hit],
        budget: Budget,
    ) -> None:
        """Wake the detectors and decoders whose anchors match in ``view.data[pos:end]`` (``pos`` may be the
        first match, already found).

        After a detector's anchor the search goes on one byte later (anchors start at a boundary or with a
        literal, so they do not match again inside themselves, and an anchor inside another is still seen)
        or after the hit a detector consumed; after a decoder's segment, past the segment (the decoder runs
        the detectors' pass over it). The first bare number (the gate) turns on the context-gated pass for
        the layer, and the search goes on without the gate."""
        data = view.data
        search = rx.search
        groups = rx.groups
        limit = budget.limits.max_anchor_hits
        m: tuple[int, int, int] | None = pos if isinstance(pos, tuple) else search(data, pos, end)
        while m is not None:
            s, e, gi = m
            budget.hits += 1
            if budget.hits > limit:
                budget.report.hit("max_anchor_hits")
                return
            group = groups[gi]
            nxt = s + 1
            if group.decoder == "gate":
                view.gate = True
                search, groups = passes.after_gate.search, passes.after_gate.groups
                nxt = s
            elif group.decoder is not None:
                nxt = max(e, self._decode(group.decoder, passes, view, s, e, hits, budget))
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
            if nxt >= end:
                return
            m = search(data, nxt, end)

    # -- decoding ----------------------------------------------------------------------------------
    def _decode(
        self, how: str, passes: Passes, view: LayerView, s: int, e: int, hits: list[Hit], budget: Budget
    ) -> int:
        """Decode what the trigger at ``s:e`` found; return where the outer search goes on."""
        lim = budget.limits
        if budget.attempts > lim.max_decode_attempts:
            return e  # already reported; stop paying for more decoding
        if how in _LAYER_DECODERS:
            # %XX, \uXXXX and &#NN; are decoded for the whole layer at once, with an offset map back
            if view.decoded is None:
                view.decoded = set()
            elif how in view.decoded:
                return e
            view.decoded.add(how)
            decoded = unescape_layer(view.data, how)
            if decoded == view.data or not self._charge(len(decoded), budget):
                return e
            maps: list[Any] = []

            def span(a: int, b: int) -> tuple[int, int]:
                if not maps:  # built only when the decoded layer had hits
                    maps.append(layer_unescape(view.data, LAYER_RX[how])[1])
                return maps[0].span(a, b)  # type: ignore[no-any-return]

            self._recurse(decoded, (how,), view, hits, budget, span)
            return e
        data = view.data
        if how == "chars":
            m = _CHARS_RUN.match(data, s)
            seg_end = m.end() if m else e
            raw = decode_chars(data[s:seg_end])
            if raw is not None and self._charge(len(raw), budget):
                self._recurse(raw, ("chars",), view, hits, budget, lambda a, b: (s, seg_end))
            return seg_end
        if how == "a85":
            m = _A85_END.match(data, s, min(len(data), s + lim.max_segment_bytes))
            if m is None:
                return e
            raw = decode_a85(m.group(0))
            if raw is not None and self._charge(len(raw), budget):
                self._recurse(raw, ("ascii85",), view, hits, budget, lambda a, b: (s, m.end()))
            return m.end()
        # a base64 / hex / base32 run: widen the trigger's match to the whole run
        back = _RUN_BACK.match(data[max(0, s - 1024) : s][::-1])
        rs = s - (back.end() if back else 0)
        fwd = _RUN_FWD.match(data, e)
        re_ = fwd.end() if fwd else e
        # anchors hidden inside a long token ("my_aws_secret_access_key...") are still seen
        if s + 1 < re_:
            self._pass(passes.inner, passes, view, s + 1, re_, hits, budget)
        blob = data[rs:re_]
        if len(blob) > lim.max_segment_bytes:
            budget.report.hit("max_segment_bytes")
            return re_
        if b"\n" in blob:
            blob = blob.replace(b"\r", b"").replace(b"\n", b"")
        remaining = lim.max_decoded_bytes - budget.decoded
        try:
            got = decode_blob(blob, remaining, lambda n: self._charge(n, budget))
        except OverBudget:
            budget.report.hit("max_decoded_bytes")
            return re_
        if got is not None:
            raw, label = got
            self._recurse(raw, label, view, hits, budget, lambda a, b: (rs, re_))
        return re_

    def _recurse(
        self,
        decoded: bytes,
        label: tuple[str, ...],
        view: LayerView,
        hits: list[Hit],
        budget: Budget,
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
            h.decoding = (*label, *h.decoding)
            h.consume = True
            hits.append(h)

    @staticmethod
    def _charge(n: int, budget: Budget) -> bool:
        """Account for ``n`` decoded bytes; False (and the scan marked incomplete) past the limit."""
        budget.decoded += n
        if budget.decoded > budget.limits.max_decoded_bytes:
            budget.report.hit("max_decoded_bytes")
            return False
        return True


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
