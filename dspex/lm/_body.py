"""The request body and the cache key, as JSON: orjson for plain data, the standard library for everything else.

Why: ``json.dumps`` of a typical chat request (a system prompt and a question, about 700 characters) costs some
55k CPU instructions, as much as a native Predict's whole formatting and parsing; orjson does it in under 5k.
orjson is used only where its output means what ``json.dumps(..., ensure_ascii=False)`` would send: data made of
``str`` (valid UTF-8), ``int``, ``bool``, ``None``, finite ``float``, and lists, tuples and ``str``-keyed dicts of
those (subclasses excluded). Anything else (``NaN``, an ``Enum``, a ``str`` subclass, an ``int`` key, a lone
surrogate) takes the standard library's path and so behaves exactly as before, error or not. The bytes differ only
in whitespace and in how a float is spelled (``1e16`` for ``1e+16``), which no JSON reader can tell apart.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

__all__ = ["dumps_body", "cache_key"]

_MAX_DEPTH = 64


def _load_orjson() -> tuple[Callable[..., bytes] | None, int]:
    try:
        import orjson
    except ImportError:   # an interpreter without an orjson wheel: the standard library serves every call
        return None, 0
    return orjson.dumps, orjson.OPT_SORT_KEYS


_orjson_dumps, _SORT = _load_orjson()


def _plain(value: Any, depth: int = 0) -> bool:
    """True when ``value`` is plain JSON data that orjson writes with the standard library's meaning."""
    t = type(value)
    if t is str or t is bool or value is None:
        return True
    if t is int:
        return -(1 << 63) <= value < (1 << 64)   # orjson's integer range
    if t is float:
        return math.isfinite(value)              # the standard library writes NaN / Infinity; orjson writes null
    if depth >= _MAX_DEPTH:
        return False
    if t is dict:
        for k, v in value.items():
            if type(k) is not str or (type(v) is not str and not _plain(v, depth + 1)):
                return False
        return True
    if t is list or t is tuple:
        for v in value:
            if type(v) is not str and not _plain(v, depth + 1):
                return False
        return True
    return False


def dumps_body(payload: Any) -> bytes:
    """UTF-8 JSON for the request body (``json.dumps(payload, ensure_ascii=False)``'s meaning)."""
    if _orjson_dumps is not None and _plain(payload):
        try:
            return _orjson_dumps(payload)
        except TypeError:   # orjson.JSONEncodeError: a string that is not valid UTF-8 (a lone surrogate)
            pass
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def cache_key(parts: list[Any]) -> str:
    """A stable text key for an LM call's request (sorted keys; ``repr`` for what JSON cannot hold)."""
    if _orjson_dumps is not None and _plain(parts):
        try:
            return _orjson_dumps(parts, option=_SORT).decode("utf-8")
        except TypeError:
            pass
    try:
        return json.dumps(parts, sort_keys=True, default=repr)
    except TypeError:   # keys of mixed types cannot be sorted: their order as given still makes a stable key
        return json.dumps(parts, default=repr)
