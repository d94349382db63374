"""Entry point of agent-security-egress (group ``agent_security``, name ``egress``).

``agent_security_configure`` builds one :class:`~agent_security.egress.enforcer.EgressEnforcer` per
``AgentSecurity`` from the ``[egress]`` section and registers it (plugin name ``egress-enforcer``).

Installed without an ``[egress]`` section the enforcer still runs, with the safe default policy
:data:`~agent_security.egress.enforcer.DEFAULT_POLICY`: SECRET findings are blocked on every channel
(DENY ``EGRESS_BLOCKED``), PII and PCI findings raise an ``EGRESS_ALERT`` alert event and are added to
the request's data labels; tool results have secrets and card numbers redacted. Set
``enabled = false`` in the section to turn the enforcer off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pluggy
from pydantic import Field, field_validator

from agent_security.core import ConfigurationError, PluginInfo, SectionModel, Settings, hookimpl
from agent_security.egress import hookspecs
from agent_security.egress.classifiers import DEFAULT_CLASSIFIERS, Classifier, custom_classifier
from agent_security.egress.enforcer import DEFAULT_DESTINATION_FIELDS, DEFAULT_POLICY, EgressEnforcer
from agent_security.egress.findings import Classification
from agent_security.egress.policy import DestinationRule, EgressAction, EgressPolicy, ToolChannelMapping
from agent_security.egress.scanner import ScanLimits
from agent_security.egress.validators import iban_valid, luhn_valid

if TYPE_CHECKING:
    import click

    from agent_security.core.host import Host

__all__ = [
    "CustomClassifierConfig",
    "EgressConfig",
    "LimitsConfig",
    "agent_security_addhooks",
    "agent_security_configure",
    "agent_security_plugin_info",
    "build_enforcer",
]

_VALIDATORS = {
    "none": None,
    "luhn": lambda s: luhn_valid("".join(ch for ch in s if ch.isdigit())),
    "iban": lambda s: iban_valid("".join(ch for ch in s if ch.isalnum()).upper()),
}


class CustomClassifierConfig(SectionModel):
    """A classifier written in configuration. ``pattern`` is RE2 syntax (linear time)."""

    kind: str
    pattern: str = Field(min_length=1, max_length=4096)
    classification: Classification = Classification.CUSTOM
    validator: Literal["none", "luhn", "iban"] = "none"
    context_words: tuple[str, ...] = ()
    negative_words: tuple[str, ...] = ()
    key_names: tuple[str, ...] = ()
    confidence: float = Field(default=0.7, ge=0.0, le=1.0)
    mask_keep: int = Field(default=0, ge=0, le=8)

    def build(self) -> Classifier:
        return custom_classifier(
            self.kind,
            self.pattern,
            self.classification,
            validator=_VALIDATORS[self.validator],
            context_words=self.context_words,
            negative_words=self.negative_words,
            key_names=self.key_names,
            confidence=self.confidence,
            mask_keep=self.mask_keep,
        )


class LimitsConfig(SectionModel):
    max_total_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_depth: int = Field(default=64, ge=1, le=1000)
    max_nodes: int = Field(default=100_000, ge=1)
    max_decode_depth: int = Field(default=3, ge=0, le=8)
    max_decoded_bytes: int = Field(default=4 * 1024 * 1024, ge=0)
    max_decode_attempts: int = Field(default=2_000, ge=0)
    max_findings: int = Field(default=1_000, ge=1)
    max_anchor_hits: int = Field(default=200_000, ge=1)
    max_segment_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_int_digits: int = Field(default=4300, ge=20, le=4300)


class EgressConfig(SectionModel):
    """Configuration section ``[egress]``."""

    enabled: bool = True
    rules: tuple[DestinationRule, ...] | None = None
    """Rules ``{id, description, classifications, kinds, channels, allowed_destinations, allowed_domains,
    blocked_destinations, action, min_confidence}``, first match per finding. Omitted: the default
    policy (block SECRET, alert on PII/PCI)."""
    default_action: EgressAction | None = None
    """Action for findings no rule covers: ``block`` when ``rules`` is given (the original's default),
    ``alert`` under the default policy."""
    tool_channel_mappings: tuple[ToolChannelMapping, ...] | None = None
    """``{tool_name, channel, destination_fields}``: which channel a tool writes to and where. Omitted:
    :data:`~agent_security.egress.enforcer.DEFAULT_TOOL_CHANNEL_MAPPINGS` (``send_email``, ``http_*``,
    ``write_file``, ``query_*``...)."""
    destination_fields: tuple[str, ...] | None = None
    """Argument names read as destinations for tools no mapping covers. Omitted:
    :data:`~agent_security.egress.enforcer.DEFAULT_DESTINATION_FIELDS` (``to``, ``cc``, ``bcc``...)."""
    unmapped_channel: str = "unknown"
    """Channel of tools without a mapping (rules with ``channels`` do not apply to it)."""
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    user_input: Literal["label", "enforce", "ignore"] = "label"
    """``label``: findings in ``user_input`` become data labels only; ``enforce``: also go through the
    policy; ``ignore``: not scanned."""
    result_actions: dict[Classification, EgressAction] = Field(default_factory=dict)
    """Actions on tool results per classification (default: redact SECRET and PCI, alert on PII)."""
    on_incomplete: Literal["block", "alert"] = "block"
    log_size: int = Field(default=10_000, ge=1, le=10_000_000)
    classifiers: tuple[str, ...] = ()
    """Built-in kinds to use (empty: all of them)."""
    custom_classifiers: tuple[CustomClassifierConfig, ...] = ()
    limits: LimitsConfig = LimitsConfig()

    @field_validator("classifiers")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        known = {c.kind for c in DEFAULT_CLASSIFIERS}
        bad = [k for k in v if k not in known]
        if bad:
            raise ValueError(f"unknown classifier kinds {bad}; known: {sorted(known)}")
        return v

    def policy(self) -> EgressPolicy:
        if self.rules is None:
            if self.default_action is None:
                return DEFAULT_POLICY
            return DEFAULT_POLICY.model_copy(update={"default_action": self.default_action})
        return EgressPolicy(rules=self.rules, default_action=self.default_action or "block")


def build_enforcer(config: EgressConfig | None, extra_classifiers: list[Classifier] | None = None) -> EgressEnforcer:
    """An enforcer for a validated section (``None``: the documented defaults)."""
    cfg = config or EgressConfig()
    builtins = [c for c in DEFAULT_CLASSIFIERS if not cfg.classifiers or c.kind in cfg.classifiers]
    classifiers: list[Classifier] = [*builtins, *(c.build() for c in cfg.custom_classifiers)]
    for c in extra_classifiers or ():
        if not isinstance(c, Classifier):
            raise ConfigurationError(f"agent_security_egress_classifiers returned {type(c).__name__}, not a Classifier")
        classifiers.append(c)
    kinds = [c.kind for c in classifiers if not c.builtin]
    dup = {k for k in kinds if kinds.count(k) > 1 or k in {b.kind for b in DEFAULT_CLASSIFIERS}}
    if dup:
        raise ConfigurationError(f"duplicate egress classifier kinds: {sorted(dup)}")
    return EgressEnforcer(
        cfg.policy(),
        classifiers=classifiers,
        tool_channel_mappings=cfg.tool_channel_mappings,
        unmapped_channel=cfg.unmapped_channel,
        default_destination_fields=(
            DEFAULT_DESTINATION_FIELDS if cfg.destination_fields is None else cfg.destination_fields
        ),
        min_confidence=cfg.min_confidence,
        limits=ScanLimits(**cfg.limits.model_dump()),
        user_input=cfg.user_input,
        result_actions={str(k): v for k, v in cfg.result_actions.items()},
        on_incomplete=cfg.on_incomplete,
        log_size=cfg.log_size,
    )


@hookimpl
def agent_security_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="egress",
        description="Data loss prevention and egress control: PII, card data and secrets in tool calls.",
        config_section="egress",
        config_model=EgressConfig,
        unconfigured="Blocks secrets on every channel (EGRESS_BLOCKED), alerts on PII and card data, "
        "labels requests with the classes found, redacts secrets in tool results.",
    )


def _contributed(host: Host) -> list[Classifier]:
    out: list[Classifier] = []
    for batch in host.call_extension_hook("agent_security_egress_classifiers"):
        out.extend(batch or ())
    return out


@hookimpl
def agent_security_configure(host: Host, settings: Settings) -> None:
    cfg = settings.section("egress")
    if cfg is not None and not isinstance(cfg, EgressConfig):
        cfg = EgressConfig.model_validate(cfg.model_dump() if hasattr(cfg, "model_dump") else cfg)
    if cfg is not None and not cfg.enabled:
        return
    host.register_plugin(build_enforcer(cfg, _contributed(host)))


@hookimpl
def agent_security_cli(cli: click.Group) -> None:
    """``agent-security demo egress``, beside the core's demo."""
    import click

    group = cli.commands.get("demo")
    if isinstance(group, click.Group):
        group.add_command(_demo_command(), "egress")


def _demo_command() -> click.Command:
    import click

    @click.command("egress")
    def egress_demo() -> None:
        """Run the original's egress demo scenarios (examples/02-egress-dlp) and the evasions of issue 19
        through agent-security-egress, with our outcomes."""
        from agent_security.egress.demo import run_demo

        raise SystemExit(run_demo())

    return egress_demo
