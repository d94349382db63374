"""``agent-security audit``: verify a trail, make a signing key, print the event schema.

``audit verify FILE [--public-key PEM ...] [--expect-head SEQ:HASH] [--min-events N] [--max-unsigned N]
[--witness PATH ...] [--json]`` exits 0 when the trail verifies, 1 when it is tampered (or a signature
fails, or it does not meet an expectation), 2 when the file, a key or a witness cannot be read (one line
on stderr, never a traceback). ``audit schema`` prints the audit event's JSON Schema. ``audit stream URL
[--namespace NS] [--after ID] [--limit N] [--envelope]`` prints the events of a fleet's Redis stream
(``[core.audit] redis_stream``) as JSON Lines, for posture and SIEM tools. The root CLI adds
:data:`audit_group` with ``cli.add_command(audit_group)``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from agent_security.core.audit.keys import AuditSigner, load_public_key
from agent_security.core.audit.schema import schema_json
from agent_security.core.audit.verify import TrailReadError, report_json, verify_file
from agent_security.core.audit.witness import WitnessReadError, WitnessRecord, read_witness

__all__ = ["audit_group"]

EXIT_OK, EXIT_TAMPERED, EXIT_UNREADABLE = 0, 1, 2


@click.group("audit")
def audit_group() -> None:
    """Work with the tamper-evident audit trail."""


def _parse_head(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    seq, sep, digest = value.partition(":")
    digest = digest.strip().lower()
    if not (
        sep
        and seq.strip().isdigit()
        and int(seq) >= 1
        and len(digest) == 64
        and all(c in "0123456789abcdef" for c in digest)
    ):
        raise click.BadParameter("expected SEQ:HASH, e.g. 41:<64 hex digits> (the head an earlier verify printed)")
    return int(seq), digest


@audit_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Ed25519 public key (PEM) that may have signed checkpoints; repeatable.",
)
@click.option(
    "--expect-head",
    "expect_head",
    metavar="SEQ:HASH",
    callback=_parse_head,
    help="Fail (exit 1) unless the trail ends exactly at this event: a head recorded off-host "
    "earlier. Detects truncation, replacement and appends.",
)
@click.option(
    "--min-events", type=click.IntRange(min=0), default=None, help="Fail (exit 1) if the trail holds fewer events."
)
@click.option(
    "--max-unsigned",
    type=click.IntRange(min=0),
    default=None,
    help="Fail (exit 1) if more events follow the last verified checkpoint; needs --public-key.",
)
@click.option(
    "--witness",
    "witnesses",
    multiple=True,
    help="A witness of the trail's checkpoints: its file or directory, a syslog file holding them, or a "
    "store witness's URL (sqlite:///path); repeatable. Detects a truncated tail, an emptied file and a "
    "recomputed chain.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def verify_command(
    file: Path,
    public_keys: tuple[Path, ...],
    expect_head: tuple[int, str] | None,
    min_events: int | None,
    max_unsigned: int | None,
    witnesses: tuple[str, ...],
    as_json: bool,
) -> None:
    """Verify FILE (JSON Lines or SQLite). Exit 0 ok, 1 tampered, 2 unreadable."""
    if max_unsigned is not None and not public_keys:
        raise click.UsageError("--max-unsigned needs --public-key: without a key no event counts as signed")
    try:
        _verify(
            file,
            public_keys,
            as_json,
            expect_head=expect_head,
            min_events=min_events,
            max_unsigned=max_unsigned,
            witnesses=witnesses,
        )
    except click.ClickException:
        raise
    except Exception as exc:  # a hostile file must never produce a traceback, nor a misleading exit 1
        _error(f"cannot verify {file}: unexpected {type(exc).__name__}: {exc}")


def _printable(line: str) -> str:
    """``line`` with every non-printable character (ANSI escapes, carriage returns, bidirectional
    overrides, ...) escaped as ``repr`` would: text from a hostile file cannot drive the terminal."""
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


def _echo(line: str, *, err: bool = False) -> None:
    click.echo(_printable(line), err=err)


def _error(message: str) -> NoReturn:
    """One line on stderr (a newline in ``message`` is escaped too), exit 2."""
    _echo(f"error: {message}", err=True)
    sys.exit(EXIT_UNREADABLE)


def _verify(
    file: Path,
    public_keys: tuple[Path, ...],
    as_json: bool,
    *,
    expect_head: tuple[int, str] | None,
    min_events: int | None,
    max_unsigned: int | None,
    witnesses: tuple[str, ...] = (),
) -> None:
    try:
        keys = [load_public_key(p) for p in public_keys] if public_keys else None
    except (OSError, ValueError) as exc:
        _error(f"cannot load public key: {exc}")
    records: list[WitnessRecord] | None = None
    if witnesses:
        records = []
        for path in witnesses:
            try:
                found, bad = read_witness(path)
            except WitnessReadError as exc:
                _error(f"cannot read witness: {exc}")
            if bad:
                _error(
                    f"cannot read witness: {path}: line {bad[0]} names a checkpoint record but is not one "
                    f"({len(bad)} such line(s))"
                )
            records += found
    try:
        report = verify_file(
            file, keys, expect_head=expect_head, min_events=min_events, max_unsigned=max_unsigned, witness=records
        )
    except TrailReadError as exc:
        _error(str(exc))
    if as_json:
        click.echo(report_json(report))  # JSON escapes every control character
    else:
        _echo(report.summary())
        if report.witnessed_through is not None:
            _echo(f"witnessed through sequence {report.witnessed_through}")
        if report.signed_through is not None:
            _echo(
                f"signed through sequence {report.signed_through} "
                f"({report.unsigned_tail} event(s) after it are unsigned)"
            )
        for problem in report.problems:
            _echo(problem)
        for note in report.notes:
            _echo(f"note: {note}")
    sys.exit(EXIT_OK if report.ok else EXIT_TAMPERED)


@audit_group.command("keygen")
@click.argument("private_key", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the public key (default: PRIVATE_KEY with .pub).",
)
def keygen_command(private_key: Path, public_key: Path | None) -> None:
    """Create an Ed25519 key pair for signing audit checkpoints (private key file mode 0600)."""
    signer = AuditSigner.generate()
    pub = public_key or private_key.with_name(private_key.name + ".pub")
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    if os.path.lexists(pub):  # checked first: never leave a private key without its public key
        raise click.ClickException(f"{pub} exists; refusing to overwrite a key")
    try:
        fd = os.open(private_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{private_key} exists; refusing to overwrite a key") from None
    with os.fdopen(fd, "wb") as fh:
        if hasattr(os, "fchmod"):
            os.fchmod(fh.fileno(), 0o600)
        fh.write(signer.private_key_pem())
    try:  # O_EXCL: a symbolic link planted at the path is not followed
        pub_fd = os.open(pub, os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow, 0o644)
    except FileExistsError:
        raise click.ClickException(f"{pub} exists; refusing to overwrite a key") from None
    with os.fdopen(pub_fd, "wb") as fh:
        fh.write(signer.public_key_pem())
    click.echo(f"key id {signer.key_id}\nprivate key: {private_key}\npublic key: {pub}")


@audit_group.command("stream")
@click.argument("url")
@click.option("--namespace", default=None, help="The store namespace the writers use ([core] store_namespace).")
@click.option("--after", default="0-0", show_default=True, help="Print the entries after this stream id.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Print at most this many entries.")
@click.option("--envelope", is_flag=True, help='Print {"id", "source", "event"} objects instead of bare events.')
def stream_command(url: str, namespace: str | None, after: str, limit: int | None, envelope: bool) -> None:
    """Print the audit events of a Redis stream (redis://, rediss://, redis+sentinel://) as JSON Lines."""
    import json

    from agent_security.core.errors import AgentSecurityError

    try:
        from agent_security.core.audit.redis_stream_sink import read_redis_stream
    except ImportError:
        _error("reading a Redis stream needs redis-py (pip install 'agent-security-core[redis]')")
    printed = 0
    try:
        for entry_id, fields, body in read_redis_stream(url, namespace=namespace, after=after):
            if limit is not None and printed >= limit:
                break
            if envelope:
                try:
                    event = json.loads(body)
                except ValueError:
                    event = None
                line = json.dumps({"id": entry_id, "source": fields.get("source"), "event": event})
            else:
                line = body
            _echo(line)
            printed += 1
    except (AgentSecurityError, ValueError) as exc:
        _error(f"cannot read the audit stream: {exc}")


@audit_group.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of an audit event (one line of a JSON Lines trail, a SQLite row's event_json)."""
    click.echo(schema_json(), nl=False)
