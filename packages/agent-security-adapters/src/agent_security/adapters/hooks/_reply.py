"""What the Cursor and Copilot CLI hook modules (and Claude Code's, for its JSON) answer with in common:
reading the event and routing it to its handler, a JSON answer on stdout, and reason codes as one line.

Each host's answer *shapes* stay in its own module (they are the host's documented fields); only logic that
is the same for every host lives here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from agent_security.adapters.hooks.answer import HookAnswer
from agent_security.adapters.hooks.facts import HookInputError, first_text, load_object

if TYPE_CHECKING:
    from agent_security.core.pipeline.facade import AgentSecurity

__all__ = ["Handler", "answer_event", "json_answer", "reason_text"]

Handler = Callable[[Mapping[str, Any], "AgentSecurity"], HookAnswer]


def json_answer(payload: Mapping[str, Any], stderr: str = "") -> HookAnswer:
    """``payload`` as the JSON line on stdout (exit 0); a payload that cannot be written as JSON (a
    redacted output that is not JSON) blocks instead."""
    try:
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False, default=str)
    except (TypeError, ValueError) as exc:
        return HookAnswer.fail_closed(f"the answer cannot be written as JSON ({exc})")
    return HookAnswer(stdout=text + "\n", stderr=stderr, exit_code=0)


def reason_text(reasons: Iterable[tuple[str, str]]) -> str:
    """``CODE: message; CODE2`` (a reason without a message is its code alone); ``""`` for none."""
    return "; ".join(f"{code}: {message}" if message else code for code, message in reasons)


def answer_event(
    raw: bytes,
    security: AgentSecurity,
    *,
    host: str,
    event_keys: tuple[str, ...],
    handlers: Mapping[str, Handler],
    observed: frozenset[str],
    default: Handler | None = None,
) -> HookAnswer:
    """The answer to one hook call: the input read as a JSON object, its event (the first of
    ``event_keys``) answered by its handler, ``{}`` for an ``observed`` event, ``default`` when the input
    names no event (else a block); an unknown event or any :class:`HookInputError` blocks."""
    try:
        data = load_object(raw)
        event = first_text(data, *event_keys)
        handler = default if event is None else handlers.get(event)
        if handler is None:
            if event is None:
                raise HookInputError(f"no {event_keys[0]} in the hook input")
            if event in observed:
                return json_answer({})
            raise HookInputError(f"event {event!r} is not one agent-security answers (see docs/adapters/{host}.md)")
        return handler(data, security)
    except HookInputError as exc:
        return HookAnswer.fail_closed(f"{host}: {exc}")
