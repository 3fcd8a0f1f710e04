"""Turn an LM's text for one output field into a Python value, as DSPy 3.4.1's ``parse_value`` does.

Errors must be DSPy's errors, message for message, so every non-trivial validation goes through pydantic's
``TypeAdapter`` (imported on first need and cached per annotation). The fast paths are the ones whose result
is provably pydantic's: ``str`` fields (no parsing at all), ``json.loads`` before ``json_repair`` (json_repair
0.64's ``loads`` returns ``json.loads``'s result whenever that succeeds), and exact ``int``/``float``/``bool``
values for those same annotations (pydantic's lax validators return them unchanged).
"""

from __future__ import annotations

import ast
import enum
import functools
import json
import types
from typing import Any, Callable, Literal, Union, get_args, get_origin

from ..signature import annotation_allows_none
from ..types import is_type_class  # stdlib only; bound here: parse_value asks on every parse of a Type field

__all__ = [
    "parse_value",
    "find_enum_member",
    "annotation_allows_none",
    "type_adapter",
    "loads_like_json_repair",
    "text_parser",
]

_adapters: dict[int, tuple[Any, Any]] = {}
_MAX_ADAPTERS = 2048
_EXACT = (int, float, bool)


def type_adapter(annotation: Any) -> Any:
    """A cached ``pydantic.TypeAdapter(annotation)``, keyed on the annotation's identity.

    Not on equality: typing says ``Union[int, str] == Union[str, int]`` and ``Literal['a', 'b'] ==
    Literal['b', 'a']``, yet pydantic's error messages list the members in order. The entry keeps the
    annotation alive so its id cannot be reused; the cache is cleared if signatures keep minting new types.
    """
    entry = _adapters.get(id(annotation))
    if entry is not None and entry[0] is annotation:
        return entry[1]
    from pydantic import TypeAdapter

    adapter = TypeAdapter(annotation)
    if len(_adapters) >= _MAX_ADAPTERS:
        _adapters.clear()
    _adapters[id(annotation)] = (annotation, adapter)
    return adapter


def loads_like_json_repair(text: str) -> Any:
    """``json_repair.loads(text)``, skipping the json_repair import when the text is valid JSON. When it is not,
    json_repair is told so (``skip_json_loads``: that flag only skips its own first ``json.loads`` of the whole
    text, which would fail again the same way)."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError, ValueError):
        import json_repair

        return json_repair.loads(text, skip_json_loads=True)




def find_enum_member(enum_cls: Any, identifier: Any) -> Any:
    """By value first (explicitly-valued enums), then by name (auto-valued ones)."""
    for member in enum_cls:
        if member.value == identifier:
            return member
    if identifier in enum_cls.__members__:
        return enum_cls[identifier]
    raise ValueError(f"{identifier} is not a valid name or value for the enum {enum_cls.__name__}")


def _clean_literal(value: Any, allowed: tuple[Any, ...]) -> tuple[bool, Any]:
    """DSPy's forgiving Literal match: strip, unwrap ``Literal[...]``/``str[...]`` and one pair of quotes."""
    if value in allowed:
        return True, value
    if isinstance(value, str):
        v = value.strip()
        if v.startswith(("Literal[", "str[")) and v.endswith("]"):
            v = v[v.find("[") + 1 : -1]
        if len(v) > 1 and v[0] == v[-1] and v[0] in "\"'":
            v = v[1:-1]
        if v in allowed:
            return True, v
        return False, v
    return False, value


