"""The ``[containment]`` configuration section.

::

    [containment]
    require_profile = false                  # a tool without a sandbox profile: DENY SANDBOX_VIOLATION
    ticket_required_tools = ["deploy", "db_*"]
    ticket_arg_names = ["ticket_id", "ticket", "change_ticket", "change_id"]

    [containment.sandboxes.read_file]        # one profile per tool name or fnmatch pattern ("*": default)
    read_paths = ["/srv/data"]
    denied_paths = ["/srv/data/secrets"]

    [containment.sandboxes.fetch_url]
    network_enabled = true
    allowed_hosts = ["api.example.com", "*.example.org"]

    [containment.change_control]
    provider = "jira"                        # jira | servicenow
    base_url = "https://example.atlassian.net"
    username_env = "JIRA_EMAIL"              # credentials come from the environment, never the file
    password_env = "JIRA_API_TOKEN"
    ticket_pattern = "CHG-[0-9]{1,8}"
    required_statuses = ["Approved", "In Progress"]
    scope = ["tool", "environment"]          # the ticket must name them
    require_expiry = true
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent_security.containment.profiles import SandboxProfile
from agent_security.core import SectionModel

__all__ = ["DEFAULT_TICKET_ARGS", "ChangeControlConfig", "ContainmentConfig", "ScopeField"]

DEFAULT_TICKET_ARGS = ("ticket_id", "ticket", "change_ticket", "change_id", "change_request")
ScopeField = Literal["agent", "tool", "environment"]
"""What a ticket's scope may bind it to."""


class ChangeControlConfig(SectionModel):
    """``[containment.change_control]``: which ticket system validates tickets, and the rules."""

    provider: Literal["jira", "servicenow"]
    base_url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://")
    username_env: str | None = None
    password_env: str | None = None
    bearer_token_env: str | None = None
    timeout_s: float = Field(default=5.0, gt=0, le=120)
    verify_tls: bool = True
    ticket_pattern: str | None = Field(default=None, max_length=256)
    required_statuses: tuple[str, ...] | None = Field(default=None, min_length=1, max_length=64)
    """Default: ``["Approved", "In Progress"]`` for Jira, ``["Scheduled", "Implement"]`` for ServiceNow."""
    scope: tuple[ScopeField, ...] = ()
    require_expiry: bool = False
    expiry_field: str | None = None
    """Jira default ``duedate``; ServiceNow default ``end_date``."""
    start_field: str | None = None
    """Jira default none; ServiceNow default ``start_date``."""
    table: str = "change_request"
    require_approval: str | None = "approved"
    """ServiceNow: the ``approval`` value a valid change has (``None``: not checked)."""
    cache_ttl_s: float = Field(default=60.0, ge=0, le=86_400)
    cache_size: int = Field(default=1024, ge=0, le=1_000_000)


class ContainmentConfig(SectionModel):
    """Configuration section ``[containment]`` (see the module documentation)."""

    enabled: bool = True
    require_profile: bool = False
    sandboxes: dict[str, SandboxProfile] = Field(default_factory=dict, max_length=4096)
    ticket_required_tools: tuple[str, ...] = Field(default=(), max_length=4096)
    ticket_arg_names: tuple[str, ...] = Field(default=DEFAULT_TICKET_ARGS, min_length=1, max_length=32)
    change_control: ChangeControlConfig | None = None
