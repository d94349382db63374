"""Checking one tool call's arguments against its :class:`SandboxProfile`.

Paths go through the one resolver the command governor also uses (:mod:`agent_security.core.paths`):
``..``, ``/proc/self/root``, symlinks and ``~`` are read as the kernel would, and containment is by whole
components (``/tmpfoo`` is not in ``/tmp``). A path naming an open file descriptor (``/dev/fd/3``,
``/proc/self/fd/3``) is a violation: its target cannot be known from the text. URLs and hosts go through
:mod:`agent_security.containment.urls`.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent_security.containment.arguments import ArgumentsTooLarge, Found, find_arguments, key_tokens
from agent_security.containment.profiles import SandboxProfile
from agent_security.containment.urls import (
    UrlError,
    address_category,
    looks_like_url,
    name_category,
    parse_host,
    parse_url,
)
from agent_security.core.paths import PathError, is_within, resolve_path

__all__ = ["CompiledProfile", "Violation", "check_arguments", "is_write_call"]

WRITE_VERBS = frozenset(
    {
        "write", "create", "save", "edit", "delete", "remove", "rm", "rmdir", "unlink", "move", "mv", "rename",
        "copy", "cp", "append", "put", "upload", "mkdir", "touch", "patch", "replace", "chmod", "chown",
        "truncate", "overwrite", "update", "modify", "insert", "set", "store", "download", "extract", "unzip",
        "install", "apply", "commit", "push", "format", "str_replace", "multiedit",
    }
)  # fmt: skip
WRITE_KEYS = frozenset({"dest", "destination", "dst", "output", "out", "outfile", "target", "to", "new"})
READ_KEYS = frozenset({"source", "src", "from", "input", "infile", "old"})
_CWD_KEYS = ("cwd", "workdir", "working_directory", "working_dir", "workingDirectory")


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken constraint: a reason ``code``, the argument it is in (``args.files[0]``) and a message."""

    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CompiledProfile:
    """A profile with its roots resolved once (symlinks followed, as the checked paths are)."""

    profile: SandboxProfile
    home: str
    read_roots: tuple[str, ...] | None
    write_roots: tuple[str, ...] | None
    denied_roots: tuple[str, ...]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())

    @classmethod
    def build(cls, profile: SandboxProfile, home: str | None = None) -> CompiledProfile:
        home = home if home is not None else os.environ.get("HOME", "/root")

        def roots(paths: tuple[str, ...] | None) -> tuple[str, ...]:
            out: list[str] = []
            for p in paths or ():
                resolved = resolve_path(p, home=home)
                out.append(resolved.path)
                plain = resolve_path(p, home=home, follow_symlinks=False).path
                if plain != resolved.path:
                    out.append(plain)  # a root given through a symlink: both spellings are the same place
            return tuple(dict.fromkeys(out))

        writable = roots(profile.allowed_paths) + roots(profile.write_paths)
        readable = writable + roots(profile.read_paths)
        any_allow = not (profile.allowed_paths is None and profile.read_paths is None and profile.write_paths is None)
        return cls(
            profile=profile,
            home=home,
            read_roots=readable if any_allow else None,
            write_roots=writable if any_allow else None,
            denied_roots=roots(profile.denied_paths),
            networks=profile.networks(),
        )


def is_write_call(tool_name: str, key: str) -> bool:
    """Whether the path under ``key`` of a call to ``tool_name`` is written: a destination key, or a
    tool whose name says it writes (``write_file``, ``fs.delete``), except for its source keys."""
    keys = set(key_tokens(key))
    if keys & WRITE_KEYS:
        return True
    if keys & READ_KEYS:
        return False
    return bool(set(key_tokens(tool_name)) & WRITE_VERBS) or any(v in tool_name.lower() for v in ("str_replace",))


def _short(text: str) -> str:
    return text if len(text) <= 128 else text[:125] + "..."


def check_arguments(compiled: CompiledProfile, tool_name: str, args: Mapping[str, Any]) -> list[Violation]:
    """Every violation of ``compiled``'s profile in ``args`` (empty: allowed)."""
    profile = compiled.profile
    if profile.type == "none":
        return []
    base = profile.workdir or "/"
    for key in _CWD_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.startswith(("/", "~")):
            base = value if value.startswith("/") else compiled.home + value[1:]
            break
    violations: list[Violation] = []
    try:
        for found in find_arguments(args):
            violation = _check_one(compiled, tool_name, found, base)
            if violation is not None:
                violations.append(violation)
                if len(violations) >= 32:
                    break
    except ArgumentsTooLarge as exc:
        violations.append(Violation("ARGS_UNCHECKABLE", "args", f"Arguments cannot be checked: {exc}"))
    return violations


