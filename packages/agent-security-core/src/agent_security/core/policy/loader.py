"""Loading policy bundles from files, JSON/YAML text, dicts or models, with bounded resources.

Every way in goes through the same steps:

1. read at most 1 MiB (file or text; a dict source is copied and its JSON size is checked);
2. parse (JSON: duplicate keys, ``NaN`` and ``Infinity`` are errors; YAML, through libyaml when PyYAML
   has it (:mod:`.yaml_reader`): the JSON data model only, where aliases, duplicate keys and tags other
   than the JSON types are errors, timestamps stay strings and only ``true``/``false`` are booleans, so
   ``country: NO`` stays the string ``"NO"``);
3. check the nesting depth (at most 20 levels, iteratively: no recursion, so a 200,000-element array
   or a 100,000-level nesting gives a clean error) and that every value is plain JSON (parsed text in
   place; a mapping or model given by the caller is copied);
4. validate into frozen models (unknown keys, duplicate rule ids, unknown trust levels and operators,
   uncompilable regular expressions, more than 1000 rules: each error names the rule id and the field);
5. verify signatures when keys or a secret are given;
6. refuse a bundle that has already expired, or whose ``generated_at`` is more than
   :data:`MAX_CLOCK_SKEW` (5 minutes) in the future, unless ``allow_expired`` (for inspection and lint).

Nothing the caller passed in is kept: the result shares no mutable object with the source.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agent_security.core.arguments import strict_json_loads
from agent_security.core.errors import ConfigurationError, PolicyLoadError
from agent_security.core.files import UnreadableFile, read_bounded
from agent_security.core.policy.conditions import ConditionError
from agent_security.core.policy.limits import MAX_DEPTH, MAX_NODES
from agent_security.core.policy.models import MAX_RULES, LocatedError, PolicyBundle, close_key, known_keys

if TYPE_CHECKING:
    from agent_security.core.policy.signing import PublicKeySource

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_CLOCK_SKEW",
    "MAX_DEPTH",
    "PolicySource",
    "load_policy",
    "load_policy_file",
    "load_policy_json",
    "load_policy_yaml",
    "parse_policy_text",
]

MAX_BUNDLE_BYTES = 1024 * 1024
MAX_CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a bundle's ``generated_at`` may be when it is loaded."""

PolicySource = PolicyBundle | Mapping[str, Any] | str | bytes | os.PathLike[str]


# ----------------------------------------------------------------------------------------------------
# Parsing


def _parse_json(text: str, where: str, what: str = "PolicyBundle") -> Any:
    try:
        return strict_json_loads(text)
    except RecursionError:
        raise PolicyLoadError(f"{what} JSON exceeds maximum object depth of {MAX_DEPTH}", source=where) from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise PolicyLoadError(f"{what} JSON parse error: {exc}", source=where) from None


def _parse_yaml(text: str, where: str, what: str = "PolicyBundle") -> Any:
    # PyYAML is imported when a YAML document is read: a JSON policy, the common case, never needs it.
    from agent_security.core.policy.yaml_reader import read_yaml

    return read_yaml(text, source=where, what=what, max_depth=MAX_DEPTH, max_nodes=MAX_NODES)


