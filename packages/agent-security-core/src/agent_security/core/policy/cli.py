"""``agent-security policy ...``: validate, lint, test, keygen, sign and verify policy bundles.

Exit codes: 0 success; 1 failed checks (lint errors, failing test cases, a signature that does not
verify); 2 usage or load errors (bad options, unreadable or invalid files). Every command takes
``--json`` for machine-readable output on stdout.

Secrets are never taken on the command line (where ``ps`` would show them): the HMAC secret comes from
an environment variable (``--hmac-secret-env NAME``) or a file (``--hmac-secret-file PATH``), a key
password from ``--password-env NAME``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
import yaml

from agent_security.core.errors import PolicyError, PolicyLoadError, PolicySignatureError
from agent_security.core.policy.cases import load_cases, run_policy_cases
from agent_security.core.policy.engine import PolicyEngine
from agent_security.core.policy.lint import lint_bundle
from agent_security.core.policy.loader import load_policy_file
from agent_security.core.policy.models import PolicyBundle, parse_timestamp
from agent_security.core.policy.signing import (
    generate_keypair,
    load_private_key,
    sign_bundle,
    sign_bundle_hmac,
    verify_bundle,
    verify_hmac_signature,
)

__all__ = ["policy_group"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=False))
    else:
        click.echo(text)


def _fail(as_json: bool, code: int, message: str, **extra: Any) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"ok": False, "error": message, **extra}, indent=2))
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None


def _hmac_secret(env_name: str | None, file_path: str | None) -> bytes | None:
    if env_name and file_path:
        raise click.UsageError("give --hmac-secret-env or --hmac-secret-file, not both")
    if env_name:
        value = os.environ.get(env_name)
        if not value:
            raise click.UsageError(f"environment variable {env_name} is not set or empty")
        return value.encode("utf-8")
    if file_path:
        try:
            data = Path(file_path).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise click.UsageError(f"cannot read {file_path}: {exc.strerror or exc}") from None
        if not data:
            raise click.UsageError(f"{file_path} is empty")
        return data
    return None


def _load(path: str, as_json: bool, **options: Any) -> PolicyBundle:
    try:
        return load_policy_file(path, **options)
    except PolicyError as exc:
        extra: dict[str, Any] = {}
        if isinstance(exc, PolicyLoadError):
            extra = {"rule_id": exc.rule_id, "field": exc.field}
        _fail(as_json, EXIT_USAGE, str(exc), **extra)


def _summary(bundle: PolicyBundle) -> dict[str, Any]:
    return {
        "version": bundle.version,
        "rules": len(bundle.rules),
        "default": bundle.defaults.outcome.value,
        "generated_at": bundle.generated_at,
        "expires_at": bundle.expires_at,
        "signed_ed25519": [s.key_id for s in bundle.signatures or ()],
        "signed_hmac": bundle.signature is not None,
    }


_json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
_hmac_env_option = click.option(
    "--hmac-secret-env", metavar="NAME", help="Environment variable holding the HMAC secret."
)
_hmac_file_option = click.option(
    "--hmac-secret-file", metavar="PATH", type=click.Path(dir_okay=False), help="File holding the HMAC secret."
)
_key_option = click.option(
    "--trusted-key",
    "trusted_keys",
    multiple=True,
    metavar="PEM",
    type=click.Path(exists=True, dir_okay=False),
    help="Trusted Ed25519 public key (PEM file); repeatable.",
)


@click.group("policy")
def policy_group() -> None:
    """Validate, lint, test, sign and verify policy bundles."""


@policy_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@_key_option
@_hmac_env_option
@_hmac_file_option
@click.option("--allow-expired", is_flag=True, help="Accept a bundle whose expires_at has passed.")
@click.option("--now", metavar="ISO", help="Clock for the expiry check (default: now).")
@_json_option
def validate_cmd(
    file: str,
    trusted_keys: tuple[str, ...],
    hmac_secret_env: str | None,
    hmac_secret_file: str | None,
    allow_expired: bool,
    now: str | None,
    as_json: bool,
) -> None:
    """Load FILE as the engine would; exit 0 if it is valid, 2 if not."""
    secret = _hmac_secret(hmac_secret_env, hmac_secret_file)
    bundle = _load(
        file,
        as_json,
        trusted_keys=list(trusted_keys) or None,
        hmac_secret=secret,
        allow_expired=allow_expired,
        now=_parse_now(now),
    )
    info = _summary(bundle)
    _emit(
        as_json,
        {"ok": True, "file": file, **info},
        f"OK {file}: version {info['version']}, {info['rules']} rules, default {info['default']}, "
        f"expires {info['expires_at']}",
    )


@policy_group.command("lint")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--now", metavar="ISO", help="Clock for the expiry checks (default: now).")
@_json_option
def lint_cmd(file: str, strict: bool, now: str | None, as_json: bool) -> None:
    """Report shadowed and unreachable rules, conditions that can never hold, broad ALLOW rules ahead
    of restrictive ones, and other risks. Exit 1 on errors (or warnings with --strict)."""
    clock = _parse_now(now)
    bundle = _load(file, as_json, allow_expired=True, now=clock)
    report = lint_bundle(bundle, now=clock)
    ok = report.ok(strict=strict)
    lines = [str(f) for f in report.findings]
    lines.append(f"{file}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    _emit(as_json, {"ok": ok, "file": file, **report.to_dict()}, "\n".join(lines))
    sys.exit(EXIT_OK if ok else EXIT_FAILED)


@policy_group.command("test")
@click.argument("cases_file", metavar="CASES", type=click.Path(dir_okay=False))
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False),
    help="Policy bundle to test (default: the case file's 'policy').",
)
@click.option("--now", metavar="ISO", help="Clock for expiry (default: the case file's 'now', else now).")
@_json_option
def test_cmd(cases_file: str, policy_file: str | None, now: str | None, as_json: bool) -> None:
    """Run the request -> expected-decision cases in CASES (YAML or JSON). Exit 1 if any fails."""
    try:
        cases = load_cases(cases_file)
    except PolicyError as exc:
        _fail(as_json, EXIT_USAGE, str(exc))
    if policy_file is None:
        if cases.policy is None:
            raise click.UsageError("no policy: give --policy or set 'policy' in the case file")
        policy_file = str(Path(cases_file).parent / cases.policy)
    clock = _parse_now(now) or (parse_timestamp(cases.now) if cases.now else None)
    bundle = _load(policy_file, as_json, allow_expired=True, now=clock)
    report = run_policy_cases(PolicyEngine(bundle), cases.cases, now=clock)
    lines = []
    for r in report.results:
        status = "PASS" if r.passed else "FAIL"
        detail = "" if r.passed else " — " + "; ".join(r.problems)
        lines.append(f"{status} {r.name}: {r.outcome} {','.join(r.codes)}{detail}")
        lines.extend(f"    {step}" for step in r.trace)
    lines.append(f"{report.passed} passed, {report.failed} failed")
    _emit(as_json, {"ok": report.ok, "policy": policy_file, **report.to_dict()}, "\n".join(lines))
    sys.exit(EXIT_OK if report.ok else EXIT_FAILED)


@policy_group.command("keygen")
@click.option(
    "--out-dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Directory for NAME.key (private, mode 0600) and NAME.pub.",
)
@click.option("--name", default="policy", show_default=True, help="Base file name.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@_json_option
def keygen_cmd(out_dir: str, name: str, force: bool, as_json: bool) -> None:
    """Generate an Ed25519 key pair for signing policy bundles."""
    pair = generate_keypair()
    try:
        private_path, public_path = pair.write(out_dir, name, overwrite=force)
    except FileExistsError as exc:
        _fail(as_json, EXIT_USAGE, f"{exc.filename} exists (use --force to overwrite)")
    except OSError as exc:
        _fail(as_json, EXIT_USAGE, f"cannot write keys: {exc.strerror or exc}")
    _emit(
        as_json,
        {"ok": True, "key_id": pair.key_id, "private_key": str(private_path), "public_key": str(public_path)},
        f"key id {pair.key_id}\nprivate key: {private_path} (keep secret)\npublic key:  {public_path}",
    )


def _dump(bundle: PolicyBundle, fmt: str) -> str:
    data = bundle.to_data()
    if fmt == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@policy_group.command("sign")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False), help="Ed25519 private key (PEM).")
@click.option("--password-env", metavar="NAME", help="Environment variable holding the key's password.")
@_hmac_env_option
@_hmac_file_option
@click.option("--replace", is_flag=True, help="Drop existing Ed25519 signatures by other keys.")
@click.option(
    "--out",
    "out",
    default="-",
    show_default=True,
    help="Output file (.json, .yaml or .yml); '-' writes to stdout in FILE's format.",
)
@click.option("--allow-expired", is_flag=True, help="Sign even if the bundle has expired.")
def sign_cmd(
    file: str,
    key_path: str | None,
    password_env: str | None,
    hmac_secret_env: str | None,
    hmac_secret_file: str | None,
    replace: bool,
    out: str,
    allow_expired: bool,
) -> None:
    """Sign FILE with an Ed25519 key (--key) and/or an HMAC secret, writing the signed bundle."""
    secret = _hmac_secret(hmac_secret_env, hmac_secret_file)
    if key_path is None and secret is None:
        raise click.UsageError("nothing to sign with: give --key and/or --hmac-secret-env/--hmac-secret-file")
    password = None
    if password_env:
        value = os.environ.get(password_env)
        if value is None:
            raise click.UsageError(f"environment variable {password_env} is not set")
        password = value.encode("utf-8")
    bundle = _load(file, False, allow_expired=allow_expired)
    try:
        if key_path is not None:
            bundle = sign_bundle(bundle, load_private_key(key_path, password), replace=replace)
        if secret is not None:
            bundle = sign_bundle_hmac(bundle, secret)
    except PolicyError as exc:
        _fail(False, EXIT_USAGE, str(exc))
    target = file if out == "-" else out
    fmt = "yaml" if Path(target).suffix.lower() in (".yaml", ".yml") else "json"
    text = _dump(bundle, fmt)
    if out == "-":
        click.echo(text, nl=False)
    else:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"signed bundle written to {out}", err=True)


@policy_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@_key_option
@_hmac_env_option
@_hmac_file_option
@_json_option
def verify_cmd(
    file: str, trusted_keys: tuple[str, ...], hmac_secret_env: str | None, hmac_secret_file: str | None, as_json: bool
) -> None:
    """Verify FILE's signatures: exit 0 if valid, 1 if a signature is missing or does not verify."""
    secret = _hmac_secret(hmac_secret_env, hmac_secret_file)
    if not trusted_keys and secret is None:
        raise click.UsageError("nothing to verify with: give --trusted-key and/or --hmac-secret-env/-file")
    bundle = _load(file, as_json, allow_expired=True)
    checked: dict[str, Any] = {}
    try:
        if trusted_keys:
            checked["ed25519_key_id"] = verify_bundle(bundle, list(trusted_keys))
        if secret is not None:
            verify_hmac_signature(bundle, secret)
            checked["hmac"] = True
    except PolicySignatureError as exc:
        _fail(as_json, EXIT_FAILED, str(exc))
    expired = bundle.is_expired()
    lines = [f"OK {file}: signature verified"]
    if "ed25519_key_id" in checked:
        lines.append(f"ed25519 key id {checked['ed25519_key_id']}")
    if expired:
        lines.append(f"note: the bundle expired at {bundle.expires_at}")
    _emit(as_json, {"ok": True, "file": file, "expired": expired, **checked}, "\n".join(lines))
