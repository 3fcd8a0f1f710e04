"""Render input and demo values into prompt text exactly as DSPy 3.4.1's ``format_field_value`` does.

DSPy sends every value through ``pydantic.TypeAdapter(type(value)).dump_python(mode="json", fallback=str)`` and
then ``json.dumps`` (dicts, lists) or ``str`` (everything else). Building a TypeAdapter per value is most of
DSPy's formatting cost, so values whose rendering is provably the same without pydantic (plain strings,
ints, bools, None, top-level floats, and containers of those with finite floats and string keys) take a fast
path; everything else goes through pydantic, imported on first need.
"""

from __future__ import annotations

import json
import math
import weakref
from typing import Any

from ._encode import plain_dumps

__all__ = ["format_field_value", "serialize_for_json", "format_blob", "format_input_list", "to_json_text",
           "is_plain_json"]

_MAX_FAST_DEPTH = 32
# json.dumps(x, ensure_ascii=False) builds a new encoder per call; one shared encoder gives the same text.
_dumps = json.JSONEncoder(ensure_ascii=False).encode
_NO_ADAPTER = object()  # cached marker: pydantic cannot build a TypeAdapter for this type
_adapters: "weakref.WeakKeyDictionary[type, Any]" = weakref.WeakKeyDictionary()


def _is_plain_json(value: Any, depth: int = 0) -> bool:
    """True when pydantic's JSON-mode dump would return ``value`` unchanged (checked against pydantic 2.14)."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return True
    if t is float:
        return math.isfinite(value)  # nested inf/nan become None in pydantic's JSON mode
    if depth >= _MAX_FAST_DEPTH:
        return False
    # Plain loops, not all(generator), and strings / ints / bools / None checked in place (no call for each):
    # agents render every earlier turn's values again on each turn.
    if t is list:
        for v in value:
            tv = type(v)
            if tv is not str and tv is not int and tv is not bool and v is not None \
                    and not _is_plain_json(v, depth + 1):
                return False
        return True
    if t is dict:
        for k, v in value.items():
            if type(k) is not str or not (k.isascii() or _plain_key(k)):
                return False
            tv = type(v)
            if tv is not str and tv is not int and tv is not bool and v is not None \
                    and not _is_plain_json(v, depth + 1):
                return False
        return True
    return False


def _plain_key(key: str) -> bool:
    """pydantic cannot dump a key holding a lone surrogate (``json.loads('{"\\ud800": 1}')`` makes one): it raises,
    and DSPy then renders the whole value with ``str()``. Such a dict is not plain."""
    if key.isascii():
        return True
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


is_plain_json = _is_plain_json


def _type_adapter(t: type) -> Any:
    try:
        adapter = _adapters.get(t)
    except TypeError:  # not weak-referenceable
        adapter = None
    if adapter is None:
        from pydantic import TypeAdapter

        try:
            adapter = TypeAdapter(t)
        except Exception:
            adapter = _NO_ADAPTER
        try:
            _adapters[t] = adapter
        except TypeError:
            pass
    return adapter


def _native_tools(value: Any) -> bool:
    """A list of dspex Tools (an agent's ``tools`` input): pydantic would dump each with its ``str`` fallback."""
    return type(value) is list and bool(value) and all(
        type(v).__name__ == "Tool" and type(v).__module__ == "dspex.types._tool" for v in value
    )


def serialize_for_json(value: Any) -> Any:
    """DSPy's ``serialize_for_json``: a JSON-compatible form of ``value``, or ``str(value)`` if pydantic can't."""
    if _is_plain_json(value):
        return value
    if _native_tools(value):
        return [str(v) for v in value]
    if type(value).__name__ == "Reasoning" and type(value).__module__ == "dspex.types._history":
        return value.content  # what its serializer (``format()``) gives
    adapter = _type_adapter(type(value))
    if adapter is _NO_ADAPTER:
        return str(value)
    try:
        return adapter.dump_python(value, mode="json", fallback=str)
    except Exception:
        return str(value)


def to_json_text(value: Any, indent: int | None = None) -> str:
    """``json.dumps(serialize_for_json(value), ensure_ascii=False)``, DSPy's rendering of structured values."""
    if indent is None:
        return _dumps(serialize_for_json(value))
    return json.dumps(serialize_for_json(value), indent=indent, ensure_ascii=False)


def format_blob(blob: Any) -> str:
    """One item of a list given to a ``str`` field; non-strings fail (or not) exactly as DSPy's code does."""
    if "\n" not in blob and "«" not in blob and "»" not in blob:
        return f"«{blob}»"
    modified = blob.replace("\n", "\n    ")
    return f"«««\n    {modified}\n»»»"


def format_input_list(value: list[Any]) -> str:
    if len(value) == 0:
        return "N/A"
    if len(value) == 1:
        return format_blob(value[0])
    return "\n".join([f"[{i + 1}] {format_blob(item)}" for i, item in enumerate(value)])


def format_field_value(annotation_is_str: bool, value: Any) -> str:
    """The text DSPy puts under a field header for ``value``.

    ``annotation_is_str`` is ``field.annotation is str``, decided once per signature by the caller.
    """
    t = type(value)
    if t is str:
        return value
    if t is list and annotation_is_str:
        return format_input_list(value)
    if t is int or t is bool or t is float or value is None:
        # pydantic returns these unchanged at top level (inf and nan included): DSPy then calls str().
        return str(value)
    if isinstance(value, list) and annotation_is_str:
        return format_input_list(value)
    if (t is list or t is dict) and _is_plain_json(value):   # pydantic dumps it unchanged: JSON as it is
        return plain_dumps(value)
    if t is list and _native_tools(value):  # an agent's tools: serialize_for_json gives their str()s
        return plain_dumps([str(v) for v in value])
    if t.__name__ == "Reasoning" and t.__module__ == "dspex.types._history" and type(value.content) is str:
        return value.content  # serialize_for_json gives its text, a str: rendered as itself
    jsonable = serialize_for_json(value)
    if isinstance(jsonable, (dict, list)):
        return _dumps(jsonable)
    return str(jsonable)
