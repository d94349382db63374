"""The one path resolver: each trick that makes a path look like somewhere else is seen through."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_security.core.paths import PathError, is_within, resolve_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/tmp/../etc/passwd", "/etc/passwd"),
        ("//etc//./shadow", "/etc/shadow"),
        ("/proc/self/root/etc/passwd", "/etc/passwd"),
        ("/proc/1234/root/../etc/hosts", "/etc/hosts"),
        ("/proc/thread-self/root/proc/self/root/etc/x", "/etc/x"),
        ("notes.txt", "/work/notes.txt"),
        ("../../../etc/passwd", "/etc/passwd"),
        ("/proc/self/cwd/../secret", "/secret"),
        ("~/.ssh/id_rsa", "/home/agent/.ssh/id_rsa"),
        ("~", "/home/agent"),
    ],
)
def test_text_tricks_resolve_to_the_kernels_path(raw: str, expected: str) -> None:
    resolved = resolve_path(raw, cwd="/work", home="/home/agent", follow_symlinks=False)
    assert resolved.path == expected
    assert not resolved.via_fd


@pytest.mark.parametrize(
    "raw", ["/dev/fd/3", "/dev/stdin", "/proc/self/fd/0", "/proc/42/task/42/fd/9", "/proc/self/root/dev/fd/3"]
)
def test_descriptor_paths_are_flagged(raw: str) -> None:
    assert resolve_path(raw, follow_symlinks=False).via_fd


def test_relative_paths_never_use_this_process_directory() -> None:
    assert resolve_path("x", follow_symlinks=False).path == "/x"
    assert resolve_path("x", cwd="relative/dir", follow_symlinks=False).path == "/x"


def test_symlinks_are_followed(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    target.write_text("s")
    (tmp_path / "innocent").symlink_to(target)
    assert resolve_path(str(tmp_path / "innocent")).path == os.path.realpath(target)
    assert resolve_path(str(tmp_path / "innocent"), follow_symlinks=False).path == str(tmp_path / "innocent")


@pytest.mark.parametrize("raw", ["", "a\x00b", "/" + "a" * 5000])
def test_paths_that_name_no_file_are_errors(raw: str) -> None:
    with pytest.raises(PathError):
        resolve_path(raw)


@pytest.mark.parametrize(
    ("path", "root", "inside"),
    [
        ("/tmp", "/tmp", True),
        ("/tmp/a/b", "/tmp", True),
        ("/tmp/a", "/tmp/", True),
        ("/tmpfoo", "/tmp", False),
        ("/tmp-x/a", "/tmp", False),
        ("/etc", "/", True),
    ],
)
def test_within_compares_whole_components(path: str, root: str, inside: bool) -> None:
    assert is_within(path, root) is inside
