"""URLs and hosts: every spelling of an address reads as that address; anything ambiguous is refused."""

from __future__ import annotations

import ipaddress

import pytest

from agent_security.containment.urls import (
    UrlError,
    address_category,
    looks_like_url,
    name_category,
    parse_host,
    parse_ipv4_loose,
    parse_url,
)

METADATA_SPELLINGS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",
    "http://0xa9fea9fe/",
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://0251.0376.0251.0376/",
    "http://0251.254.169.254/",
    "http://169.254.43518/",
    "http://169.16689662/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[0:0:0:0:0:ffff:169.254.169.254]/",
    "http://%31%36%39.254.169.254/",
    "http://\uff11\uff16\uff19.\uff12\uff15\uff14.\uff11\uff16\uff19.\uff12\uff15\uff14/",
    "http://169.254.169.254./",
    "http://user:pw@169.254.169.254:80/",
    "HTTP://169.254.169.254/",
]


@pytest.mark.parametrize("url", METADATA_SPELLINGS)
def test_every_spelling_of_the_metadata_address_is_that_address(url: str) -> None:
    info = parse_url(url)
    assert info.host is not None and info.host.address is not None
    assert address_category(info.host.address) == "metadata"


@pytest.mark.parametrize(
    ("host", "category"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1", "loopback"),
        ("2130706433", "loopback"),
        ("0x7f000001", "loopback"),
        ("017700000001", "loopback"),
        ("0", "unspecified"),
        ("[::1]", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("[64:ff9b::7f00:1]", "loopback"),
        ("[2002:7f00:1::]", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.0.1", "private"),
        ("[fd00::1]", "private"),
        ("100.64.0.1", "reserved"),
        ("169.254.1.1", "link-local"),
        ("[fe80::1%25eth0]", "link-local"),
        ("224.0.0.1", "multicast"),
        ("[fd00:ec2::254]", "metadata"),
        ("100.100.100.200", "metadata"),
        ("8.8.8.8", None),
        ("[2606:4700::1111]", None),
    ],
)
def test_address_categories(host: str, category: str | None) -> None:
    info = parse_host(host)
    assert info.address is not None
    assert address_category(info.address) == category


def test_loose_ipv4_matches_inet_aton() -> None:
    assert parse_ipv4_loose("1.2.3") == ipaddress.IPv4Address("1.2.0.3")
    assert parse_ipv4_loose("0x1.0x2.0x3.0x4") == ipaddress.IPv4Address("1.2.3.4")
    assert parse_ipv4_loose("1.2.3.256") is None
    assert parse_ipv4_loose("1.2.65536") is None
    assert parse_ipv4_loose("08.1.1.1") is None  # 8 is not an octal digit
    assert parse_ipv4_loose("4294967296") is None


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("EXAMPLE.com", "example.com"),
        ("example.com.", "example.com"),
        ("m\u00fcnchen.de", "xn--mnchen-3ya.de"),
        ("MÜNCHEN.de", "xn--mnchen-3ya.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("a_b.example.com", "a_b.example.com"),
        ("api\u3002example\u3002com", "api.example.com"),
    ],
)
def test_names_are_idna_canonical(host: str, canonical: str) -> None:
    assert parse_host(host).host == canonical
    assert parse_host(host).address is None


@pytest.mark.parametrize(
    "url",
    [
        "http://256.1.1.1/",
        "http://1.2.3.4.5/",
        "http://a..b/",
        "http://exa mple.com/",
        "http://example.com\\@evil.com/",
        "http://example.com:99999/",
        "http://example.com:port/",
        "http:///nohost",
        "http://[::zz]/",
        "http://x\x00y/",
        "file://otherhost/etc/passwd",
    ],
)
def test_ambiguous_or_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(UrlError):
        parse_url(url)


def test_names_that_point_inward() -> None:
    assert name_category("localhost") == "loopback"
    assert name_category("x.localhost") == "loopback"
    assert name_category("metadata.google.internal") == "metadata"
    assert name_category("db.internal") == "private"
    assert name_category("example.com") is None


def test_what_a_url_is() -> None:
    assert looks_like_url("https://x")
    assert looks_like_url("file:///etc/passwd")
    assert looks_like_url("file:/etc/passwd")
    assert not looks_like_url("mailto:a@b.c")
    assert not looks_like_url("C:/windows")
    assert not looks_like_url("just text")
    info = parse_url("file:///etc/pass%77d")
    assert info.scheme == "file" and info.path == "/etc/passwd" and info.host is None
    assert parse_url("https://x.example").port == 443
