"""Registry files: YAML or JSON documents, read within bounds, written atomically.

A registry file holds agents and tools::

    version: 1
    agents:
      - agent_id: finance-bot
        trust_level: privileged
        roles: [finance.reader, finance.writer]
    tools:
      - tool_name: trigger_payment
        version: "1.0.0"
        manifest_hash: "sha256:..."

Files are read with the core's bounded reader (regular files only, at most :data:`MAX_REGISTRY_BYTES`)
and the core's JSON-like YAML reader (no aliases, no tags, bounded depth and size), so a hostile file
cannot expand, execute or exhaust anything. A file ending in ``.json`` is read as JSON, anything else
as YAML (JSON is YAML too). Writes go to a temporary file in the same folder, then replace the target.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from agent_security.core.errors import AgentSecurityError
from agent_security.core.files import UnreadableFile, read_bounded
from agent_security.identity.errors import RegistryError, RegistryFileError

__all__ = [
    "DOCUMENT_VERSION",
    "MAX_RECORDS",
    "MAX_REGISTRY_BYTES",
    "read_document",
    "register_records",
    "write_document",
]

R = TypeVar("R", bound=BaseModel)


def register_records(
    register: Callable[[R], Any],
    model: type[R],
    items: Iterable[Mapping[str, Any]],
    *,
    what: str,
    source: str,
    skip_revoked: bool,
) -> int:
    """Validate every record of ``items`` as ``model`` first (a bad record registers nothing), then
    ``register`` each; a revoked id stays revoked whatever a file says (``skip_revoked``: skipped, else
    the registry's error). Returns how many were registered."""
    try:
        records = [model.model_validate(item) for item in items]
    except ValidationError as exc:
        raise RegistryFileError(f"{source}: invalid {what} record: {exc.errors()[0]}") from exc
    count = 0
    for record in records:
        try:
            register(record)
        except RegistryError:
            if not skip_revoked:
                raise
            continue
        count += 1
    return count


DOCUMENT_VERSION = 1
MAX_REGISTRY_BYTES = 32 * 1024 * 1024
MAX_RECORDS = 200_000
"""Most agents (or tools) one file may hold."""


def read_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The mapping a registry file holds; :class:`RegistryFileError` for anything else."""
    where = os.fspath(path)
    try:
        raw = read_bounded(path, MAX_REGISTRY_BYTES, what="registry file")
        text = raw.decode("utf-8")
    except (UnreadableFile, OSError, UnicodeDecodeError) as exc:
        raise RegistryFileError(f"registry file {where} cannot be read: {exc}") from exc
    try:
        if where.endswith(".json"):
            data = json.loads(text)
        else:
            from agent_security.core.policy.yaml_reader import read_yaml

            data = read_yaml(text, source=where, what="registry file", max_nodes=5_000_000)
    except (ValueError, RecursionError, AgentSecurityError) as exc:
        raise RegistryFileError(f"registry file {where} cannot be parsed: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise RegistryFileError(f"registry file {where} must hold a mapping with 'agents' and/or 'tools'")
    unknown = set(data) - {"version", "agents", "tools"}
    if unknown:
        raise RegistryFileError(f"registry file {where} has unknown keys: {sorted(unknown)}")
    if data.get("version", DOCUMENT_VERSION) != DOCUMENT_VERSION:
        raise RegistryFileError(f"registry file {where} has version {data.get('version')!r}; expected 1")
    for part in ("agents", "tools"):
        items = data.get(part, [])
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise RegistryFileError(f"registry file {where}: '{part}' must be a list of mappings")
        if len(items) > MAX_RECORDS:
            raise RegistryFileError(f"registry file {where}: more than {MAX_RECORDS} {part}")
    return dict(data)


def write_document(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically (JSON for ``.json``, else YAML)."""
    target = Path(path)
    if target.suffix == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
