"""JSON-like YAML for policy bundles, test-case files and config files: one pass over the parser's events.

The text is parsed by libyaml (PyYAML's C parser, the one behind ``yaml.CSafeLoader``) when PyYAML was
built with it, else by PyYAML's pure-Python parser; both produce the same event stream, and the values
are built from those events here, so the two give the same data and the same errors.

What is accepted is the JSON data model written as YAML:

* mappings with string keys (a key given twice is an error: PyYAML would keep the last one silently),
  sequences, and scalars resolved as YAML 1.2's core schema: ``null``/``~``/empty, ``true``/``false``
  (so ``country: NO`` and ``flag: yes`` stay strings), integers without leading zeros (``0022`` and
  ``23:30`` stay strings), ``0o`` octal, ``0x`` hex, decimal floats; timestamps stay strings;
* explicit tags only for those types (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``,
  ``!!map``, ``!!seq``): any other tag (``!!binary``, ``!!set``, ``!!python/...``, local ``!tags``) is an
  error, never an object;
* no aliases (a few lines of anchors can expand to millions of values), no ``<<`` merge (a plain key),
  one document, at most :data:`MAX_DEPTH` levels of nesting and :data:`MAX_NODES` values, finite numbers.

Resolving and building the values here rather than through PyYAML's resolver and constructor classes
keeps a 1,000-rule bundle within the policy load budget (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from agent_security.core.errors import PolicyLoadError
from agent_security.core.policy.limits import MAX_DEPTH, MAX_NODES

_CParser: Any
try:  # PyYAML built with libyaml (the manylinux, macOS and Windows wheels are)
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - a PyYAML without its C extension
    _CParser = None

__all__ = ["LIBYAML", "MAX_DEPTH", "MAX_NODES", "read_yaml"]

LIBYAML: bool = _CParser is not None
"""Whether YAML is parsed by libyaml (else by PyYAML's pure-Python parser, about 20 times slower)."""

# YAML 1.2 core schema numbers, JSON-like: PyYAML's YAML 1.1 rules read 0022 as octal 18, 23:30 as
# sexagesimal 1410 and 1_000 as 1000. Here a decimal integer has no leading zero (0022 and 02134 stay
# strings), octal is written 0o..., hex 0x..., and there are no underscores or sexagesimals.
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"(?=[^eE]*[.eE])[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_NUMBER_START = frozenset("-+.0123456789")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_PLAIN_WORDS: dict[str, Any] = {**dict.fromkeys(_NULLS), **_BOOLS}

_TAG = "tag:yaml.org,2002:"
_STR, _INT_TAG, _FLOAT_TAG, _BOOL_TAG, _NULL_TAG = (f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null"))
_MAP_TAGS = frozenset({None, "!", f"{_TAG}map"})
_SEQ_TAGS = frozenset({None, "!", f"{_TAG}seq"})


class _Invalid(Exception):
    """A value the document may not hold; the reader turns it into a :class:`PolicyLoadError`."""

    def __init__(self, message: str, event: Any) -> None:
        mark = getattr(event, "start_mark", None)
        if mark is not None:
            message = f"{message} (line {mark.line + 1}, column {mark.column + 1})"
        super().__init__(message)


class _PureParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python reader, scanner and parser: the event stream without a composer."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _integer(text: str, event: Any) -> int:
    if not _INT.fullmatch(text):
        raise _Invalid(f"{text!r} is not a YAML 1.2 integer (decimal without leading zeros, 0o octal or 0x hex)", event)
    try:
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise _Invalid(f"integer of {len(text)} characters is too long", event) from None


def _float(text: str, event: Any) -> float:
    if not _FLOAT.fullmatch(text):
        raise _Invalid(f"{text!r} is not a YAML 1.2 number", event)
    value = float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
    if not math.isfinite(value):
        raise _Invalid(f"{text!r} is a non-finite number, which is not JSON", event)
    return value


def _plain(text: str, event: Any) -> Any:
    """An untagged plain scalar, resolved as YAML 1.2's core schema."""
    if text in _PLAIN_WORDS:
        return _PLAIN_WORDS[text]
    if text[0] in _NUMBER_START:
        if _INT.fullmatch(text):
            return _integer(text, event)
        if _FLOAT.fullmatch(text):
            return _float(text, event)
    return text


def _tagged(tag: str, text: str, event: Any) -> Any:
    if tag == _STR or tag == "!":
        return text
    if tag == _INT_TAG:
        return _integer(text, event)
    if tag == _FLOAT_TAG:
        return _float(text, event) if not _INT.fullmatch(text) else float(_integer(text, event))
    if tag == _BOOL_TAG and text in _BOOLS:
        return _BOOLS[text]
    if tag == _NULL_TAG and text in _NULLS:
        return None
    if tag in (_BOOL_TAG, _NULL_TAG):
        raise _Invalid(f"{text!r} is not a valid {_tag_name(tag)} value", event)
    raise _Invalid(
        f"the tag {_tag_name(tag)} makes a value that is not JSON; only !!str, !!int, !!float, "
        "!!bool, !!null, !!map and !!seq are allowed",
        event,
    )


def _scalar(event: Any) -> Any:
    text = event.value
    if event.tag is not None:
        return _tagged(event.tag, text, event)
    if event.implicit[0] and (text in _PLAIN_WORDS or text[0] in _NUMBER_START):  # "" is a plain word
        return _plain(text, event)
    return text  # quoted, or plain and not a null, boolean or number


# where the next value goes
_ROOT, _ITEM, _KEY, _VALUE = range(4)


def _build(parser: Any, what: str, max_depth: int, max_nodes: int) -> Any:
    get = parser.get_event
    event = get()
    if not isinstance(event, StreamStartEvent):  # pragma: no cover - both parsers start with it
        raise _Invalid("not a YAML stream", event)
    event = get()
    if isinstance(event, StreamEndEvent):
        return None
    if not isinstance(event, DocumentStartEvent):  # pragma: no cover
        raise _Invalid("expected a document", event)
    root: Any = None
    current: Any = None  # the open collection: a dict or a list
    key: str = ""  # in a mapping, the key whose value comes next
    mode = _ROOT
    stack: list[tuple[Any, str, int]] = []  # the enclosing collections, and where to go on in each
    nodes = 0
    while True:
        event = get()
        kind = type(event)
        if kind is ScalarEvent:
            value = _scalar(event)
            if mode == _KEY:
                if type(value) is not str:
                    raise _Invalid(f"{what} mapping keys must be strings, got {type(value).__name__}", event)
                if value in current:
                    raise _Invalid(f"duplicate key {value!r}", event)
                key, mode = value, _VALUE
                continue
            nodes += 1
            if nodes > max_nodes:
                raise _Invalid(f"{what} has more than {max_nodes} values", event)
            if mode == _VALUE:
                current[key] = value
                mode = _KEY
            elif mode == _ITEM:
                current.append(value)
            else:
                root = value
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            is_map = kind is MappingStartEvent
            if event.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
                raise _Invalid(
                    f"the tag {_tag_name(event.tag)} makes a value that is not JSON; only !!str, "
                    "!!int, !!float, !!bool, !!null, !!map and !!seq are allowed",
                    event,
                )
            if mode == _KEY:
                raise _Invalid(f"{what} mapping keys must be strings, got a collection", event)
            if len(stack) >= max_depth:
                raise _Invalid(f"{what} YAML exceeds maximum object depth of {max_depth}", event)
            nodes += 1
            if nodes > max_nodes:
                raise _Invalid(f"{what} has more than {max_nodes} values", event)
            collection: Any = {} if is_map else []
            if mode == _VALUE:
                current[key] = collection
                stack.append((current, key, _KEY))
            elif mode == _ITEM:
                current.append(collection)
                stack.append((current, key, _ITEM))
            else:
                root = collection
                stack.append((None, key, _ROOT))
            current, mode = collection, (_KEY if is_map else _ITEM)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            current, key, mode = stack.pop()
        elif kind is DocumentEndEvent:
            break
        elif kind is AliasEvent:
            raise _Invalid(f"{what} YAML uses an alias (*name); aliases are not allowed", event)
        else:  # pragma: no cover - the parser emits nothing else inside a document
            raise _Invalid(f"unexpected YAML event {kind.__name__}", event)
    event = get()
    if not isinstance(event, StreamEndEvent):
        raise _Invalid(f"{what} YAML holds more than one document", event)
    return root


def read_yaml(
    text: str,
    *,
    source: str = "<string>",
    what: str = "PolicyBundle",
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    libyaml: bool | None = None,
) -> Any:
    """The JSON-like value of a one-document YAML text (``None`` for an empty document).

    ``libyaml``: ``None`` uses libyaml when PyYAML has it; ``False`` forces the pure-Python parser
    (``True`` requires libyaml). Raises :class:`PolicyLoadError` naming ``what`` and ``source``, with the
    line and column of the offending value.
    """
    use_c = LIBYAML if libyaml is None else libyaml
    if use_c and _CParser is None:
        raise RuntimeError("PyYAML was built without libyaml")
    parser: Any = None
    try:
        parser = _CParser(text) if use_c else _PureParser(text)  # the pure reader checks characters here
        return _build(parser, what, max_depth, max_nodes)
    except _Invalid as exc:
        message = str(exc)
        if not message.startswith(what):
            message = f"{what} YAML parse error: {message}"
        raise PolicyLoadError(message, source=source) from None
    except yaml.YAMLError as exc:
        raise PolicyLoadError(f"{what} YAML parse error: {exc}", source=source) from None
    finally:
        if parser is not None:
            parser.dispose()
