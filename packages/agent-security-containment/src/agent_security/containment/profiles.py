"""A sandbox profile: what one tool may touch (paths, network, environment variables) and the limits its
process runs under.

The original's ``SandboxConfig`` field names are kept (``type``, ``allowed_paths``, ``allowed_env_vars``,
``network_enabled``, ``memory_limit_mb``, ``cpu_limit``, ``timeout_ms``, ``container_image``), so a
profile written for it loads unchanged; what it lacked is added (read versus write paths, denied paths,
URL schemes, hosts, ports and networks, process and file-size limits).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["SandboxProfile", "SandboxType"]

SandboxType = Literal["process", "container", "wasm", "none"]
_MAX_ENTRIES = 256


class SandboxProfile(BaseModel):
    """One tool's sandbox. Paths are absolute (``~`` is the home directory); unset lists mean "not
    checked", an empty list "nothing allowed".

    * ``allowed_paths`` may be read and written, ``read_paths`` only read, ``write_paths`` written (and
      read); ``denied_paths`` never, even inside an allowed one. A path outside every list is a violation
      once any of the three allow lists is set.
    * ``network_enabled = False`` (the default): any URL or host argument is a violation. When enabled,
      the URL's scheme must be in ``allowed_schemes``, its host in ``allowed_hosts`` (``*.example.com``
      matches sub-domains; unset: any public host), its port in ``allowed_ports`` (unset: any), and a
      private, loopback, link-local, metadata or otherwise non-public address is a violation unless it
      lies in ``allowed_networks`` (CIDRs).
    * ``allowed_env_vars``: the environment variable names (``fnmatch`` patterns) an argument may name;
      also the variables :meth:`SandboxManager.run` passes through from the caller's environment.
    * ``timeout_s`` bounds a ``timeout`` argument and the process run; ``memory_limit_mb``,
      ``cpu_limit`` (CPU seconds), ``max_processes`` and ``max_file_size_mb`` bound the process.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    type: SandboxType = "process"
    allowed_paths: tuple[str, ...] | None = Field(default=None, max_length=_MAX_ENTRIES)
    read_paths: tuple[str, ...] | None = Field(default=None, max_length=_MAX_ENTRIES)
    write_paths: tuple[str, ...] | None = Field(default=None, max_length=_MAX_ENTRIES)
    denied_paths: tuple[str, ...] = Field(default=(), max_length=_MAX_ENTRIES)
    workdir: str | None = None
    """The directory relative paths are read against (also the process's working directory)."""
    network_enabled: bool = False
    allowed_schemes: tuple[str, ...] = ("http", "https")
    allowed_hosts: tuple[str, ...] | None = Field(default=None, max_length=_MAX_ENTRIES)
    allowed_ports: tuple[int, ...] | None = Field(default=None, max_length=_MAX_ENTRIES)
    allowed_networks: tuple[str, ...] = Field(default=(), max_length=_MAX_ENTRIES)
    allowed_env_vars: tuple[str, ...] | None = Field(default=None, max_length=_MAX_ENTRIES)
    timeout_s: float = Field(default=30.0, gt=0, le=86_400)
    memory_limit_mb: int | None = Field(default=None, ge=16, le=1_048_576)
    cpu_limit: float | None = Field(default=None, gt=0, le=86_400)
    max_processes: int | None = Field(default=64, ge=1, le=65_536)
    max_file_size_mb: int | None = Field(default=None, ge=1, le=1_048_576)
    max_output_bytes: int = Field(default=1_048_576, ge=1024, le=256 * 1_048_576)
    container_image: str | None = None
    """Kept from the original's profile; :meth:`SandboxManager.run` runs ``process`` profiles only."""

    @model_validator(mode="before")
    @classmethod
    def _original_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and "timeout_ms" in data:
            data = dict(data)
            ms = data.pop("timeout_ms")
            if "timeout_s" in data:
                raise ValueError("give timeout_ms or timeout_s, not both")
            if not isinstance(ms, int | float) or isinstance(ms, bool):
                raise ValueError("timeout_ms must be a number")
            data["timeout_s"] = ms / 1000.0
        return data

    @field_validator("allowed_paths", "read_paths", "write_paths", "denied_paths", "workdir")
    @classmethod
    def _absolute(cls, value: Any) -> Any:
        items = (value,) if isinstance(value, str) else value or ()
        for item in items:
            if not isinstance(item, str) or not (item.startswith(("/", "~/")) or item == "~"):
                raise ValueError(f"{item!r} is not an absolute path")
            if "\x00" in item or len(item) > 4096:
                raise ValueError("a path holds a NUL byte or is too long")
        return value

    @field_validator("allowed_schemes")
    @classmethod
    def _schemes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(s.lower().rstrip(":") for s in value)

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        from agent_security.containment.urls import UrlError, parse_host

        hosts = []
        for pattern in value:
            wildcard = pattern.startswith("*.")
            try:
                host = parse_host(pattern[2:] if wildcard else pattern).host
            except UrlError as exc:
                raise ValueError(f"allowed host {pattern!r}: {exc}") from exc
            hosts.append(("*." if wildcard else "") + host)
        return tuple(hosts)

    @field_validator("allowed_ports")
    @classmethod
    def _ports(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None and any(not 0 < p < 65536 for p in value):
            raise ValueError("ports are 1..65535")
        return value

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise ValueError(f"allowed network {net!r}: {exc}") from exc
        return value

    @property
    def checks_paths(self) -> bool:
        return self.type != "none" and not (
            self.allowed_paths is None and self.read_paths is None and self.write_paths is None
        )

    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(n, strict=False) for n in self.allowed_networks)
