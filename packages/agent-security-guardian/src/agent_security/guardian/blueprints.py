"""Ready-made guardian configurations, as in Agent-SPM (same thresholds, sequences, hours and modes).

=========================  =======  ====  ======  =================================================  =====  ====
blueprint                  mode     freq  volume  suspicious sequences                               hours  kill
=========================  =======  ====  ======  =================================================  =====  ====
``BLUEPRINT_ENGINEERING``  block    60    200     read_secrets > http_request; query_db > send_email  6-22   5
``BLUEPRINT_FINANCE``      block    30    100     query_customer_db > send_email; trigger_payment x2  8-18   3
``BLUEPRINT_SOC``          monitor  100   500     read_secrets > * > http_request; shell_execute x3   -      10
=========================  =======  ====  ======  =================================================  =====  ====

Differences from Agent-SPM, which are the point: ``frequency`` counts the calls of one agent to one
tool and ``volume`` the calls of one agent to every tool (Agent-SPM counted the same thing twice); the
allowed hours are read from each event's own timestamp in the configured ``timezone`` (UTC unless set;
Agent-SPM used the server's local clock); and a sequence's steps may have other calls between them
within ``sequence_window_s``. Use one with ``GuardianAgent(BLUEPRINT_FINANCE)``, or
``BLUEPRINT_FINANCE.with_overrides(timezone="America/New_York")``, or ``blueprint = "finance"`` in
``[guardian]``.
"""

from __future__ import annotations

from agent_security.guardian.config import AllowedHours, GuardianConfig

__all__ = ["BLUEPRINTS", "BLUEPRINT_ENGINEERING", "BLUEPRINT_FINANCE", "BLUEPRINT_SOC"]

BLUEPRINT_ENGINEERING = GuardianConfig(
    name="Engineering Guardian",
    mode="block",
    frequency_threshold=60,
    volume_threshold=200,
    suspicious_sequences=(("read_secrets", "http_request"), ("query_db", "send_email")),
    allowed_hours=AllowedHours(start=6, end=22),
    auto_kill_threshold=5,
)
BLUEPRINT_FINANCE = GuardianConfig(
    name="Finance Guardian",
    mode="block",
    frequency_threshold=30,
    volume_threshold=100,
    suspicious_sequences=(("query_customer_db", "send_email"), ("trigger_payment", "trigger_payment")),
    allowed_hours=AllowedHours(start=8, end=18),
    auto_kill_threshold=3,
)
BLUEPRINT_SOC = GuardianConfig(
    name="SOC Guardian",
    mode="monitor",
    frequency_threshold=100,
    volume_threshold=500,
    suspicious_sequences=(("read_secrets", "*", "http_request"), ("shell_execute", "shell_execute", "shell_execute")),
    auto_kill_threshold=10,
)
BLUEPRINTS: dict[str, GuardianConfig] = {
    "engineering": BLUEPRINT_ENGINEERING,
    "finance": BLUEPRINT_FINANCE,
    "soc": BLUEPRINT_SOC,
}
