"""Hooks that agent-security-egress adds to the ``agent_security`` plugin manager.

They are added through core's historic ``agent_security_addhooks(pluginmanager)`` hook, implemented by
``agent_security.egress.plugin``, so any plugin registered with an ``AgentSecurity`` (before or after
the egress plugin) may implement them::

    from agent_security.core import hookimpl
    from agent_security.egress import custom_classifier

    @hookimpl
    def agent_security_egress_classifiers():
        return [custom_classifier("employee_id", r"\\bEMP-\\d{6}\\b", "PII", context_words=["employee"])]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_security.core.hookspecs import hookspec

if TYPE_CHECKING:
    from agent_security.egress.classifiers import Classifier

__all__ = ["agent_security_egress_classifiers"]


@hookspec
def agent_security_egress_classifiers() -> list[Classifier]:
    """Contribute classifiers to every egress enforcer built by the ``egress`` plugin.

    Called once, when the plugin configures an ``AgentSecurity`` (plugins registered later are not
    asked). Return a list of :class:`~agent_security.egress.classifiers.Classifier` (build them with
    :func:`~agent_security.egress.custom_classifier`, whose patterns run through RE2). They are added
    to the built-in ones; a kind that is already present is an error.

    .. versionadded:: 0.1
    """
    raise NotImplementedError
