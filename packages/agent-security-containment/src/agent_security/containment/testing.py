"""A local ticket server speaking the Jira and ServiceNow REST JSON, for tests, the demo and examples.

:class:`TicketServer` is a real HTTP server (``http.server``, a thread, a free loopback port) that answers
``GET /rest/api/2/issue/<key>`` as Jira does and ``GET /api/now/table/change_request?sysparm_query=
number=<id>`` as ServiceNow does, from the tickets it holds. ``behaviour`` makes it misbehave:
``"status:<code>"`` answers that HTTP status, ``"slow:<seconds>"`` waits before answering, ``"junk"``
answers something that is not JSON, ``"huge"`` more than a MiB. It records every request (path and
headers) in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["TicketServer", "jira_issue", "servicenow_change", "ticket_server"]


def jira_issue(
    key: str,
    status: str = "Approved",
    summary: str = "",
    *,
    labels: tuple[str, ...] = (),
    duedate: str | None = None,
    description: str = "",
) -> dict[str, Any]:
    """A Jira REST v2 issue as ``GET /rest/api/2/issue/<key>`` answers it."""
    return {
        "id": "10001",
        "key": key,
        "self": f"https://jira.example/rest/api/2/issue/{key}",
        "fields": {
            "summary": summary,
            "description": description,
            "labels": list(labels),
            "components": [],
            "duedate": duedate,
            "assignee": {"displayName": "Ops Lead", "accountId": "5b10"},
            "status": {"name": status, "statusCategory": {"key": "indeterminate", "name": "In Progress"}},
        },
    }


def servicenow_change(
    number: str,
    state: str = "Implement",
    state_value: str = "-1",
    short_description: str = "",
    *,
    approval: str = "approved",
    start_date: str = "",
    end_date: str = "",
    cmdb_ci: str = "",
) -> dict[str, Any]:
    """A ServiceNow ``change_request`` record as the Table API answers it with ``sysparm_display_value=all``."""

    def both(value: str, display: str | None = None) -> dict[str, str]:
        return {"display_value": display if display is not None else value, "value": value}

    return {
        "number": both(number),
        "state": both(state_value, state),
        "approval": both(approval, approval.capitalize()),
        "short_description": both(short_description),
        "description": both(""),
        "start_date": both(start_date),
        "end_date": both(end_date),
        "cmdb_ci": both(cmdb_ci),
        "assignment_group": both("", ""),
        "assigned_to": both("", ""),
    }


class TicketServer:
    """See the module documentation. ``url`` is its base URL once started."""

    def __init__(self, tickets: Mapping[str, dict[str, Any]] | None = None) -> None:
        self.tickets: dict[str, dict[str, Any]] = dict(tickets or {})
        self.behaviour = ""
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> TicketServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        with self._lock:
            self.requests.append({"path": handler.path, "headers": dict(handler.headers.items())})
            behaviour = self.behaviour
        if behaviour.startswith("slow:"):
            time.sleep(float(behaviour[5:]))
        if behaviour.startswith("status:"):
            return self._send(handler, int(behaviour[7:]), {"errorMessages": ["failure"]})
        if behaviour == "junk":
            return self._send_bytes(handler, 200, b"<html>maintenance</html>")
        if behaviour == "huge":
            return self._send_bytes(handler, 200, b"[" + b"0," * (600 * 1024) + b"0]")
        if parts.path.startswith("/rest/api/2/issue/"):
            key = unquote(parts.path.rsplit("/", 1)[1])
            issue = self.tickets.get(key)
            if issue is None:
                return self._send(handler, 404, {"errorMessages": ["Issue does not exist"], "errors": {}})
            return self._send(handler, 200, issue)
        if parts.path.startswith("/api/now/table/"):
            query = parse_qs(parts.query).get("sysparm_query", [""])[0]
            number = query.partition("number=")[2]
            record = self.tickets.get(number)
            return self._send(handler, 200, {"result": [record] if record is not None else []})
        return self._send(handler, 404, {"error": "no such API"})

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        self._send_bytes(handler, status, json.dumps(body).encode())

    def _send_bytes(self, handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass


@contextmanager
def ticket_server(tickets: Mapping[str, dict[str, Any]] | None = None) -> Iterator[TicketServer]:
    """A started :class:`TicketServer`, stopped on exit."""
    server = TicketServer(tickets).start()
    try:
        yield server
    finally:
        server.stop()
