"""Decoders: what the scanner looks through, each bounded.

Segment decoders take one encoded run and return its decoded bytes (or ``None`` when it does not decode to
text): base64 (standard and URL-safe, MIME line breaks), gzip/zlib/raw deflate under base64, hex, base32,
Ascii85 (``<~ ~>``) and character arrays (``72, 101, 108`` or ``0x48, 0x65``). Layer decoders rewrite every
escape of a layer at once, with a map of offsets back: ``%XX`` (``url``), ``\\uXXXX`` / ``\\xXX`` / ``\\n``
(``escape``), HTML character references (``html``) and ``[at]`` / ``(dot)`` (``obfuscation``).

Decompression is bounded by the bytes the caller still allows (``limit``): a payload that would inflate past
it is reported as over budget (:class:`OverBudget`), so the scan says it is incomplete instead of guessing.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
import urllib.parse
import zlib
from collections.abc import Callable

__all__ = [
    "ByteMap",
    "OverBudget",
    "decode_a85",
    "decode_blob",
    "decode_chars",
    "layer_unescape",
    "mostly_text",
    "unescape_layer",
]


class OverBudget(Exception):
    """Decoding would produce more bytes than the scan's budget allows."""


class ByteMap:
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


# -- layer decoders ------------------------------------------------------------------------------------

ESC_RX = re.compile(rb"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|\\([nrt\"'/\\])")
PCT_RX = re.compile(rb"%([0-9A-Fa-f]{2})")
HTML_RX = re.compile(rb"&#[xX][0-9A-Fa-f]{1,6};|&#\d{1,7};|&[A-Za-z][A-Za-z0-9]{1,31};")
OBF_RX = re.compile(rb"[ \t]*[\[({][ \t]*([Aa][Tt]|[Dd][Oo][Tt])[ \t]*[\])}][ \t]*")
"""The email obfuscations ``[at]`` / ``(dot)``, folded to ``@`` / ``.``."""
LAYER_RX = {"url": PCT_RX, "escape": ESC_RX, "html": HTML_RX, "obfuscation": OBF_RX}


