"""Change control against a local HTTP server speaking the Jira and ServiceNow REST JSON."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from agent_security.containment import ChangeControl, JiraValidator, ServiceNowValidator, TicketInfo
from agent_security.containment.testing import TicketServer, jira_issue, servicenow_change, ticket_server
from agent_security.containment.validators import parse_when

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TICKETS: dict[str, dict[str, Any]] = {
    "CHG-1": jira_issue("CHG-1", "Approved", "Deploy billing-api to prod", duedate="2026-06-30", labels=("ops-bot",)),
    "CHG-2": jira_issue("CHG-2", "In Progress", "Migrate db", duedate="2026-06-30"),
    "CHG-3": jira_issue("CHG-3", "Open", "Deploy billing-api to prod", duedate="2026-06-30"),
    "CHG-4": jira_issue("CHG-4", "Approved", "Deploy billing-api to prod", duedate="2026-05-31"),
    "CHG-5": jira_issue("CHG-5", "Approved", "Deploy billing-api-v2 to production"),
    "CHG0030001": servicenow_change(
        "CHG0030001", "Implement", "-1", "billing-api prod rollout", end_date="2026-06-02 00:00:00",
        start_date="2026-06-01 08:00:00",
    ),
    "CHG0030002": servicenow_change("CHG0030002", "Implement", "-1", "billing-api", approval="requested"),
    "CHG0030003": servicenow_change("CHG0030003", "Scheduled", "-2", "billing-api", start_date="2026-06-03 00:00:00"),
    "CHG0030004": servicenow_change("CHG0030004", "Closed", "3", "billing-api"),
}  # fmt: skip


@pytest.fixture
def server() -> Iterator[TicketServer]:
    with ticket_server(TICKETS) as s:
        yield s


def jira(server: TicketServer, **kwargs: Any) -> ChangeControl:
    options: dict[str, Any] = {"required_statuses": ("Approved", "In Progress"), "provider": "jira"}
    options.update(kwargs)
    return ChangeControl(validator=JiraValidator(server.url, timeout_s=2.0), **options)


def snow(server: TicketServer, **kwargs: Any) -> ChangeControl:
    options: dict[str, Any] = {"required_statuses": ("Implement", "Scheduled"), "provider": "servicenow"}
    options.update(kwargs)
    return ChangeControl(validator=ServiceNowValidator(server.url, timeout_s=2.0), **options)


@pytest.mark.parametrize(
    ("ticket", "code"),
    [
        ("CHG-1", "TICKET_VALID"),
        ("CHG-2", "TICKET_VALID"),
        ("CHG-3", "TICKET_INVALID"),
        ("CHG-4", "TICKET_EXPIRED"),
        ("CHG-9", "TICKET_NOT_FOUND"),
        ("CHG-5", "TICKET_VALID"),
    ],
)
def test_jira_statuses_and_expiry(server: TicketServer, ticket: str, code: str) -> None:
    check = jira(server).validate(ticket, now=NOW)
    assert check.code == code and check.valid is (code == "TICKET_VALID")
    if check.valid:
        assert check.ticket is not None and check.ticket.ticket_id == ticket


def test_jira_scope_pattern_and_required_expiry(server: TicketServer) -> None:
    control = jira(server, scope=("agent", "tool", "environment"), ticket_pattern=r"CHG-\d{1,6}")
    ok = control.validate("CHG-1", agent_id="ops-bot", tool_name="billing-api", environment="prod", now=NOW)
    assert ok.valid, ok.message
    for agent, tool, env in (
        ("ops-bot", "billing", "prod"),
        ("ops-bot", "billing-api", "dev"),
        (None, "billing-api", "prod"),
    ):
        check = control.validate("CHG-1", agent_id=agent, tool_name=tool, environment=env, now=NOW)
        assert check.code == "TICKET_OUT_OF_SCOPE", (agent, tool, env)
    # "billing-api-v2" and "production" do not name "billing-api" and "prod"
    assert (
        jira(server, scope=("tool",)).validate("CHG-5", tool_name="billing-api", now=NOW).code == "TICKET_OUT_OF_SCOPE"
    )
    for bad in ("chg-1", "CHG-1\nCHG-2", "X-CHG-1", "CHG-1234567", "", "   ", "CHG-1;drop"):
        check = control.validate(bad, now=NOW)
        assert not check.valid and check.code == "TICKET_INVALID", bad
    assert jira(server, require_expiry=True).validate("CHG-5", now=NOW).code == "TICKET_INVALID"
    assert len(server.requests) == 3  # the refused ids never reached the ticket system


def test_jira_sends_credentials(server: TicketServer) -> None:
    ChangeControl(validator=JiraValidator(server.url, username="me@example.com", password="tok")).validate(
        "CHG-1", now=NOW
    )
    ChangeControl(validator=JiraValidator(server.url, bearer_token="pat-1")).validate("CHG-1", now=NOW)
    basic = base64.b64encode(b"me@example.com:tok").decode()
    assert server.requests[0]["headers"]["Authorization"] == f"Basic {basic}"
    assert server.requests[1]["headers"]["Authorization"] == "Bearer pat-1"
    assert server.requests[0]["path"].startswith("/rest/api/2/issue/CHG-1?fields=")


@pytest.mark.parametrize(
    ("ticket", "code"),
    [
        ("CHG0030001", "TICKET_VALID"),
        ("CHG0030002", "TICKET_INVALID"),  # not approved
        ("CHG0030003", "TICKET_NOT_STARTED"),
        ("CHG0030004", "TICKET_INVALID"),  # closed
        ("CHG0039999", "TICKET_NOT_FOUND"),
    ],
)
def test_servicenow(server: TicketServer, ticket: str, code: str) -> None:
    assert snow(server).validate(ticket, now=NOW).code == code


def test_servicenow_status_by_number_window_and_query(server: TicketServer) -> None:
    assert snow(server, required_statuses=("-1",)).validate("CHG0030001", now=NOW).valid
    late = datetime(2026, 6, 2, 0, 0, tzinfo=UTC)
    assert snow(server).validate("CHG0030001", now=late).code == "TICKET_EXPIRED"
    early = datetime(2026, 6, 1, 7, 59, tzinfo=UTC)
    assert snow(server).validate("CHG0030001", now=early).code == "TICKET_NOT_STARTED"
    path = server.requests[0]["path"]
    assert path.startswith("/api/now/table/change_request?") and "sysparm_query=number%3DCHG0030001" in path
    # an id that would extend the encoded query never reaches ServiceNow
    check = snow(server).validate("CHG0030001^ORnumberISNOTEMPTY", now=NOW)
    assert check.code == "TICKET_ERROR" and len(server.requests) == 3


@pytest.mark.parametrize(
    ("behaviour", "detail"),
    [
        ("status:500", "HTTP 500"),
        ("status:401", "HTTP 401"),
        ("status:403", "HTTP 403"),
        ("status:302", "HTTP 302"),
        ("junk", "not JSON"),
        ("huge", "more than"),
        ("slow:3", "did not answer within"),
    ],
)
def test_errors_deny_and_are_not_cached(server: TicketServer, behaviour: str, detail: str) -> None:
    server.behaviour = behaviour
    control = ChangeControl(validator=JiraValidator(server.url, timeout_s=0.3), required_statuses=("Approved",))
    check = control.validate("CHG-1", now=NOW)
    assert not check.valid and check.code == "TICKET_ERROR" and detail in check.message
    server.behaviour = ""
    assert control.validate("CHG-1", now=NOW).valid  # the failure was not remembered


def test_unexpected_json_shape_denies(server: TicketServer) -> None:
    server.tickets["CHG-7"] = {"key": "CHG-7", "fields": "nope"}
    server.tickets["CHG0030007"] = {"number": {"value": "CHG0099999"}}  # another record than asked for
    assert jira(server).validate("CHG-7", now=NOW).code == "TICKET_ERROR"
    assert snow(server).validate("CHG0030007", now=NOW).code == "TICKET_ERROR"
    server.tickets["CHG-8"] = jira_issue("CHG-8", duedate="next tuesday")
    assert jira(server).validate("CHG-8", now=NOW).code == "TICKET_ERROR"


def test_unreachable_server_denies() -> None:
    with ticket_server() as gone:
        url = gone.url
    check = ChangeControl(validator=JiraValidator(url, timeout_s=1.0)).validate("CHG-1", now=NOW)
    assert check.code == "TICKET_ERROR" and "cannot be reached" in check.message


def test_async_validation(server: TicketServer) -> None:
    async def main() -> list[str]:
        j, s = jira(server), snow(server)
        results = await asyncio.gather(
            j.avalidate("CHG-1", now=NOW),
            j.avalidate("CHG-3", now=NOW),
            s.avalidate("CHG0030001", now=NOW),
            s.avalidate("CHG0039999", now=NOW),
        )
        server.behaviour = "slow:3"
        slow = ChangeControl(validator=JiraValidator(server.url, timeout_s=0.3))
        return [r.code for r in results] + [(await slow.avalidate("CHG-1", now=NOW)).code]

    assert asyncio.run(main()) == ["TICKET_VALID", "TICKET_INVALID", "TICKET_VALID", "TICKET_NOT_FOUND", "TICKET_ERROR"]


def test_cache_ttl_and_bound(server: TicketServer) -> None:
    now = [0.0]
    control = jira(server, cache_ttl_s=60, cache_size=2, clock=lambda: now[0])
    assert not control.validate("CHG-1", now=NOW).cached
    assert control.validate("CHG-1", now=NOW).cached
    assert len(server.requests) == 1
    now[0] = 61.0
    assert not control.validate("CHG-1", now=NOW).cached  # expired from the cache: asked again
    control.validate("CHG-2", now=NOW)
    control.validate("CHG-3", now=NOW)  # CHG-1 is pushed out (two entries at most)
    assert not control.validate("CHG-1", now=NOW).cached
    control.validate("CHG-9", now=NOW)
    assert not control.validate("CHG-9", now=NOW).cached  # not found: never cached
    control.clear_cache()
    assert not control.validate("CHG-2", now=NOW).cached


def test_function_validators_and_no_validator() -> None:
    info = TicketInfo(ticket_id="T-1", status="approved")
    assert ChangeControl(validator=lambda tid: info if tid == "T-1" else None).validate("T-1", now=NOW).valid
    assert ChangeControl(validator=lambda tid: None).validate("T-1", now=NOW).code == "TICKET_NOT_FOUND"
    assert ChangeControl(validator=lambda tid: {"status": "approved"}).validate("T-1", now=NOW).code == "TICKET_ERROR"

    def boom(tid: str) -> TicketInfo:
        raise RuntimeError("down")

    assert ChangeControl(validator=boom).validate("T-1", now=NOW).code == "TICKET_ERROR"

    async def lookup(tid: str) -> TicketInfo:
        return info

    assert asyncio.run(ChangeControl(validator=lookup).avalidate("T-1", now=NOW)).valid
    assert ChangeControl(validator=lookup).validate("T-1", now=NOW).code == "TICKET_ERROR"  # async only
    # the original accepted any id without a validator; here no ticket can be verified
    assert ChangeControl().validate("T-1", now=NOW).code == "TICKET_UNVERIFIABLE"
    with pytest.raises(ValueError):
        ChangeControl(required_statuses=())
    with pytest.raises(ValueError):
        ChangeControl(scope=("team",))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ChangeControl(ticket_pattern="x" * 300)


def test_concurrent_validation(server: TicketServer) -> None:
    control = jira(server)
    codes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for ticket in ("CHG-1", "CHG-3", "CHG-9"):
            code = control.validate(ticket, now=NOW).code
            with lock:
                codes.append(code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(codes)) == ["TICKET_INVALID", "TICKET_NOT_FOUND", "TICKET_VALID"] and len(codes) == 24


def test_dates() -> None:
    assert parse_when("2026-06-30") == datetime(2026, 7, 1, tzinfo=UTC)
    assert parse_when("2026-06-30", date_ends_day=False) == datetime(2026, 6, 30, tzinfo=UTC)
    assert parse_when("2026-06-30 23:00:00") == datetime(2026, 6, 30, 23, tzinfo=UTC)
    assert parse_when("2026-06-30T18:00:00.000+0200") == datetime(2026, 6, 30, 16, tzinfo=UTC)
    assert parse_when({"value": "2026-06-30 01:00:00", "display_value": "06/30/2026"}) == datetime(
        2026, 6, 30, 1, tzinfo=UTC
    )
    assert parse_when("") is None and parse_when(None) is None
