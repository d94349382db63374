"""``agent_security.core.entry_points``: the entry points importlib.metadata gives, read without it, or
``None`` (and then importlib.metadata decides) wherever the two could differ."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from agent_security.core import entry_points


def _reference(group: str) -> list[tuple[str, str, str | None, str | None]]:
    return sorted(
        (e.name, e.value, e.dist.name if e.dist else None, e.dist.version if e.dist else None)
        for e in metadata.entry_points(group=group)
    )


def _fast(group: str) -> list[tuple[str, str, str | None, str | None]] | None:
    found = entry_points.find(group)
    return None if found is None else sorted((e.name, e.value, e.dist_name, e.version) for e in found)


@pytest.mark.parametrize("group", ["agent_security", "console_scripts", "pytest11", "pydantic"])
def test_this_environment_reads_as_importlib_metadata_reads_it(group: str) -> None:
    fast = _fast(group)
    if fast is None:
        pytest.skip("this environment is not one the direct reader handles (importlib.metadata is used)")
    assert fast == _reference(group)


def _dist(site: Path, folder: str, metadata_text: str | None, eps: str | None) -> None:
    d = site / folder
    d.mkdir(parents=True)
    if metadata_text is not None:
        (d / "METADATA").write_text(metadata_text, encoding="utf-8")
    if eps is not None:
        (d / "entry_points.txt").write_text(eps, encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ``sys.path`` of two folders (the second shadowed by the first for one name)."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.setattr(sys, "path", [str(first), str(second), str(tmp_path / "missing")])
    return tmp_path


def test_a_crafted_path_reads_as_importlib_metadata_reads_it(site: Path) -> None:
    _dist(
        site / "first",
        "Acme.Kit-1.2.dist-info",
        "Metadata-Version: 2.1\nName: Acme.Kit\nVersion: 1.2 \nSummary: x\n\nbody: Name: no\n",
        "# comment\nignored = before.any:group\n[agent_security]\n  kit = acme.kit.plugin \n[other]\nx = y\n",
    )
    _dist(site / "second", "acme_kit-9.0.dist-info", "Name: acme-kit\nVersion: 9.0\n", "[agent_security]\nold = a\n")
    _dist(site / "second", "plain-1.0.dist-info", "Name: plain\nVersion: 1.0", "[agent_security]\np=plain:a.b\n")
    _dist(site / "second", "crlf-1.0.dist-info", "Name: crlf\r\nVersion: 1.0\r\n\r\n", "[agent_security]\r\nc = c\r\n")
    _dist(site / "second", "noeps-1.0.dist-info", "Name: noeps\nVersion: 1.0\n", None)
    fast = _fast("agent_security")
    assert fast is not None
    assert fast == _reference("agent_security")
    assert [name for name, *_ in fast] == ["c", "kit", "p"]  # the first acme-kit on the path wins
    assert entry_points.declares("other") is True
    assert entry_points.declares("pydantic") is False


@pytest.mark.parametrize(
    ("folder", "meta", "eps"),
    [
        ("folded-1.0.dist-info", "Name: folded\n  more\nVersion: 1.0\n", "[agent_security]\nf = f\n"),
        ("nometa-1.0.dist-info", None, "[agent_security]\nf = f\n"),
        ("empty-1.0.dist-info", "", "[agent_security]\nf = f\n"),
        ("vt-1.0.dist-info", "Name: vt\x0bx\nVersion: 1.0\n", "[agent_security]\nf = f\n"),
        ("bad-1.0.dist-info", "Name: bad\nVersion: 1.0\n", "[agent_security]\nno equals sign\n"),
        ("legacy-1.0.egg-info", "Name: legacy\nVersion: 1.0\n", "[agent_security]\nf = f\n"),
        ("Upper-1.0.DIST-INFO", "Name: upper\nVersion: 1.0\n", "[agent_security]\nf = f\n"),
    ],
)
def test_anything_it_might_read_differently_goes_to_importlib_metadata(
    site: Path, folder: str, meta: str | None, eps: str
) -> None:
    _dist(site / "first", folder, meta, eps)
    assert entry_points.find("agent_security") is None


def test_a_zip_on_the_path_goes_to_importlib_metadata(site: Path) -> None:
    archive = site / "lib.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    sys.path.append(str(archive))
    assert entry_points.find("agent_security") is None


def test_another_distribution_finder_goes_to_importlib_metadata(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Finder:
        @staticmethod
        def find_distributions(context: object = None) -> list[object]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert entry_points.find("agent_security") is None


def test_load_resolves_module_and_attributes_as_importlib_metadata_does() -> None:
    ep = entry_points.FoundEntryPoint("x", "agent_security.core.entry_points:FoundEntryPoint.load", "g", None, None)
    assert ep.load() is entry_points.FoundEntryPoint.load
    module = entry_points.FoundEntryPoint("x", "agent_security.core.entry_points", "g", None, None)
    assert module.load() is entry_points
    with pytest.raises(ValueError, match="malformed"):
        entry_points.FoundEntryPoint("x", "not a value!", "g", None, None).load()


def test_discovery_uses_the_direct_reader_and_records_the_same_plugins() -> None:
    """A default install's discovery reads the entry points directly and records what importlib.metadata
    would have given (names, targets, distributions, versions)."""
    from agent_security.core import plugins
    from agent_security.core.pipeline.hooks import new_plugin_manager

    if entry_points.find(plugins.ENTRY_POINT_GROUP) is None:
        pytest.skip("this environment is not one the direct reader handles")
    records = plugins.load_entry_points(new_plugin_manager())
    got = sorted((r.name, r.value, r.distribution, r.version) for r in records)
    assert got == _reference(plugins.ENTRY_POINT_GROUP)
    from agent_security.core.config import FAMILY

    assert {r.status for r in records if r.distribution in FAMILY} == {"loaded"}