def _escape_value(m: re.Match[bytes]) -> bytes:
    if m.re is OBF_RX:
        return b"@" if m.group(1).lower() == b"at" else b"."
    groups = m.groups()
    if not groups:  # an HTML character reference
        import html  # its entity table is imported the first time a value holds one

        return html.unescape(m.group(0).decode("ascii")).encode("utf-8", "surrogatepass")
    if len(groups) == 1:  # %XX
        return bytes([int(groups[0], 16)])
    if groups[0]:
        return chr(int(groups[0], 16)).encode("utf-8", "surrogatepass")
    if groups[1]:
        return bytes([int(groups[1], 16)])
    c = groups[2]
    return {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(c, c)


def layer_unescape(data: bytes, rx: re.Pattern[bytes]) -> tuple[bytes, ByteMap]:
    """Replace every escape ``rx`` matches, with the map back to ``data``."""
    out: list[bytes] = []
    omap = ByteMap()
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


def unescape_layer(data: bytes, how: str) -> bytes:
    """The decoded bytes only (no offset map)."""
    if how == "url":
        return urllib.parse.unquote_to_bytes(data)
    if how == "escape" and b"\\ud" not in data.lower():
        return ESC_RX.sub(_escape_value, data)
    return layer_unescape(data, LAYER_RX[how])[0]


# -- segment decoders ----------------------------------------------------------------------------------

_HEX_RX = re.compile(rb"[0-9A-Fa-f]+")
_B32_RX = re.compile(rb"[A-Z2-7]+=*")
_MAX_SLASH_STARTS = 8
_SLASH_WINDOW = 512
"""A base64 run glued to a URL path starts after one of the slashes in its first bytes."""
_SAMPLE = 4096
"""Characters of a long run decoded first (a multiple of 4)."""


def _COMPRESSED_MAGIC(raw: bytes) -> bool:
    return raw[:2] == b"\x1f\x8b" or (raw[:1] == b"\x78" and len(raw) > 2 and (raw[0] * 256 + raw[1]) % 31 == 0)


def mostly_text(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\t\r\n")
    return printable >= 0.9 * len(text)


def _inflate(raw: bytes, wbits: int, limit: int) -> bytes | None:
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(raw, max(1, limit))
    except zlib.error:
        return None
    if d.unconsumed_tail:
        raise OverBudget
    return out


def _b64(blob: bytes) -> bytes | None:
    body = blob.rstrip(b"=")
    if len(body) % 4 == 1:
        return None
    if b"-" in body or b"_" in body:
        if b"+" in body or b"/" in body:
            return None
        body = body.replace(b"-", b"+").replace(b"_", b"/")
    try:
        return base64.b64decode(body + b"=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _text_or_inflated(raw: bytes, limit: int) -> tuple[bytes, str] | None:
    if raw[:2] == b"\x1f\x8b":
        out = _inflate(raw, 31, limit)
        return (out, "gzip") if out is not None and mostly_text(out) else None
    if raw[:1] == b"\x78" and len(raw) > 2 and (raw[0] * 256 + raw[1]) % 31 == 0:
        out = _inflate(raw, 15, limit)
        return (out, "zlib") if out is not None and mostly_text(out) else None
    if len(raw) >= 8 and mostly_text(raw):
        return raw, ""
    return None


def decode_blob(blob: bytes, limit: int, charge: Callable[[int], bool]) -> tuple[bytes, tuple[str, ...]] | None:
    """Decode one run of base64/hex/base32 characters to text: the decoded bytes and the decoding path
    (``("base64",)``, ``("base64", "gzip")``, ``("hex",)``...), or ``None``. ``charge(n)`` accounts for
    decoded bytes and says whether the budget still allows them; ``limit`` bounds decompression."""
    if len(blob) >= 16 and len(blob) % 2 == 0 and _HEX_RX.fullmatch(blob):
        unhexed = binascii.unhexlify(blob)
        if not charge(len(unhexed)):
            return None
        if len(unhexed) >= 8 and mostly_text(unhexed):
            return unhexed, ("hex",)
    if len(blob) >= 16 and _B32_RX.fullmatch(blob) and len(blob.rstrip(b"=")) % 8 in (0, 2, 4, 5, 7):
        body = blob.rstrip(b"=")
        try:
            raw = base64.b32decode(body + b"=" * (-len(body) % 8))
        except (binascii.Error, ValueError):
            raw = b""
        if raw and charge(len(raw)) and len(raw) >= 8 and mostly_text(raw):
            return raw, ("base32",)
    starts = [0]
    pos = blob.find(b"/", 0, _SLASH_WINDOW)
    while 0 <= pos < _SLASH_WINDOW and len(starts) <= _MAX_SLASH_STARTS and len(blob) - pos > 16:
        # a blob glued to a URL path ("evil.com/x/<base64>"): "/" is in the alphabet, so the segment may
        # start after any slash; try the first few
        starts.append(pos + 1)
        pos = blob.find(b"/", pos + 1)
    for start in starts:
        if len(blob) - start > _SAMPLE:
            # a long run: decode a sample first, and the whole run only when the sample is text (or a
            # compressed stream); a megabyte of base64 image data costs a few kilobytes of decoding
            sample = _b64(blob[start : start + _SAMPLE])
            if sample is None or not (_COMPRESSED_MAGIC(sample) or mostly_text(sample[:-3] or sample)):
                continue
        decoded = _b64(blob[start:])
        if decoded is None:
            continue
        raw = decoded
        if not charge(len(raw)):
            return None
        got = _text_or_inflated(raw, limit)
        if got is not None:
            text, inner = got
            if inner and not charge(len(text)):
                return None
            return text, ("base64", inner) if inner else ("base64",)
    return None


_CHAR_RX = re.compile(rb"0x([0-9A-Fa-f]{2})|(\d{1,3})")


def decode_chars(seg: bytes) -> bytes | None:
    """``72, 101, 108, 108, 111`` or ``0x48, 0x65`` to the bytes they stand for, when those are text."""
    out = bytearray()
    for m in _CHAR_RX.finditer(seg):
        v = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        if v > 255:
            return None
        out.append(v)
    raw = bytes(out)
    return raw if len(raw) >= 8 and mostly_text(raw) else None


def decode_a85(seg: bytes) -> bytes | None:
    """An Ascii85 segment ``<~ ... ~>`` to text."""
    try:
        raw = base64.a85decode(seg, adobe=True)
    except (ValueError, binascii.Error):
        return None
    return raw if len(raw) >= 8 and mostly_text(raw) else None
