"""Files from outside are read bounded: a FIFO, a device or a symlink to one is refused, never read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_security.core import AgentSecurity, ConfigFileError, PolicyLoadError
from agent_security.core.builtin import kill_switch
from agent_security.core.builtin.kill_switch import load_state_file
from agent_security.core.config import read_config_file
from agent_security.core.files import UnreadableFile, read_bounded

needs_fifo = pytest.mark.skipif(
    not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="needs POSIX FIFOs and /dev/zero"
)


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")  # stat() says 0 bytes; reading never ends
    return {"fifo": fifo, "zero": zero, "dir": tmp_path}


@needs_fifo
@pytest.mark.parametrize("kind", ["fifo", "zero", "dir"])
def test_only_regular_files_are_read(hostile: dict[str, Path], kind: str) -> None:
    with pytest.raises(UnreadableFile, match="not a regular file"):
        read_bounded(hostile[kind], 1024, what="test file")


def test_the_bound_is_on_the_bytes_read(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_bounded(path, 10) == b"x" * 10
    with pytest.raises(UnreadableFile, match="limit is 9") as info:
        read_bounded(path, 9)
    assert info.value.too_large
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "missing", 10)


@needs_fifo
def test_hostile_paths_are_refused_by_every_reader(hostile: dict[str, Path]) -> None:
    for kind in ("fifo", "zero"):
        path = hostile[kind]
        with pytest.raises(UnreadableFile):
            load_state_file(path)
        ks = kill_switch(load_state=lambda p=path: load_state_file(p))  # fails closed: everything killed
        assert ks.load_error is not None and ks.is_globally_killed()
        with pytest.raises(ConfigFileError, match="not a regular file"):
            read_config_file(path)
        with pytest.raises(PolicyLoadError, match="not a regular file"):
            AgentSecurity(policy_path=path, autoload=False)