def parse_value(value: Any, annotation: Any) -> Any:
    """One field's value (text from ChatAdapter, any JSON value from JSONAdapter) as ``annotation``."""
    if annotation is str:
        return str(value)
    if isinstance(annotation, enum.EnumMeta):
        return find_enum_member(annotation, value)
    origin = get_origin(annotation)
    if origin is Literal:
        done, value = _clean_literal(value, get_args(annotation))
        if done:
            return value
    # Validation is called inline (not through a helper) here and below: an agent shows the LM the traceback of a
    # parse failure, five frames deep from the adapter's parse, and pydantic's frame must fall within them as in DSPy.
    if not isinstance(value, str):
        if annotation in _EXACT and type(value) is annotation:
            return value
        return type_adapter(annotation).validate_python(value)
    if origin in (Union, types.UnionType):
        args = get_args(annotation)
        if type(None) in args and str in args:
            return type_adapter(annotation).validate_python(value)
    candidate = loads_like_json_repair(value)  # "" when repair found nothing
    if candidate == "" and value != "":
        try:
            candidate = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            candidate = value
    if is_type_class(annotation):  # a dspy.Type (or dspex.types.Type) may parse its own text (Reasoning does)
        import pydantic

        adapter = type_adapter(annotation)
        try:
            return adapter.validate_python(candidate)
        except pydantic.ValidationError as e:
            try:
                return adapter.validate_python(value)
            except pydantic.ValidationError:
                raise e
    if annotation in _EXACT and type(candidate) is annotation:
        return candidate
    return type_adapter(annotation).validate_python(candidate)


_JSONISH = frozenset('{}[]()"\':`\\')


def _reasoning_parser(annotation: Any, general: Callable[[str], Any]) -> Callable[[str], Any]:
    """Reasoning from plain prose: no bracket, parenthesis, quote, colon, backslash or backtick means neither JSON,
    json_repair nor a Python literal can read a *string* out of it (a number or a constant they read is refused by
    Reasoning, which then takes the text), so every route of ``parse_value`` ends in ``Reasoning(content=text)``;
    anything else takes the general route (and its errors). (json_repair reads "(0A" as the string "0A".)"""
    def parse(text: str) -> Any:
        if type(text) is str and _JSONISH.isdisjoint(text):
            return annotation(content=text)
        return general(text)

    return parse


def _is_reasoning(annotation: Any) -> bool:
    from ..types import is_reasoning

    return is_reasoning(annotation)


def text_parser(annotation: Any) -> Callable[[str], Any] | None:
    """A parser equal to ``parse_value(text, annotation)`` for LM text, specialised once per field.

    ``None`` for ``str`` fields (the text is the value). For ``int``/``float``/``bool``, valid JSON of exactly
    that type is the answer pydantic would give; anything else takes the general path.
    """
    if annotation is str:
        return None
    direct = functools.partial(parse_value, annotation=annotation)  # a C-level call: no frame in a traceback
    if is_type_class(annotation):  # Type values are not memoised
        return _reasoning_parser(annotation, direct) if _is_reasoning(annotation) else direct
    if annotation in _EXACT:

        def exact(text: str) -> Any:
            try:
                candidate = json.loads(text)
            except ValueError:
                return parse_value(text, annotation)
            return candidate if type(candidate) is annotation else parse_value(text, annotation)

        return _memoised(exact)
    return _memoised(direct)


_IMMUTABLE = (str, int, float, bool, type(None))
_MEMO_SIZE = 512      # per field parser; cleared when full
_MEMO_MAX_TEXT = 256  # longer texts are rarely repeated: not worth keeping
_MISS: Any = object()


def _memoised(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Remember immutable results per text: LM answers for bool, Literal, Enum and small ints repeat a lot,
    and the general path (json, json_repair, ast, pydantic) costs tens of microseconds. ``parse_value`` is a
    pure function of (text, annotation), so a remembered result is exactly what a fresh parse returns; failures
    and mutable results (lists, dicts, models) are never remembered.

    A ``str`` result is remembered only when it is the text itself (a Literal answer given as is), and the hit
    returns the text passed in, not the one remembered: DSPy returns the answer's own string object, and object
    identity shows in a pickle (pickle writes a string seen twice once), so in ``Hasher.hash`` of a trace's demos,
    with which BootstrapFewShot picks among a predictor's demos."""
    memo: dict[str, Any] = {}

    def parse_memo(text: str) -> Any:
        hit = memo.get(text, _MISS) if type(text) is str else _MISS
        if hit is not _MISS:
            return text if type(hit) is str else hit
        result = parse(text)
        if (type(result) in _IMMUTABLE or isinstance(result, enum.Enum)) and type(text) is str \
                and len(text) <= _MEMO_MAX_TEXT and (type(result) is not str or result is text):
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[text] = result
        return result

    return parse_memo
