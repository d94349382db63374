"""AgentRegistry and ToolRegistry: canonical keys, frozen records, revocation, files, shared state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_security.core import MemoryStore, TrustLevel
from agent_security.identity import AgentRegistry, RegistryError, RegistryFileError, ToolRegistry, compute_hash


def test_ids_are_keyed_canonically_and_records_are_frozen() -> None:
    reg = AgentRegistry()
    rec = reg.register(agent_id="Agent-7", trust_level="verified", roles=["ops"])
    assert rec.agent_id == "agent-7"
    for spelling in ("agent-7", "AGENT-7", " agent-7 ", "agent\u200b-7", "\uff41gent-7"):
        assert reg.lookup(spelling) == rec
    with pytest.raises(ValueError):
        rec.roles += ("admin",)  # type: ignore[misc]
    assert reg.lookup("agent-7").roles == ("ops",)  # type: ignore[union-attr]


def test_confusable_spelling_is_found_as_a_lookalike_not_an_agent() -> None:
    reg = AgentRegistry()
    reg.register(agent_id="agent-7")
    assert reg.lookup("\u0430gent-7") is None  # Cyrillic a
    assert reg.confusable_with("\u0430gent-7") == "agent-7"
    assert reg.confusable_with("\u0391GENT-7") == "agent-7"  # Greek capital alpha
    assert reg.confusable_with("agent-7") is None  # the registered id itself
    assert reg.confusable_with("agent-8") is None


def test_revocation_is_permanent_until_restored() -> None:
    reg = AgentRegistry()
    reg.register(agent_id="bot")
    assert reg.revoke("bot", "compromised") and reg.is_revoked("BOT")
    assert reg.lookup("bot") is None and reg.get("bot").revoked_reason == "compromised"  # type: ignore[union-attr]
    with pytest.raises(RegistryError, match="revoked"):
        reg.register(agent_id="Bot")
    assert not reg.remove("bot")
    assert reg.restore("bot") and reg.lookup("bot") is not None
    assert not reg.revoke("nobody")


def test_update_cannot_raise_trust_silently() -> None:
    reg = AgentRegistry()
    reg.register(agent_id="bot", trust_level="basic")
    with pytest.raises(RegistryError, match="allow_trust_increase"):
        reg.update("bot", trust_level="system")
    assert reg.update("bot", roles=["r"]).roles == ("r",)
    assert reg.update("bot", trust_level="verified", allow_trust_increase=True).trust_level is TrustLevel.VERIFIED
    assert reg.update("bot", trust_level="untrusted").trust_level is TrustLevel.UNTRUSTED
    with pytest.raises(RegistryError, match="not found"):
        reg.update("ghost", roles=[])


def test_two_registries_on_one_store_share_state() -> None:
    store = MemoryStore()
    a, b = AgentRegistry(store=store, refresh_s=0), AgentRegistry(store=store, refresh_s=0)
    a.register(agent_id="bot", trust_level="privileged")
    assert b.lookup("bot").trust_level is TrustLevel.PRIVILEGED  # type: ignore[union-attr]
    b.revoke("bot")
    assert a.lookup("bot") is None


def test_cache_is_refreshed_through_the_version_key_only() -> None:
    store = MemoryStore()
    a = AgentRegistry(store=store, refresh_s=3600)
    b = AgentRegistry(store=store, refresh_s=0)
    assert a.lookup("bot") is None  # snapshot taken
    b.register(agent_id="bot")
    assert a.lookup("bot") is None  # within refresh_s: the snapshot stands (documented staleness)
    a._table._checked_at = -float("inf")  # the refresh interval has passed
    assert a.lookup("bot") is not None


def test_the_snapshot_is_the_same_object_while_the_records_are_the_same() -> None:
    """The enforcer reuses its conclusions while the registries hand back the same snapshot: reading a
    store again (one nobody wrote a version to is read on every refresh) keeps it when nothing changed,
    and any change gives a new one, seen by every registry on the store."""
    store = MemoryStore()
    a, b = AgentRegistry(store=store, refresh_s=0), ToolRegistry(store=store, refresh_s=0)
    first, tools = a.snapshot(), b.snapshot()
    assert a.snapshot() is first and b.snapshot() is tools
    AgentRegistry(store=store, refresh_s=0).register(agent_id="bot")
    second = a.snapshot()
    assert second is not first and "bot" in second
    assert a.snapshot() is second and b.snapshot() is tools
    b.register(tool_name="search")
    assert b.snapshot() is not tools


def test_files_round_trip_in_yaml_and_json(tmp_path: Path) -> None:
    reg, tools = AgentRegistry(), ToolRegistry()
    reg.register(agent_id="a", trust_level="privileged", roles=["x"], environment="prod")
    tools.register(tool_name="Send_Email", manifest_hash=compute_hash("m"), permissions_required="email.send")
    for name in ("r.yaml", "r.json"):
        path = tmp_path / name
        reg.save(path)
        fresh = AgentRegistry()
        assert fresh.load(path) == 1 and fresh.lookup("a") == reg.lookup("a")
    tools.save(tmp_path / "t.json")
    fresh_tools = ToolRegistry()
    assert fresh_tools.load(tmp_path / "t.json") == 1
    record = fresh_tools.lookup("send_email")
    assert record is not None and record.permissions_required == ("email.send",)
    assert fresh_tools.verify_hash("SEND_EMAIL", "m") and not fresh_tools.verify_hash("send_email", "n")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a: &x [1]\nb: *x\n", "alias"),
        ("agents: !!python/object:os.system {}\n", "tag"),
        ("agents: [1, 2]\n", "list of mappings"),
        ("agent: []\n", "unknown keys"),
        ("version: 2\n", "version"),
        ("agents:\n  - agent_id: a\n    trust_level: god\n", "invalid agent record"),
        ("- 1\n", "mapping"),
    ],
)
def test_hostile_or_malformed_files_are_refused(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    reg = AgentRegistry()
    with pytest.raises(RegistryFileError, match=match):
        reg.load(path)
    assert reg.size == 0


def test_a_bad_record_registers_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"agents": [{"agent_id": "ok"}, {"agent_id": "bad", "roles": 5}]}))
    reg = AgentRegistry()
    with pytest.raises(RegistryFileError):
        reg.load(path)
    assert reg.lookup("ok") is None


def test_a_directory_or_huge_file_is_not_read(tmp_path: Path) -> None:
    with pytest.raises(RegistryFileError):
        AgentRegistry().load(tmp_path)


def test_tool_registry_revocation_and_hash_format() -> None:
    tools = ToolRegistry()
    with pytest.raises(ValueError):
        tools.register(tool_name="t", manifest_hash="md5:abc")
    tools.register(tool_name="t", manifest_hash="AB" * 32)
    assert tools.lookup("t").manifest_hash == "sha256:" + "ab" * 32  # type: ignore[union-attr]
    assert tools.revoke("t") and tools.is_revoked("T")
    with pytest.raises(RegistryError):
        tools.register(tool_name="t")


def test_mcp_tools_are_registered_from_a_pin_file(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from agent_security.supply_chain.pinning import McpLock

    lock = McpLock()
    lock.pin(
        "files",
        [{"name": "read_file", "description": "Read a file", "inputSchema": {"type": "object"}}],
        version="1.2.0",
    )
    key = Ed25519PrivateKey.generate()
    lock.save(tmp_path / "mcp-lock.json", private_key=key)
    pub = tmp_path / "pub.pem"
    pub.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    tools = ToolRegistry()
    assert (
        tools.register_mcp_lock(
            tmp_path / "mcp-lock.json", public_key=pub, permissions={"mcp__files__read_file": ["fs.read"]}
        )
        == 1
    )
    rec = tools.lookup("mcp__files__read_file")
    assert rec is not None and rec.provider == "mcp" and rec.version == "1.2.0"
    assert rec.manifest_hash == lock.tool_entry("files", "read_file")["hash"]  # type: ignore[index]
    assert rec.permissions_required == ("fs.read",)
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(RegistryFileError, match="signature"):
        ToolRegistry().register_mcp_lock(tmp_path / "mcp-lock.json", public_key=other)
