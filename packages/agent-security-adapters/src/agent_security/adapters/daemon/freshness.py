"""Is a daemon's pipeline the one this hook call would build? The identity both sides compare.

Standard library only (the hook's client computes it on every call, in well under a millisecond).

The **client** describes what an in-process check would load (:func:`client_identity`):

* the *selection*: the interpreter, every ``AGENT_SECURITY_*`` variable plus ``HOME``,
  ``XDG_CONFIG_HOME`` and ``XDG_STATE_HOME`` (they choose the config file and the state store), the config
  file the core's search order picks (:func:`resolve_config`, the same order as
  ``agent_security.core.config.find_config_file``) and the working directory. The selection names the
  daemon (:func:`selection_key`): calls that would load something else never reach this daemon;
* the *content*: the config file's SHA-256 and when each folder on ``sys.path`` last changed (an install,
  upgrade or removal of a distribution changes its folder).

The **daemon** keeps the identity it was built from, plus the digest of every file its pipeline read:
the config file, the policy (``[core] policy_path``) and every other existing file a config value names
(trusted keys, signing keys, plugin files). It re-digests them on every call (:func:`digest_files`).
A different selection (only by hash collision, or a relative path seen from another directory) is
``mismatch``: that caller checks in-process, the daemon stays. Different content, versions or file digests
are ``changed``: the caller checks in-process and the daemon exits, so the next call starts a fresh one.
"""

# os.path on purpose: the hook client must not import pathlib, which costs it milliseconds.
# ruff: noqa: PTH100, PTH109, PTH111, PTH113, PTH116, PTH118, PTH119
from __future__ import annotations

import os
import stat
import sys

from agent_security.adapters.daemon.protocol import dumps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

try:  # hashlib loads OpenSSL: milliseconds a hook call does not have; the builtin SHA-256 is enough here
    from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    from hashlib import sha256

__all__ = [
    "SELECTION_ENV",
    "ConfigUnresolved",
    "client_identity",
    "compare",
    "digest_file",
    "digest_files",
    "installed_versions",
    "resolve_config",
    "selection_key",
]

SELECTION_ENV = ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME")
"""Variables besides ``AGENT_SECURITY_*`` that change what a check loads."""
MAX_DIGESTED = 64 * 1024 * 1024
"""A file bigger than this is identified by size and modification time instead of its content."""
_TRUE = frozenset({"1", "true", "yes", "on"})


class ConfigUnresolved(Exception):
    """The config search would fail (e.g. ``AGENT_SECURITY_CONFIG`` names no file): check in-process,
    where the error is reported as the core reports it."""


def resolve_config(explicit: str | None, env: Mapping[str, str], cwd: str) -> str | None:
    """The config file ``agent_security.core.config.find_config_file`` would pick, as an absolute path."""
    if explicit is not None:
        return _existing(os.path.join(cwd, explicit))
    named = env.get("AGENT_SECURITY_CONFIG")
    if named is not None:
        if not named.strip():
            raise ConfigUnresolved("AGENT_SECURITY_CONFIG is set but empty")
        return _existing(os.path.join(cwd, named))
    if env.get("AGENT_SECURITY_NO_CONFIG", "").strip().lower() in _TRUE:
        return None
    candidates = []
    if env.get("AGENT_SECURITY_CONFIG_SEARCH_CWD", "").strip().lower() in _TRUE:
        names = ("agent-security.toml", "agent-security.yaml", "agent-security.yml")
        candidates += [os.path.join(cwd, n) for n in names]
    xdg = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    candidates += [os.path.join(xdg, "agent-security", n) for n in ("config.toml", "config.yaml")]
    for path in candidates:
        if os.path.isfile(path):
            return os.path.abspath(path)
    return None


def _existing(path: str) -> str:
    if not os.path.isfile(path):
        raise ConfigUnresolved(f"config file {path} not found")
    return os.path.abspath(path)


def digest_file(path: str) -> str:
    """``sha256:<hex>`` of a file's content (``stat:`` size and mtime for a huge one, a listing digest for a
    directory), ``missing`` when it does not exist, ``unreadable`` when it cannot be read."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            entries = sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in os.scandir(path))
            return "dir:" + str(sha256(dumps(entries).encode()).hexdigest())
        if st.st_size > MAX_DIGESTED:
            return f"stat:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
        with open(path, "rb") as f:
            return "sha256:" + str(sha256(f.read(MAX_DIGESTED + 1)).hexdigest())
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "unreadable"


def digest_files(paths: Iterable[str]) -> dict[str, str]:
    return {p: digest_file(p) for p in paths}


def installed_versions(path: Iterable[str] | None = None) -> dict[str, int]:
    """When each folder distributions install into (``site-packages`` / ``dist-packages`` on ``sys.path``)
    last changed (``st_mtime_ns``): installing, upgrading or removing a distribution adds or renames its
    ``.dist-info`` there, which changes the folder's time. A folder that changes for another reason (an
    unrelated install) only costs a fresh daemon. ``path`` (tests) names the folders to look at."""
    found: dict[str, int] = {}
    if path is None:
        path = [e for e in sys.path if os.path.basename(e.rstrip(os.sep)) in ("site-packages", "dist-packages")]
    for entry in path:
        try:
            found[entry] = os.stat(entry or ".").st_mtime_ns
        except OSError:
            continue
    return found


def client_identity(
    config_path: str | None, env: Mapping[str, str] | None = None, cwd: str | None = None
) -> dict[str, Any]:
    """What a hook call in this process would load (see the module documentation)."""
    env = os.environ if env is None else env
    cwd = os.getcwd() if cwd is None else cwd
    config = resolve_config(config_path, env, cwd)
    selected = {k: v for k, v in env.items() if k.startswith("AGENT_SECURITY_") or k in SELECTION_ENV}
    return {
        "python": sys.executable,
        "env": dict(sorted(selected.items())),
        "config": config,
        "cwd": cwd,
        "config_digest": digest_file(config) if config else None,
        "versions": installed_versions(),
    }


def selection_key(identity: Mapping[str, Any]) -> str:
    """The name of the daemon serving ``identity``'s selection (interpreter, variables, config path)."""
    env = identity.get("env")
    selection = [identity.get("python"), sorted(env.items()) if isinstance(env, dict) else env, identity.get("config")]
    return "hook-" + str(sha256(dumps(selection).encode()).hexdigest())[:20]


def compare(
    ours: Mapping[str, Any], theirs: Mapping[str, Any], *, cwd_matters: bool, files: Mapping[str, str]
) -> tuple[str, str]:
    """``("fresh", "")``, ``("mismatch", why)`` or ``("changed", why)`` for a request's identity
    ``theirs`` against the daemon's ``ours``; ``files`` is the daemon's recorded file digests."""
    for field in ("python", "env", "config"):
        if ours.get(field) != theirs.get(field):
            return "mismatch", f"another {field}"
    if cwd_matters and ours.get("cwd") != theirs.get("cwd"):
        return "mismatch", "another working directory (the config names relative paths)"
    if ours.get("versions") != theirs.get("versions"):
        return "changed", "the installed distributions changed"
    if ours.get("config_digest") != theirs.get("config_digest"):
        return "changed", "the config file changed"
    for path, digest in files.items():
        if digest_file(path) != digest:
            return "changed", f"{path} changed"
    return "fresh", ""