def _check_parsed(value: Any, where: str, what: str) -> None:
    """Depth, value count and finite numbers of freshly parsed JSON (whose types are JSON already), in
    place: the parser's output is ours, so it needs no copy."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PolicyLoadError(f"{what} exceeds maximum object depth of {MAX_DEPTH}", source=where)
        nodes += len(node)
        if nodes > MAX_NODES:
            raise PolicyLoadError(f"{what} has more than {MAX_NODES} values", source=where)
        for child in node.values() if type(node) is dict else node:
            kind = type(child)
            if kind is dict or kind is list:
                if child:
                    stack.append((child, depth + 1))
            elif kind is float and not math.isfinite(child):
                raise PolicyLoadError(f"{what} contains a non-finite number", source=where)


def _json_copy(value: Any, where: str, what: str = "PolicyBundle") -> Any:
    """A deep copy of JSON-like data, checked iteratively for depth, node count and value types."""
    if not isinstance(value, Mapping):
        raise PolicyLoadError(f"{what} must be a non-null object", source=where)
    root: dict[str, Any] = {}
    stack: list[tuple[Any, Any, int]] = [(value, root, 1)]
    nodes = 0
    while stack:
        src, dst, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PolicyLoadError(f"{what} exceeds maximum object depth of {MAX_DEPTH}", source=where)
        items: Iterable[tuple[Any, Any]] = src.items() if isinstance(src, Mapping) else enumerate(src)
        for key, child in items:
            nodes += 1
            if nodes > MAX_NODES:
                raise PolicyLoadError(f"{what} has more than {MAX_NODES} values", source=where)
            if isinstance(src, Mapping) and not isinstance(key, str):
                raise PolicyLoadError(f"{what} object keys must be strings, got {type(key).__name__}", source=where)
            if isinstance(child, Mapping):
                copy: Any = {}
                stack.append((child, copy, depth + 1))
            elif isinstance(child, list | tuple):
                copy = [None] * len(child)
                stack.append((child, copy, depth + 1))
            elif child is None or isinstance(child, str | bool | int):
                copy = child
            elif isinstance(child, float):
                if not math.isfinite(child):
                    raise PolicyLoadError(f"{what} contains a non-finite number", source=where)
                copy = child
            else:
                raise PolicyLoadError(
                    f"{what} contains a value of type {type(child).__name__}, which is not JSON", source=where
                )
            dst[key] = copy
    return root


def parse_policy_text(
    text: str | bytes,
    *,
    fmt: str = "json",
    source: str = "<string>",
    what: str = "PolicyBundle",
    max_bytes: int = MAX_BUNDLE_BYTES,
) -> dict[str, Any]:
    """Parse bundle text (``fmt`` ``"json"`` or ``"yaml"``) into checked plain JSON data.

    Also used for policy test-case files (``what`` names the document in error messages)."""
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            raise PolicyLoadError(f"{what} exceeds maximum allowed size of {max_bytes} bytes", source=source)
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PolicyLoadError(f"{what} is not valid UTF-8", source=source) from None
    elif len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise PolicyLoadError(f"{what} exceeds maximum allowed size of {max_bytes} bytes", source=source)
    if fmt == "yaml":  # checked while it is built
        data = _parse_yaml(text, source, what)
    else:
        data = _parse_json(text, source, what)
        if isinstance(data, dict):
            _check_parsed(data, source, what)
    if data is None or not isinstance(data, dict):
        raise PolicyLoadError(f"{what} must be a non-null object", source=source)
    return data


def _read_file(path: Path, max_bytes: int = MAX_BUNDLE_BYTES) -> bytes:
    where = str(path)
    try:
        return read_bounded(path, max_bytes, what="policy file")
    except FileNotFoundError:
        raise PolicyLoadError(f"File not found: {where!r}", source=where) from None
    except UnreadableFile as exc:
        if exc.too_large:
            raise PolicyLoadError(
                f"File {where!r} exceeds maximum allowed size of {max_bytes} bytes", source=where
            ) from None
        raise PolicyLoadError(f"Path {where!r} is not a regular file", source=where) from None
    except OSError as exc:
        raise PolicyLoadError(f"Cannot open {where!r}: {exc.strerror or exc}", source=where) from None


# ----------------------------------------------------------------------------------------------------
# Validation


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(data, Mapping) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _suggestion(loc: tuple[Any, ...], data: Mapping[str, Any]) -> str | None:
    """For an unknown key at ``loc``, the known key of that place it most likely misspells (among those
    not already given there)."""
    keys = known_keys(loc[:-1])
    if keys is None:
        return None
    given = _at(data, loc[:-1])
    present = set(given) if isinstance(given, Mapping) else set()
    return close_key(str(loc[-1]), [k for k in keys if k not in present])


def _describe(exc: ValidationError, data: Mapping[str, Any], where: str) -> PolicyLoadError:
    errors = exc.errors()
    # an unknown key first: a misspelt required key (tool_nam) also makes the right one "missing"
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    cause = ctx.get("error")
    rule_id: str | None = None
    rule_index: int | None = None
    field_parts: tuple[Any, ...] = loc
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rule_index = loc[1]
        field_parts = loc[2:]
        rules = data.get("rules")
        if isinstance(rules, list) and rule_index < len(rules) and isinstance(rules[rule_index], Mapping):
            raw_id = rules[rule_index].get("id")
            if isinstance(raw_id, str) and raw_id:
                rule_id = raw_id
    field = ".".join(str(p) for p in field_parts) or None
    kind = err["type"]
    if isinstance(cause, LocatedError):
        message = str(cause)
        rule_id = cause.rule_id or rule_id
        field = cause.field or field
    elif isinstance(cause, ConditionError):
        message = str(cause)
        field = f"{field}.{cause.subpath}" if field else cause.subpath
    elif kind == "missing":
        message = "missing required field"
    elif kind == "extra_forbidden":
        message = f"unknown key {str(loc[-1])!r}"
        suggestion = _suggestion(loc, data)
        if suggestion is not None:
            message += f" (did you mean {suggestion!r}?)"
            # the required key it misspells is reported missing: the same problem, counted once
            errors = [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) == (*loc[:-1], suggestion))]
    elif kind == "model_type" or kind == "model_attributes_type":
        message = "must be an object"
    else:
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
    if rule_id is not None:
        prefix = f'Rule "{rule_id}"'
    elif rule_index is not None:
        prefix = f"Rule at index {rule_index}"
    else:
        prefix = "PolicyBundle"
    text = f"{prefix}: {field}: {message}" if field else f"{prefix}: {message}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    if where not in ("<string>", "<dict>", "<bundle>"):
        text = f"{where}: {text}"
    return PolicyLoadError(text, rule_id=rule_id, field=field, source=where)


def _validate(data: dict[str, Any], where: str) -> PolicyBundle:
    rules = data.get("rules")
    if "rules" in data and not isinstance(rules, list):
        raise PolicyLoadError("PolicyBundle 'rules' must be an array", field="rules", source=where)
    if isinstance(rules, list) and len(rules) > MAX_RULES:
        raise PolicyLoadError(
            f"PolicyBundle exceeds maximum rule count of {MAX_RULES} (actual: {len(rules)})",
            field="rules",
            source=where,
        )
    try:
        return PolicyBundle.model_validate(data)
    except ValidationError as exc:
        raise _describe(exc, data, where) from None


def _finish(
    bundle: PolicyBundle,
    where: str,
    *,
    trusted_keys: Iterable[PublicKeySource] | None,
    hmac_secret: str | bytes | None,
    allow_expired: bool,
    now: datetime | None,
) -> PolicyBundle:
    if trusted_keys is not None:
        keys = [trusted_keys] if isinstance(trusted_keys, str | bytes | os.PathLike) else list(trusted_keys)
        if not keys:  # e.g. a key list read from somewhere that came back empty: never a silent skip
            raise ConfigurationError(
                "trusted_keys is an empty list, so no signature could be verified; give at least one key, "
                "or pass None to load without signature checks"
            )
        from agent_security.core.policy.signing import verify_bundle

        verify_bundle(bundle, keys)
    if hmac_secret is not None:  # an empty secret is an error, never a silent skip
        from agent_security.core.policy.signing import verify_hmac_signature

        verify_hmac_signature(bundle, hmac_secret)
    prefix = "" if where in ("<string>", "<dict>", "<bundle>") else f"{where}: "
    if not allow_expired and bundle.is_expired(now):
        raise PolicyLoadError(f"{prefix}PolicyBundle expired at {bundle.expires_at}", field="expires_at", source=where)
    current = now or datetime.now(UTC)
    if current.tzinfo is None:
        current = current.replace(tzinfo=UTC)
    if not allow_expired and bundle.generated_at_dt > current + MAX_CLOCK_SKEW:
        raise PolicyLoadError(
            f"{prefix}PolicyBundle generated_at {bundle.generated_at} is in the future (more than "
            f"{int(MAX_CLOCK_SKEW.total_seconds()) // 60} minutes ahead of the clock, {current.isoformat()}); "
            "a bundle dated ahead would block every later, genuinely newer bundle from being reloaded",
            field="generated_at",
            source=where,
        )
    return bundle


def _looks_like_json_text(source: str) -> bool:
    return source.lstrip()[:1] in ("{", "[")


def load_policy(
    source: PolicySource,
    *,
    trusted_keys: Iterable[PublicKeySource] | None = None,
    hmac_secret: str | bytes | None = None,
    allow_expired: bool = False,
    now: datetime | None = None,
) -> PolicyBundle:
    """Load and validate a policy bundle.

    ``source``: a path (``str`` or path-like; ``.yaml``/``.yml`` are YAML, anything else JSON), JSON
    text (a ``str`` starting with ``{``, or ``bytes``), a mapping, or a :class:`PolicyBundle` (re-checked
    and copied).

    ``trusted_keys``: Ed25519 public keys (objects, PEM, or PEM file paths); the bundle must carry a valid
    signature by one of them (an empty list is a :class:`~agent_security.core.errors.ConfigurationError`;
    ``None`` means no signature check). ``hmac_secret``: when given, the HMAC ``signature``
    must verify. ``allow_expired``: load a bundle whose ``expires_at`` has passed (for lint and
    inspection; the engine still denies with ``POLICY_EXPIRED``), and one whose ``generated_at`` is more
    than :data:`MAX_CLOCK_SKEW` in the future (otherwise an error). ``now``: the clock for these checks
    (default: the current time).

    Raises :class:`~agent_security.core.errors.PolicyLoadError` (with ``rule_id`` and ``field`` where
    they apply) or :class:`~agent_security.core.errors.PolicySignatureError`.
    """
    options: dict[str, Any] = {
        "trusted_keys": trusted_keys,
        "hmac_secret": hmac_secret,
        "allow_expired": allow_expired,
        "now": now,
    }
    if isinstance(source, PolicyBundle):
        data = _json_copy(source.to_data(), "<bundle>")
        return _finish(_validate(data, "<bundle>"), "<bundle>", **options)
    if isinstance(source, Mapping):
        data = _json_copy(source, "<dict>")
        size = len(json.dumps(data, ensure_ascii=False).encode("utf-8"))
        if size > MAX_BUNDLE_BYTES:
            raise PolicyLoadError(
                f"PolicyBundle exceeds maximum allowed size of {MAX_BUNDLE_BYTES} bytes", source="<dict>"
            )
        return _finish(_validate(data, "<dict>"), "<dict>", **options)
    if isinstance(source, bytes):
        return load_policy_json(source, **options)
    if isinstance(source, str) and _looks_like_json_text(source):
        return load_policy_json(source, **options)
    if isinstance(source, str | os.PathLike):
        return load_policy_file(source, **options)
    raise TypeError(
        f"cannot load a policy from {type(source).__name__}; expected a path, JSON text, a mapping or a PolicyBundle"
    )


def load_policy_file(
    path: str | os.PathLike[str],
    *,
    trusted_keys: Iterable[PublicKeySource] | None = None,
    hmac_secret: str | bytes | None = None,
    allow_expired: bool = False,
    now: datetime | None = None,
) -> PolicyBundle:
    """Load a bundle from a ``.json``, ``.yaml`` or ``.yml`` file (at most 1 MiB). See :func:`load_policy`."""
    file = Path(path)
    where = str(file)
    fmt = "yaml" if file.suffix.lower() in (".yaml", ".yml") else "json"
    raw = _read_file(file)
    try:
        data = parse_policy_text(raw, fmt=fmt, source=where)
    except PolicyLoadError as exc:
        raise PolicyLoadError(f"{where}: {exc}", rule_id=exc.rule_id, field=exc.field, source=where) from None
    return _finish(
        _validate(data, where),
        where,
        trusted_keys=trusted_keys,
        hmac_secret=hmac_secret,
        allow_expired=allow_expired,
        now=now,
    )


def load_policy_json(
    text: str | bytes,
    *,
    trusted_keys: Iterable[PublicKeySource] | None = None,
    hmac_secret: str | bytes | None = None,
    allow_expired: bool = False,
    now: datetime | None = None,
) -> PolicyBundle:
    """Load a bundle from JSON text. See :func:`load_policy`."""
    data = parse_policy_text(text, fmt="json")
    return _finish(
        _validate(data, "<string>"),
        "<string>",
        trusted_keys=trusted_keys,
        hmac_secret=hmac_secret,
        allow_expired=allow_expired,
        now=now,
    )


def load_policy_yaml(
    text: str | bytes,
    *,
    trusted_keys: Iterable[PublicKeySource] | None = None,
    hmac_secret: str | bytes | None = None,
    allow_expired: bool = False,
    now: datetime | None = None,
) -> PolicyBundle:
    """Load a bundle from YAML text. See :func:`load_policy`."""
    data = parse_policy_text(text, fmt="yaml")
    return _finish(
        _validate(data, "<string>"),
        "<string>",
        trusted_keys=trusted_keys,
        hmac_secret=hmac_secret,
        allow_expired=allow_expired,
        now=now,
    )
