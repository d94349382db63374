"""``protect``: a function guarded by the pipeline, before it runs and after it returns.

The wrapper checks the call (its arguments bound to the function's parameter names, or as
``extract_tool_args`` maps them), raises :class:`~agent_security.core.errors.SecurityError` when it is
blocked, runs the function with the arguments the decision was made on, and passes its result, or the
exception it raised, through the result check (:mod:`.results`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from agent_security.core.arguments import InvalidArguments, freeze_json, same_json
from agent_security.core.errors import SecurityError
from agent_security.core.models import CheckResult, Decision, ResultCheck
from agent_security.core.pipeline.check import run_check
from agent_security.core.pipeline.drive import drive_async, drive_sync
from agent_security.core.pipeline.results import run_result_check
from agent_security.core.pipeline.runtime import Runtime

__all__ = ["protect"]

_MISSING = object()  # a key absent from a mapping (None is a value)


def _blocked(tool_name: str, check: CheckResult) -> SecurityError:
    return SecurityError(f"Security policy blocked execution of {tool_name}", check.final_decision, check)


def _rewrite_unsupported(tool_name: str, check: CheckResult, why: str) -> SecurityError:
    return SecurityError(
        f"A plugin rewrote the arguments of {tool_name}, but {why}, so the call is blocked",
        Decision.deny("ARGS_REWRITE_UNSUPPORTED", "Rewritten arguments cannot be applied"),
        check,
    )


def _snapshot(original: dict[str, Any]) -> tuple[Any, frozenset[str]]:
    """The arguments as the check sees them, taken before the check (and any approval wait), and the
    names of those whose copy can stand for the original (plain JSON values)."""
    try:
        frozen = freeze_json(original)
    except InvalidArguments:
        return None, frozenset()  # the check denies these arguments itself
    if not isinstance(frozen, dict):
        return frozen, frozenset()
    return frozen, frozenset(
        name
        for name, value in original.items()
        if type(name) is str and name in frozen and same_json(value, frozen[name])
    )


def _verify_binding(rt: Runtime, check: CheckResult, current_args: dict[str, Any], approved: Any) -> None:
    """After an approval, the arguments about to run must still be the ones the check was asked about
    (``approved``: frozen before the wait). A plugin's rewrite is not a change: it is applied from
    ``check.tool_args`` afterwards."""
    if not check.decision.outcome.approval_like or rt.mode == "observe":
        return
    try:
        current = freeze_json(current_args)
    except InvalidArguments:
        current = None
    if approved is None or current != approved:
        raise SecurityError(
            "The arguments changed after approval",
            Decision.deny("APPROVAL_MISMATCH", "Arguments changed after approval"),
            check,
        )


def _outcome(tool_name: str, check: CheckResult, outcome: ResultCheck) -> Any:
    """What the wrapper returns, or raises, after the result check."""
    if not outcome.allowed:
        reason = "could not be audited" if "AUDIT_FAILURE" in outcome.decision.codes else "was withheld"
        raise SecurityError(f"Output of {tool_name} {reason}", outcome.decision, check)
    if outcome.error is not None:
        raise outcome.error
    return outcome.result


def protect(rt: Runtime, tool_name: str, fn: Callable[..., Any], options: dict[str, Any]) -> Callable[..., Any]:
    """``fn`` guarded by the pipeline (see :meth:`AgentSecurity.protect`)."""
    extract = options.pop("extract_tool_args", None)
    options.setdefault("agent_id", "protected-function")
    signature = inspect.signature(fn)

    def args_of(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if extract is not None:
            return dict(extract(*args, **kwargs))
        return dict(signature.bind(*args, **kwargs).arguments)

    def call_args(
        check: CheckResult, args: tuple[Any, ...], kwargs: dict[str, Any], frozen: Any, exact: frozenset[str]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The arguments ``fn`` runs with: the values the decision was made on (``check.tool_args``, a
        private copy nobody else holds), except where that copy cannot stand for the original (a tuple,
        bytes, a ``Path``, any non-JSON object: the original is passed, as it was checked in its JSON
        form)."""
        checked = check.tool_args
        if extract is not None:
            if frozen != checked:
                raise _rewrite_unsupported(tool_name, check, "with extract_tool_args they cannot be mapped back")
            return args, kwargs
        bound = signature.bind(*args, **kwargs)
        parameters = signature.parameters
        if any(name not in parameters for name in checked):
            raise _rewrite_unsupported(tool_name, check, f"it added arguments {tool_name} does not take")
        for name in list(bound.arguments):
            if name not in checked:  # removed by a plugin (DLP): the parameter's default, if it has one
                param = parameters[name]
                if param.default is param.empty and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                    raise _rewrite_unsupported(tool_name, check, f"it removed the required argument {name!r}")
                del bound.arguments[name]
                continue
            rewritten = not isinstance(frozen, dict) or frozen.get(name, _MISSING) != checked[name]
            if rewritten or name in exact:
                bound.arguments[name] = checked[name]
        for name in checked:
            if name not in bound.arguments:  # added by a plugin for a parameter the caller left out
                bound.arguments[name] = checked[name]
        return bound.args, bound.kwargs

    def prepared(
        check: CheckResult, args: tuple[Any, ...], kwargs: dict[str, Any], frozen: Any, exact: frozenset[str]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if not check.allowed:
            raise _blocked(tool_name, check)
        _verify_binding(rt, check, args_of(*args, **kwargs), frozen)
        return call_args(check, args, kwargs, frozen, exact)

    def after(check: CheckResult, result: Any, error: BaseException | None) -> Any:
        return run_result_check(rt, check.request, check.final_decision, check.request_hash, result, error)

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            original = args_of(*args, **kwargs)
            frozen, exact = _snapshot(original)
            check = await drive_async(run_check(rt, {"tool_name": tool_name, "tool_args": original, **options}))
            cargs, ckwargs = prepared(check, args, kwargs, frozen, exact)
            try:
                result = await fn(*cargs, **ckwargs)
            except Exception as exc:
                failure: Exception | None = exc
                result = None
            else:
                failure = None
            try:  # outside the except block: what is raised now is not chained to the tool's exception
                return _outcome(tool_name, check, await drive_async(after(check, result, failure)))
            finally:
                del failure

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        original = args_of(*args, **kwargs)
        frozen, exact = _snapshot(original)
        check = drive_sync(run_check(rt, {"tool_name": tool_name, "tool_args": original, **options}))
        cargs, ckwargs = prepared(check, args, kwargs, frozen, exact)
        try:
            result = fn(*cargs, **ckwargs)
        except Exception as exc:
            failure: Exception | None = exc
            result = None
        else:
            failure = None
        try:  # outside the except block: what is raised now is not chained to the tool's exception
            return _outcome(tool_name, check, drive_sync(after(check, result, failure)))
        finally:
            del failure

    return wrapper
