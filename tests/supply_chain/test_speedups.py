"""The supply-chain speed code (``agent_security.supply_chain._speedups``) gives the general path's answers:
a remembered verdict is handed back only while the filesystem answers its path questions alike and
``$HOME`` is the same, and the flat-argument shortcut finds what the walk finds (nothing)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.supply_chain import DEFAULT_RULES, CommandGovernor
from agent_security.supply_chain.commands import calls


def _sensitive(gov: CommandGovernor, command: str) -> bool:
    return any(f.startswith("sensitive path") for p in gov.check(command).parts for f in p.features)


def test_a_symlink_made_after_a_verdict_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("key")
    monkeypatch.setenv("HOME", str(home))
    gov = CommandGovernor([{"pattern": "cat *", "action": "allow"}], default_action="block")
    link = tmp_path / "notes.txt"
    link.write_text("hello")
    command = f"cat {link}"
    assert gov.check(command).action == "allow"
    assert gov.check(command) is gov.check(command)  # remembered
    link.unlink()
    link.symlink_to(home / ".ssh" / "id_rsa")
    assert _sensitive(gov, command)
    assert gov.check(command).action != "allow"
    assert gov.check(command) == CommandGovernor(gov.rules, default_action="block").check(command)
    link.unlink()
    link.write_text("hello again")
    assert gov.check(command).action == "allow"


def test_a_cd_through_a_symlink_made_later_is_seen(tmp_path: Path) -> None:
    gov = CommandGovernor([{"pattern": "cat *", "action": "allow"}, {"pattern": "cd *", "action": "allow"}])
    work = tmp_path / "work"
    work.mkdir()
    command = f"cd {work} && cat shadow"
    assert not _sensitive(gov, command)
    work.rmdir()
    work.symlink_to("/etc")
    assert _sensitive(gov, command)
    assert gov.check(command) == CommandGovernor(gov.rules).check(command)


def test_home_is_part_of_what_a_verdict_depends_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gov = CommandGovernor(DEFAULT_RULES, default_action="require_approval")
    monkeypatch.setenv("HOME", str(tmp_path))
    inside = f"cat {tmp_path}/.ssh/id_rsa"
    assert _sensitive(gov, inside)
    monkeypatch.setenv("HOME", "/nonexistent-home")
    assert _sensitive(gov, inside) == _sensitive(CommandGovernor(DEFAULT_RULES), inside)


def test_new_rules_forget_the_verdicts() -> None:
    gov = CommandGovernor([{"pattern": "ls *", "action": "allow"}], default_action="block")
    assert gov.check("ls -la /var/log").action == "allow"
    gov.update_config([{"pattern": "ls *", "action": "block"}], default_action="block")
    assert gov.check("ls -la /var/log").action == "block"


def test_no_command_text_is_kept() -> None:
    gov = CommandGovernor(DEFAULT_RULES)
    gov.check("curl -H 'Authorization: Bearer s3cr3t-t0ken' https://x.example")
    assert "s3cr3t" not in repr(gov._verdicts._known)
    assert os.environ.get("HOME", "") not in {k.decode("latin-1") for k in gov._verdicts._known}


NAMES = st.sampled_from(
    ["path", "query", "limit", "cmd", "command", "Command-Line", "code", "language", "python_code", "x", "argv"]
)
SCALARS = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(NAMES, SCALARS, max_size=2))


@given(
    args=st.dictionaries(NAMES, VALUES, max_size=5),
    code_runner=st.booleans(),
    extra=st.sampled_from([frozenset(), frozenset({"x"})]),
)
@settings(max_examples=300, deadline=None)
def test_the_flat_shortcut_finds_what_the_walk_finds(
    args: dict[str, Any], code_runner: bool, extra: frozenset[str]
) -> None:
    fast = calls.commands_in_args(args, code_runner=code_runner, extra_names=extra)
    with mock.patch.object(calls, "carries_no_command", lambda *a: False):
        walked = calls.commands_in_args(args, code_runner=code_runner, extra_names=extra)
    assert fast == walked
    if calls.carries_no_command(args, calls._LOOKED_AT, extra, calls.arg_key, calls.MAX_VALUES):
        assert fast == ([], False)
