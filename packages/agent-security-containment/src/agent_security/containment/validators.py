"""Ticket validators for Jira and ServiceNow REST APIs (httpx; synchronous and asynchronous).

* :class:`JiraValidator`: ``GET {base_url}/rest/api/2/issue/{id}?fields=...``; the status is
  ``fields.status.name``, the change window ``start_field`` / ``expiry_field`` (default: none /
  ``duedate``, a date: valid through that day, UTC), the scope text the summary, description, labels and
  components.
* :class:`ServiceNowValidator`: ``GET {instance_url}/api/now/table/change_request?sysparm_query=number=
  {id}&sysparm_display_value=all``; the status is ``state`` (its display value, ``Implement``, and its
  number, ``-1``, both match), ``approval`` must be ``approved``, the window ``start_date`` /
  ``end_date`` (UTC), the scope text the short description, description, configuration item and
  assignment group.

404 or an empty result: the ticket does not exist. Any other status, a timeout, a connection error, an
answer larger than 1 MiB or one that is not the expected JSON: :class:`TicketLookupError` (a denial).
Credentials are read from environment variables named in the configuration, never from the file.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from agent_security.containment.tickets import TicketInfo, TicketLookupError, scope_text

if TYPE_CHECKING:
    import httpx

# httpx is imported at the first lookup, not with the plugin: when rich and click are installed, importing
# httpx also imports its command-line client (rich, pygments), which every hook process would pay.

__all__ = ["MAX_ANSWER_BYTES", "HttpTicketValidator", "JiraValidator", "ServiceNowValidator", "parse_when"]

MAX_ANSWER_BYTES = 1024 * 1024
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def parse_when(value: Any, *, date_ends_day: bool = True) -> datetime | None:
    """A ticket date: ``2026-12-31`` (through the end of that day, UTC), ``2026-12-31 23:00:00``
    (ServiceNow, UTC), ``2026-12-31T18:00:00.000+0000`` (Jira). ``None`` for an empty value; raises
    :class:`TicketLookupError` for one that cannot be read."""
    if isinstance(value, Mapping):
        value = value.get("value") or value.get("display_value")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TicketLookupError(f"unreadable date {value!r:.64}")
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(0, 0), tzinfo=UTC)
            return moment + timedelta(days=1) if date_ends_day else moment
        text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text.replace(" ", "T", 1))
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise TicketLookupError(f"unreadable date {value!r:.64}") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class HttpTicketValidator:
    """What both validators share: one ``httpx.Client`` (thread-safe), an ``httpx.AsyncClient`` per
    call (usable from any event loop), bounded answers, errors as :class:`TicketLookupError`."""

    provider = "http"

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        bearer_token: str | None = None,
        timeout_s: float = 5.0,
        verify: bool | str = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL")
        if not 0 < timeout_s <= 120:
            raise ValueError("timeout_s must be in (0, 120]")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._headers = {"Accept": "application/json", **(headers or {})}
        if bearer_token:
            self._headers["Authorization"] = f"Bearer {bearer_token}"
        self._credentials = (username, password or "") if username else None
        self._verify = verify
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    # ---- what a subclass gives ------------------------------------------------------------------------
    def request(self, ticket_id: str) -> tuple[str, dict[str, str]]:
        raise NotImplementedError

    def parse(self, ticket_id: str, body: Any) -> TicketInfo | None:
        raise NotImplementedError

    # ---- lookups -------------------------------------------------------------------------------------
    def fetch(self, ticket_id: str) -> TicketInfo | None:
        import httpx

        path, params = self.request(_safe(ticket_id))
        try:
            with self._sync_client().stream("GET", path, params=params) as response:
                body = _read(response, response.iter_bytes())
                status = response.status_code
        except httpx.TimeoutException as exc:
            raise TicketLookupError(f"{self.provider} did not answer within {self.timeout_s:g}s") from exc
        except httpx.HTTPError as exc:
            raise TicketLookupError(f"{self.provider} cannot be reached ({type(exc).__name__})") from exc
        return self._answer(ticket_id, status, body)

    async def afetch(self, ticket_id: str) -> TicketInfo | None:
        import httpx

        path, params = self.request(_safe(ticket_id))
        try:
            async with self._async_client() as client, client.stream("GET", path, params=params) as response:
                chunks = bytearray()
                async for chunk in response.aiter_bytes():
                    chunks += chunk
                    if len(chunks) > MAX_ANSWER_BYTES:
                        raise TicketLookupError(f"{self.provider} answered more than {MAX_ANSWER_BYTES} bytes")
                body, status = bytes(chunks), response.status_code
        except httpx.TimeoutException as exc:
            raise TicketLookupError(f"{self.provider} did not answer within {self.timeout_s:g}s") from exc
        except httpx.HTTPError as exc:
            raise TicketLookupError(f"{self.provider} cannot be reached ({type(exc).__name__})") from exc
        return self._answer(ticket_id, status, body)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # ---- helpers -------------------------------------------------------------------------------------
    def _auth(self) -> httpx.BasicAuth | None:
        import httpx

        return httpx.BasicAuth(*self._credentials) if self._credentials else None

    def _sync_client(self) -> httpx.Client:
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self.base_url,
                    headers=self._headers,
                    auth=self._auth(),
                    timeout=self.timeout_s,
                    verify=self._verify,
                    follow_redirects=False,
                )
            return self._client

    def _async_client(self) -> httpx.AsyncClient:
        import httpx

        return httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._headers,
            auth=self._auth(),
            timeout=self.timeout_s,
            verify=self._verify,
            follow_redirects=False,
        )

    def _answer(self, ticket_id: str, status: int, body: bytes) -> TicketInfo | None:
        if status == 404:
            return None
        if status != 200:
            raise TicketLookupError(f"{self.provider} answered HTTP {status}")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise TicketLookupError(f"{self.provider} answered with something that is not JSON") from exc
        try:
            return self.parse(ticket_id, data)
        except TicketLookupError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise TicketLookupError(f"{self.provider} answered JSON of an unexpected shape ({exc!s:.100})") from exc


def _safe(ticket_id: str) -> str:
    if not _SAFE_ID.fullmatch(ticket_id):
        raise TicketLookupError("the ticket id holds characters a ticket system id does not")
    return ticket_id


def _read(response: httpx.Response, chunks: Any) -> bytes:
    out = bytearray()
    for chunk in chunks:
        out += chunk
        if len(out) > MAX_ANSWER_BYTES:
            raise TicketLookupError(f"the ticket system answered more than {MAX_ANSWER_BYTES} bytes")
    return bytes(out)


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        for key in ("display_value", "displayName", "name", "value"):
            if isinstance(value.get(key), str):
                return str(value[key])
        return ""
    return value if isinstance(value, str) else ""


class JiraValidator(HttpTicketValidator):
    """Jira Cloud / Server REST API v2 (see the module documentation). Basic auth (``username`` = the
    account's e-mail, ``password`` = an API token) or a personal access token (``bearer_token``)."""

    provider = "jira"

    def __init__(
        self,
        base_url: str,
        *,
        expiry_field: str | None = "duedate",
        start_field: str | None = None,
        scope_fields: tuple[str, ...] = ("summary", "description", "labels", "components"),
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        self.expiry_field, self.start_field, self.scope_fields = expiry_field, start_field, scope_fields

    def request(self, ticket_id: str) -> tuple[str, dict[str, str]]:
        wanted = {"status", "summary", "assignee", *self.scope_fields}
        wanted |= {f for f in (self.expiry_field, self.start_field) if f}
        return f"/rest/api/2/issue/{quote(ticket_id, safe='')}", {"fields": ",".join(sorted(wanted))}

    def parse(self, ticket_id: str, body: Any) -> TicketInfo | None:
        fields = body["fields"]
        if not isinstance(fields, Mapping):
            raise TicketLookupError("jira answered without fields")
        status = _text(fields.get("status"))  # the status's name; never its category (many statuses share one)
        return TicketInfo(
            ticket_id=str(body.get("key") or ticket_id),
            status=status,
            title=_text(fields.get("summary")),
            assignee=_text(fields.get("assignee")) or None,
            starts_at=parse_when(fields.get(self.start_field), date_ends_day=False) if self.start_field else None,
            expires_at=parse_when(fields.get(self.expiry_field)) if self.expiry_field else None,
            scope_text=scope_text(fields.get(f) for f in self.scope_fields),
        )


class ServiceNowValidator(HttpTicketValidator):
    """ServiceNow Table API (see the module documentation). Basic auth or an OAuth ``bearer_token``."""

    provider = "servicenow"

    def __init__(
        self,
        base_url: str,
        *,
        table: str = "change_request",
        require_approval: str | None = "approved",
        expiry_field: str | None = "end_date",
        start_field: str | None = "start_date",
        scope_fields: tuple[str, ...] = ("short_description", "description", "cmdb_ci", "assignment_group"),
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        if not re.fullmatch(r"[a-z0-9_]{1,80}", table):
            raise ValueError("table must be a ServiceNow table name")
        self.table, self.require_approval = table, require_approval
        self.expiry_field, self.start_field, self.scope_fields = expiry_field, start_field, scope_fields

    def request(self, ticket_id: str) -> tuple[str, dict[str, str]]:
        fields = {"number", "state", "approval", "short_description", "assigned_to", *self.scope_fields}
        fields |= {f for f in (self.expiry_field, self.start_field) if f}
        return f"/api/now/table/{self.table}", {
            "sysparm_query": f"number={ticket_id}",
            "sysparm_limit": "1",
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true",
            "sysparm_fields": ",".join(sorted(fields)),
        }

    def parse(self, ticket_id: str, body: Any) -> TicketInfo | None:
        rows = body["result"]
        if not isinstance(rows, list):
            raise TicketLookupError("servicenow answered without a result list")
        if not rows:
            return None
        row = rows[0]
        number = _raw(row.get("number"))
        if number.casefold() != ticket_id.casefold():
            raise TicketLookupError("servicenow answered with another record than the one asked for")
        state = row.get("state")
        approval = _raw(row.get("approval"))
        return TicketInfo(
            ticket_id=number,
            status=_text(state),
            statuses=tuple(s for s in {_text(state), _raw(state)} if s),
            title=_text(row.get("short_description")),
            assignee=_text(row.get("assigned_to")) or None,
            approved=None if self.require_approval is None else approval.casefold() == self.require_approval.casefold(),
            starts_at=parse_when(row.get(self.start_field), date_ends_day=False) if self.start_field else None,
            expires_at=parse_when(row.get(self.expiry_field)) if self.expiry_field else None,
            scope_text=scope_text(row.get(f) for f in self.scope_fields),
        )


def _raw(value: Any) -> str:
    """A ServiceNow field's stored value (``sysparm_display_value=all`` gives both)."""
    if isinstance(value, Mapping):
        raw = value.get("value")
        return raw if isinstance(raw, str) else ""
    return value if isinstance(value, str) else ""
