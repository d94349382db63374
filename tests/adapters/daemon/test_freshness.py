"""The identity a hook call and a daemon compare: an install or upgrade makes the daemon stale."""

from __future__ import annotations

import os
from pathlib import Path

from agent_security.adapters.daemon.freshness import compare, installed_versions


def test_an_upgrade_on_the_path_makes_a_daemon_stale(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "agent_security_core-0.1.0.dist-info").mkdir(parents=True)
    os.utime(site, ns=(1_000_000_000, 1_000_000_000))
    before = {"python": "py", "env": {}, "config": None, "versions": installed_versions([str(site)])}
    (site / "agent_security_core-0.1.0.dist-info").rename(site / "agent_security_core-0.2.0.dist-info")
    after = {**before, "versions": installed_versions([str(site)])}
    assert compare(before, before, cwd_matters=False, files={}) == ("fresh", "")
    assert compare(before, after, cwd_matters=False, files={})[0] == "changed"


def test_folders_that_do_not_exist_are_left_out(tmp_path: Path) -> None:
    assert installed_versions([str(tmp_path / "missing"), str(tmp_path)]) == {
        str(tmp_path): tmp_path.stat().st_mtime_ns
    }
