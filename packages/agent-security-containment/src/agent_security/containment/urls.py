"""URLs and hosts as a resolver and a socket will read them: one canonical host, one port, one address.

A rule about ``169.254.169.254`` must hold for ``http://2852039166/``, ``http://0xa9.0xfe.0xa9.0xfe``,
``http://0251.0376.0251.0376``, ``http://169.254.43518``, ``http://[::ffff:169.254.169.254]``,
``http://[::ffff:a9fe:a9fe]``, ``http://%31%36%39.254.169.254`` and the same in fullwidth digits.
:func:`parse_url` and :func:`parse_host` give the canonical host (IDNA/UTS-46 mapped, lower case, no
trailing dot), the port (the scheme's default when none is given) and, when the host is an address in any
spelling ``inet_aton`` or the WHATWG URL standard accepts, that address as an :mod:`ipaddress` object.
:func:`address_category` says why an address is not a public one (loopback, private, link-local,
metadata, ...). Names are not resolved through DNS: a public name that resolves to a private address is
the process sandbox's to stop (it has no network at all).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import idna

from agent_security.containment.errors import UrlError

__all__ = [
    "DEFAULT_PORTS",
    "METADATA_ADDRESSES",
    "METADATA_NAMES",
    "HostInfo",
    "UrlError",
    "UrlInfo",
    "address_category",
    "embedded_ipv4",
    "looks_like_url",
    "name_category",
    "parse_host",
    "parse_ipv4_loose",
    "parse_url",
]

MAX_URL_CHARS = 8192
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21, "ftps": 990, "gopher": 70, "ssh": 22}
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.123",  # AWS time sync
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server (a public address)
        "fd00:ec2::254",  # AWS IPv6
    )
)
METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)
_PRIVATE_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".lan", ".intranet")
_UNREADABLE = re.compile(r"[\s\x00-\x1f\x7f\\]")
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]{0,31}):")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPAT = ipaddress.ip_network("::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class HostInfo:
    """``host`` canonical (IDNA ASCII, lower case, no trailing dot; an address in its standard form);
    ``address`` when the host is an IP address in any spelling."""

    host: str
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class UrlInfo:
    """A URL read as a client would: ``scheme`` lower case, the canonical ``host`` (``""`` for a URL
    without one, such as ``file:///etc/passwd``), ``port`` (the scheme's default when none is given) and
    the ``path`` (percent-decoded, for ``file:`` URLs)."""

    raw: str
    scheme: str
    host: HostInfo | None
    port: int | None
    path: str


def looks_like_url(text: str) -> bool:
    """Whether ``text`` is a whole URL (``scheme://...``, ``file:...``, ``mailto:`` is not one)."""
    m = _SCHEME.match(text)
    if m is None:
        return False
    rest = text[m.end() :]
    return rest.startswith(("//", "\\\\")) or m.group(1).lower() == "file"


def parse_url(raw: str) -> UrlInfo:
    """Read ``raw`` as a URL. Raises :class:`UrlError` for anything a client might read differently from
    this parser: control characters, whitespace or backslashes (WHATWG reads ``\\`` as ``/``), an
    unreadable port or host."""
    if len(raw) > MAX_URL_CHARS:
        raise UrlError(f"URL longer than {MAX_URL_CHARS} characters")
    if _UNREADABLE.search(raw):
        raise UrlError("URL holds whitespace, control characters or backslashes")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise UrlError(f"unreadable URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if not scheme:
        raise UrlError("URL without a scheme")
    host_text = parts.hostname
    if scheme == "file":
        if host_text not in (None, "", "localhost"):
            raise UrlError("file URL naming another host")
        return UrlInfo(raw=raw, scheme=scheme, host=None, port=None, path=unquote(parts.path) or "/")
    if not host_text:
        raise UrlError("URL without a host")
    host = parse_host(host_text)
    return UrlInfo(raw=raw, scheme=scheme, host=host, port=port or DEFAULT_PORTS.get(scheme), path=parts.path)


def parse_host(text: str) -> HostInfo:
    """The canonical form of a host name or address (``[v6]`` accepted; a zone id is dropped).
    Raises :class:`UrlError` for a host nobody could connect to unambiguously."""
    host = unquote(text).strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or len(host) > 1024:
        raise UrlError("empty or overlong host")
    if ":" in host:  # only an IPv6 address holds a colon here
        try:
            addr6 = ipaddress.IPv6Address(host.partition("%")[0])
        except ValueError as exc:
            raise UrlError(f"unreadable IPv6 address {host[:64]!r}") from exc
        return HostInfo(host=str(addr6), address=addr6)
    ascii_host = _idna(host).rstrip(".")
    if not ascii_host or ".." in ascii_host:
        raise UrlError(f"unreadable host {host[:64]!r}")
    labels = ascii_host.split(".")
    if _numeric(labels[-1]):  # WHATWG: a host whose last label is a number is an IPv4 address or invalid
        addr4 = parse_ipv4_loose(ascii_host)
        if addr4 is None:
            raise UrlError(f"invalid IPv4 address {host[:64]!r}")
        return HostInfo(host=str(addr4), address=addr4)
    return HostInfo(host=ascii_host)


def _idna(host: str) -> str:
    if _PLAIN_NAME.match(host):  # ASCII letters, digits, '-', '_', '.': UTS-46 maps them to lower case only
        return host.lower()
    try:
        return idna.encode(host, uts46=True, std3_rules=False).decode("ascii").lower()
    except idna.IDNAError:
        try:  # names idna refuses yet resolvers accept (an underscore): the UTS-46 mapping, ASCII only
            mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
        except idna.IDNAError as exc:
            raise UrlError(f"host {host[:64]!r} is not a valid name") from exc
        if not mapped.isascii() or not all(c.isalnum() or c in "-._" for c in mapped):
            raise UrlError(f"host {host[:64]!r} is not a valid name") from None
        return mapped.lower()


def _numeric(label: str) -> bool:
    if label[:2] == "0x":
        return all(c in "0123456789abcdef" for c in label[2:])
    return label.isdigit()


def parse_ipv4_loose(text: str) -> ipaddress.IPv4Address | None:
    """``text`` as ``inet_aton`` reads it: one to four parts, each decimal, octal (leading ``0``) or hex
    (``0x``), the last filling the remaining bytes (``127.1`` is ``127.0.0.1``, ``2130706433`` too).
    ``None`` when it is not such an address or a part is out of range."""
    parts = text.lower().split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        if part.startswith("0x"):
            digits, base = part[2:] or "0", 16
        elif len(part) > 1 and part.startswith("0"):
            digits, base = part[1:], 8
        else:
            digits, base = part, 10
        if not digits or len(digits) > 32:
            return None
        try:
            values.append(int(digits, base))
        except ValueError:
            return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for i, v in enumerate(head):
        number += v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries to an IPv4 host (mapped ``::ffff:a.b.c.d``, compatible
    ``::a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``, 6to4, Teredo server), else ``None``."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64 or (addr in _V4_COMPAT and int(addr) > 1):
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[0]
    return None


def address_category(addr: Address) -> str | None:
    """Why ``addr`` is not a public address (``metadata``, ``loopback``, ``link-local``, ``private``,
    ``multicast``, ``unspecified``, ``reserved``), or ``None`` for a public one. An IPv6 address that
    carries an IPv4 address is judged by that address too."""
    if addr in METADATA_ADDRESSES:
        return "metadata"
    if isinstance(addr, ipaddress.IPv6Address):
        inner = embedded_ipv4(addr)
        if inner is not None:
            category = address_category(inner)
            if category is not None:
                return category
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_multicast:
        return "multicast"
    if addr.is_private:
        return "private"
    if addr.is_reserved or not addr.is_global:
        return "reserved"
    return None


def name_category(host: str) -> str | None:
    """Why a host *name* points inward (``loopback`` for localhost, ``metadata`` for the cloud metadata
    names, ``private`` for internal suffixes), or ``None``."""
    if host in ("localhost",) or host.endswith(".localhost"):
        return "loopback"
    if host in METADATA_NAMES:
        return "metadata"
    if host.endswith(_PRIVATE_SUFFIXES):
        return "private"
    return None
