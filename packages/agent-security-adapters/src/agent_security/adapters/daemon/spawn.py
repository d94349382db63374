"""Start a daemon in the background for the next hook calls (the current call is answered in-process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agent_security.adapters.daemon.paths import DaemonPaths, make_private_dir

__all__ = ["start_daemon"]


def start_daemon(paths: DaemonPaths, config_path: str | None) -> bool:
    """Launch ``python -m agent_security.adapters.daemon serve`` detached (its own session, no terminal,
    output to ``<key>.log`` in the private socket directory). Returns whether it was launched; a daemon
    already serving makes the new one exit at once (the lock), so racing hook calls are harmless."""
    command = [sys.executable, "-m", "agent_security.adapters.daemon", "serve"]
    if config_path is not None:
        command += ["--config", str(Path(config_path).absolute())]
    try:
        from agent_security.adapters.hooks.inprocess import child_environ

        make_private_dir(paths.directory)
        log = os.open(paths.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        try:
            subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
                env=child_environ(),
            )
        finally:
            os.close(log)
    except Exception:
        return False
    return True
