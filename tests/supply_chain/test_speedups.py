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
from agent_security.supply_chain._speedups import verdicts
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


def test_a_verdict_over_paths_without_symlinks_is_reused_on_lstat_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual verdict (its paths went through no symlink) is checked again with one ``lstat`` per
    component, not a full resolution; a path that went through a symlink is resolved again in full."""
    gov = CommandGovernor([{"pattern": "ls *", "action": "allow"}], default_action="block")
    (tmp_path / "logs").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "logs")
    direct, linked = f"ls -la {tmp_path}/logs/app/missing", f"ls -la {tmp_path}/via"
    first = gov.check(direct), gov.check(linked)
    asked: list[Any] = []
    real_ask = verdicts._ask

    def ask(question: Any) -> Any:
        asked.append(question)
        return real_ask(question)

    monkeypatch.setattr(verdicts, "_ask", ask)
    assert gov.check(direct) is first[0]
    assert asked == []
    assert gov.check(linked) is first[1]
    assert [q[0] for q in asked] == [f"{tmp_path}/via"]


@pytest.mark.parametrize("component", ["top", "top/mid", "top/mid/leaf", "top/mid/leaf/file"])
@pytest.mark.parametrize("existed", [True, False])
def test_a_symlink_made_at_any_component_after_a_verdict_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, component: str, existed: bool
) -> None:
    """Whichever component of a path (existing or not when the verdict was reached) becomes a symlink
    to a credential location, the next check sees it as a first check would."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("key")
    monkeypatch.setenv("HOME", str(home))
    target = tmp_path / "top" / "mid" / "leaf" / "file"
    replaced = tmp_path / component
    if existed:
        target.parent.mkdir(parents=True)
        target.write_text("x")
    else:
        replaced.parent.mkdir(parents=True, exist_ok=True)
    gov = CommandGovernor([{"pattern": "cat *", "action": "allow"}], default_action="block")
    command = f"cat {target}"
    assert not _sensitive(gov, command)
    assert gov.check(command) is gov.check(command)  # remembered
    if replaced.is_dir():
        for inner in sorted(replaced.rglob("*"), reverse=True):
            inner.unlink() if not inner.is_dir() else inner.rmdir()
        replaced.rmdir()
    elif replaced.exists():
        replaced.unlink()
    pointed = home / ".ssh" if target != replaced else home / ".ssh" / "id_rsa"
    if target != replaced:  # the rest of the path below the link must name the key
        rest = target.relative_to(replaced)
        (home / ".ssh" / rest).parent.mkdir(parents=True, exist_ok=True)
        pointed = home / ".ssh"
    replaced.symlink_to(pointed)
    assert gov.check(command) == CommandGovernor(gov.rules, default_action="block").check(command)
    assert _sensitive(gov, command) == _sensitive(CommandGovernor(gov.rules), command)


_KINDS = st.sampled_from(["missing", "dir", "file", "link-dir", "link-file", "link-missing", "link-loop"])


def _build(base: Path, kinds: list[str]) -> Path:
    """``base/tree/c0/c1/c2`` with each component of the kind given, made as long as the components above
    are directories (below a symlink, the path goes on in ``elsewhere``, made once)."""
    elsewhere = base / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    (elsewhere / "c1").mkdir(exist_ok=True)
    (elsewhere / "f").write_text("x")
    path = base / "tree"
    path.mkdir()
    for i, kind in enumerate(kinds):
        path = path / f"c{i}"
        if any(k != "dir" for k in kinds[:i]):
            continue
        if kind == "dir":
            path.mkdir()
        elif kind == "file":
            path.write_text("x")
        elif kind == "link-dir":
            path.symlink_to(elsewhere)
        elif kind == "link-file":
            path.symlink_to(elsewhere / "f")
        elif kind == "link-missing":
            path.symlink_to(base / "nowhere")
        elif kind == "link-loop":
            path.symlink_to(path)
    return path


def _clear(base: Path) -> None:
    import shutil

    shutil.rmtree(base / "tree")


@given(before=st.lists(_KINDS, min_size=3, max_size=3), after=st.lists(_KINDS, min_size=3, max_size=3))
@settings(max_examples=200, deadline=None)
def test_the_lstat_check_agrees_with_resolving_again(
    tmp_path_factory: pytest.TempPathFactory, before: list[str], after: list[str]
) -> None:
    """Whatever the components were when a path was resolved and whatever they became, the quick check
    of a noted answer says what resolving the path again says: the answer holds or it does not."""
    base = tmp_path_factory.mktemp("tree")
    path = _build(base, before)
    question = (str(path), None, "/root")
    answer = verdicts._ask(question)
    note = (question, answer, verdicts._components_if_direct(question, answer))
    _clear(base)
    _build(base, after)
    assert verdicts._holds(note) == (verdicts._ask(question) == answer)


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