def _check_one(compiled: CompiledProfile, tool_name: str, found: Found, base: str) -> Violation | None:
    profile = compiled.profile
    if found.kind == "path":
        return _check_path(compiled, found.where, found.value, is_write_call(tool_name, found.key), base)
    if found.kind in ("url", "host"):
        return _check_network(compiled, tool_name, found, base)
    if found.kind == "env":
        allowed = profile.allowed_env_vars
        if allowed is not None and not any(fnmatch.fnmatchcase(found.value, p) for p in allowed):
            return Violation(
                "ENV_NOT_ALLOWED", found.where, f'Environment variable "{_short(found.value)}" not in allowed list'
            )
        return None
    seconds = float(found.value)
    if seconds != seconds or seconds > profile.timeout_s or seconds < 0:
        return Violation(
            "TIMEOUT_NOT_ALLOWED",
            found.where,
            f"Timeout {seconds:g}s at {found.where} is outside the sandbox's limit of {profile.timeout_s:g}s",
        )
    return None


def _check_path(compiled: CompiledProfile, where: str, raw: str, write: bool, base: str) -> Violation | None:
    if compiled.read_roots is None and not compiled.denied_roots:
        return None
    try:
        resolved = resolve_path(raw, cwd=base, home=compiled.home)
    except PathError as exc:
        return Violation("PATH_INVALID", where, f'Path "{_short(raw)}" cannot be checked: {exc}')
    if resolved.via_fd:
        return Violation(
            "PATH_VIA_FD", where, f'Path "{_short(raw)}" names an open file descriptor, whose target is unknown'
        )
    path = resolved.path
    if any(is_within(path, root) for root in compiled.denied_roots):
        return Violation("PATH_DENIED", where, f'Path "{_short(raw)}" ({_short(path)}) is in a denied path')
    roots = compiled.write_roots if write else compiled.read_roots
    if roots is not None and not any(is_within(path, root) for root in roots):
        access = "writable" if write else "allowed"
        return Violation("PATH_NOT_ALLOWED", where, f'Path "{_short(raw)}" ({_short(path)}) not in {access} paths')
    return None


def _check_network(compiled: CompiledProfile, tool_name: str, found: Found, base: str) -> Violation | None:
    profile, where, raw = compiled.profile, found.where, str(found.value)
    if found.kind == "url" and looks_like_url(raw) and raw[:5].lower() == "file:":
        try:
            info = parse_url(raw)
        except UrlError as exc:
            return Violation("URL_INVALID", where, f'URL "{_short(raw)}" cannot be checked: {exc}')
        return _check_path(compiled, where, info.path, is_write_call(tool_name, found.key), base)
    if not profile.network_enabled:
        return Violation("NETWORK_DISABLED", where, f"Network access is disabled in sandbox ({where})")
    try:
        if found.kind == "host":
            host_text, port_text = _split_host_port(raw)
            host, scheme = parse_host(host_text), None
            port = int(port_text) if port_text else None
            if port is not None and not 0 < port < 65536:
                raise UrlError(f"port {port} out of range")
        else:
            info = parse_url(raw if looks_like_url(raw) else "http://" + raw)
            if info.host is None:
                raise UrlError("URL without a host")
            host, scheme, port = info.host, info.scheme, info.port
    except (UrlError, ValueError) as exc:
        return Violation("URL_INVALID", where, f'URL "{_short(raw)}" cannot be checked: {exc}')
    if scheme is not None and scheme not in profile.allowed_schemes:
        return Violation("URL_SCHEME_NOT_ALLOWED", where, f'URL scheme "{scheme}" not allowed ({where})')
    exempt = host.address is not None and any(host.address in net for net in compiled.networks)
    if not exempt:
        category = address_category(host.address) if host.address is not None else name_category(host.host)
        if category is not None:
            return Violation(
                "ADDRESS_NOT_ALLOWED",
                where,
                f'Host "{_short(host.host)}" is a {category} address, not allowed in sandbox ({where})',
            )
    if profile.allowed_hosts is not None and not exempt and not _host_allowed(host.host, profile.allowed_hosts):
        return Violation("HOST_NOT_ALLOWED", where, f'Host "{_short(host.host)}" not in allowed hosts ({where})')
    if profile.allowed_ports is not None and port is not None and port not in profile.allowed_ports:
        return Violation("PORT_NOT_ALLOWED", where, f"Port {port} not in allowed ports ({where})")
    return None


def _split_host_port(raw: str) -> tuple[str, str]:
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    if raw.count(":") == 1:
        host, _, port = raw.partition(":")
        return host, port
    return raw, ""


def _host_allowed(host: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False
