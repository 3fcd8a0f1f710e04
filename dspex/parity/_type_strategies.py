"""Hypothesis strategies for field types (annotations) and for values of those types, including nasty text.

Enum and pydantic model classes are generated fresh, so each example can carry its own user types.
"""

from __future__ import annotations

import copy
import datetime
import enum
import functools
import keyword
import math
import typing
import unicodedata
from typing import Any, Literal, Optional, Union, get_args, get_origin

from hypothesis import strategies as st

from ._exotic import Color, exotic_values

__all__ = [
    "NASTY_STRINGS",
    "texts",
    "identifiers",
    "type_names",
    "enum_types",
    "model_types",
    "annotations",
    "values_of",
    "odd_values",
    "custom_types_in",
]

NASTY_STRINGS = [
    "", " ", "  padded  ", "\n", "line one\nline two", "trailing spaces   ", "\ttab", "«guillemets»", "«««", "»»»",
    "[[ ## answer ## ]]", "[[ ## completed ## ]]", "Not supplied for this particular example.", "None", "null",
    "True", "false", "0", "-0.0", "1e-9", "nan", "inf", "[1, 2]", '{"a": 1}', "{", "ünïcødé", "名前", "emoji 🎉",
    "zero\u200bwidth", "carriage\r\nreturn", "# note: sneaky", "${answer}", "```json\n{}\n```", "\\n", "'quoted'",
]

_RESERVED_NAMES = {
    "instructions", "signature", "fields", "input_fields", "output_fields", "with_instructions", "append_instructions",
    "with_updated_fields", "prepend", "append", "insert", "delete", "equals", "dump_state", "load_state",
    "model_fields", "model_config", "schema", "json", "dict", "copy", "construct", "validate", "parse_obj",
    "parse_raw", "parse_file", "from_orm", "update_forward_refs", "schema_json",
    # call keywords of the modules: a field with these names cannot be passed as an input by keyword
    "lm", "config", "demos", "new_signature", "prediction", "completed",
}


def _usable_name(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and not name.startswith("model_")
        and name not in _RESERVED_NAMES
        and unicodedata.normalize("NFKC", name) == name
    )


texts = st.one_of(
    st.sampled_from(NASTY_STRINGS),
    st.text(max_size=20),
    st.text(alphabet=st.sampled_from("ab «»\n []#:{}\"'\\é名 \t"), max_size=25),
    st.lists(st.sampled_from(NASTY_STRINGS), min_size=2, max_size=3).map("".join),
)

identifiers = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True),
    st.from_regex(r"[a-z]+[A-Z][a-zA-Z0-9]{0,6}", fullmatch=True),  # camelCase
    st.sampled_from(["question", "answer", "context", "q", "a", "reasoning", "text", "logprobs", "n", "x1", "größe",
                     "名前", "ñame", "réponse", "Answer", "ANSWER", "tempérture", "value_2", "a1b2"]),
    st.text(st.characters(categories=("Ll", "Lu", "Lo")), min_size=1, max_size=6),
).filter(_usable_name)

type_names = st.from_regex(r"[A-Z][a-z]{2,7}", fullmatch=True)


@st.composite
def enum_types(draw: Any) -> type[enum.Enum]:
    """str-, int- and auto-valued Enums (plus a ``str`` mixin), with unique values so there are no aliases."""
    kind = draw(st.sampled_from(["str", "int", "auto", "str_mixin", "int_enum"]))
    names = draw(st.lists(st.from_regex(r"[A-Z][A-Z0-9_]{0,6}", fullmatch=True), min_size=1, max_size=4, unique=True))
    cls_name = draw(type_names)
    if kind == "auto":
        return enum.Enum(cls_name, names)  # type: ignore[return-value]
    if kind in ("int", "int_enum"):
        values = draw(st.lists(st.integers(-5, 100), min_size=len(names), max_size=len(names), unique=True))
    else:
        values = draw(st.lists(st.sampled_from(["red", "Green", "blue sky", "ü", "yes", "no", "1", "N/A", "None",
                                                "light-blue", "UPPER", "x y", ""]) | st.text(min_size=1, max_size=6),
                               min_size=len(names), max_size=len(names), unique=True))
    members = dict(zip(names, values))
    if kind == "int_enum":
        return enum.IntEnum(cls_name, members)  # type: ignore[return-value]
    if kind == "str_mixin":
        return enum.Enum(cls_name, members, type=str)  # type: ignore[return-value]
    return enum.Enum(cls_name, members)  # type: ignore[return-value]


_model_field_names = st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True).filter(_usable_name)


@st.composite
def model_types(draw: Any, depth: int = 1) -> type:
    """Pydantic models, nested up to ``depth``, some fields with defaults."""
    import pydantic

    names = draw(st.lists(_model_field_names, min_size=1, max_size=4, unique=True))
    fields: dict[str, Any] = {}
    for name in names:
        tp = draw(annotations(depth=depth - 1, custom=depth > 0))
        default = draw(values_of(tp)) if draw(st.integers(0, 3)) == 0 else ...
        if draw(st.integers(0, 3)) == 0:
            desc = draw(st.sampled_from(["The item's name.", "ü «x»", "multi\nline", ""]))
            fields[name] = (tp, pydantic.Field(default, description=desc))
        else:
            fields[name] = (tp, default)
    return pydantic.create_model(draw(type_names), **fields)


_literal_values = st.one_of(
    st.sampled_from(["yes", "no", "maybe", "A", "b c", "ü", "", "True", "1"]),
    st.integers(-3, 10),
    st.booleans(),
)
_rare_literal_values = st.sampled_from([None, "None", "null", 0, "0"])

_scalars = st.sampled_from([str, int, float, bool])
_rare_types = st.sampled_from([typing.Any, list, dict, tuple, set[int], frozenset[str], type(None), Optional[str],
                               str | int, list[Any], dict[str, Any], typing.List[int], typing.Dict[str, str],
                               datetime.datetime, datetime.date, datetime.time, Optional[datetime.date],
                               list[datetime.datetime]])
_timezones = st.sampled_from([None, None, datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=-5))])


@st.composite
def literal_types(draw: Any) -> Any:
    pool = _literal_values if draw(st.integers(0, 4)) else st.one_of(_literal_values, _rare_literal_values,
                                                                       st.sampled_from(list(Color)))
    values = draw(st.lists(pool, min_size=1, max_size=4, unique_by=lambda v: (type(v), v)))
    return Literal[tuple(values)]  # type: ignore[valid-type]


@functools.lru_cache(maxsize=None)
def annotations(depth: int = 2, custom: bool = True) -> st.SearchStrategy[Any]:
    """Supported field types: scalars, Literal, Enum, models, and generics over them up to ``depth``.

    Built once per argument pair: Hypothesis validates every new strategy object it draws from, and rebuilding
    this tree for each field was most of what generating a gate case cost."""
    leaves = [_scalars, _scalars, literal_types(), _rare_types]
    if custom:
        leaves += [enum_types(), model_types(depth=max(depth - 1, 0))]
    leaf = st.one_of(*leaves)
    if depth <= 0:
        return leaf
    inner = annotations(depth - 1, custom)
    return st.one_of(
        leaf,
        leaf,
        leaf,
        _scalars.map(lambda t: list[t]),  # type: ignore[valid-type]
        inner.map(lambda t: list[t]),  # type: ignore[valid-type]
        inner.map(lambda t: dict[str, t]),  # type: ignore[valid-type]
        st.tuples(inner, inner).map(lambda ts: tuple[ts[0], ts[1]]),  # type: ignore[valid-type]
        inner.map(lambda t: tuple[t, ...]),  # type: ignore[valid-type]
        inner.map(lambda t: Optional[t]),
        inner.map(lambda t: t | None if isinstance(t, type) else Optional[t]),
        st.tuples(_scalars, _scalars).filter(lambda ts: ts[0] is not ts[1]).map(lambda ts: Union[ts[0], ts[1]]),
    )


def custom_types_in(annotation: Any) -> list[type]:
    """The Enum and model classes an annotation mentions (for string signatures, which name them)."""
    found: list[type] = []
    if isinstance(annotation, type) and (issubclass(annotation, enum.Enum) or hasattr(annotation, "model_fields")):
        found.append(annotation)
    if isinstance(annotation, enum.Enum):  # a Literal member
        found.append(type(annotation))
    for arg in get_args(annotation):
        found.extend(custom_types_in(arg))
    return found


# A fresh object per draw: the strategy is reused across cases, and a side that mutated a shared dict or list
# would leak into later cases.
_EXOTIC = st.sampled_from(exotic_values()).map(copy.deepcopy)

_floats = st.one_of(
    st.sampled_from([1e-9, -0.0, 0.0, 1e20, 0.1, 3.0, -2.5, math.inf, -math.inf, math.nan, 1e300, 2.5e-7]),
    st.floats(allow_nan=True, allow_infinity=True),
)
_ints = st.one_of(st.integers(-1000, 1000), st.integers(), st.sampled_from([0, -1, 2**63, 10**30, -(2**64)]))


def values_of(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that match ``tp`` (one strategy object per type, reused: see ``annotations``)."""
    try:
        return _values_of(tp, depth)
    except TypeError:   # an unhashable annotation: built afresh
        return _values_of.__wrapped__(tp, depth)


@functools.lru_cache(maxsize=4096)
def _values_of(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    origin, args = get_origin(tp), get_args(tp)
    if tp is str or tp is None:
        return texts
    if tp is bool:
        return st.booleans()
    if tp is int:
        return _ints
    if tp is float:
        return _floats
    if tp is type(None):
        return st.none()
    if tp is datetime.datetime:
        return st.datetimes(timezones=_timezones)
    if tp is datetime.date:
        return st.dates()
    if tp is datetime.time:
        return st.times(timezones=_timezones)
    if tp is typing.Any:
        return odd_values(depth + 1)
    if origin is Literal:
        return st.sampled_from(args)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if isinstance(tp, type) and hasattr(tp, "model_fields"):
        kwargs = {name: values_of(f.annotation, depth + 1) for name, f in tp.model_fields.items()}
        return st.fixed_dictionaries(kwargs).map(lambda kw: tp(**kw))
    if origin is list:
        return st.lists(values_of(args[0], depth + 1), max_size=3)
    if origin is dict:
        return st.dictionaries(texts, values_of(args[1], depth + 1), max_size=3)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(values_of(args[0], depth + 1), max_size=3).map(tuple)
        return st.tuples(*(values_of(a, depth + 1) for a in args))
    if origin in (set, frozenset):
        inner = values_of(args[0], depth + 1) if args else st.one_of(st.integers(-5, 5), st.text(max_size=3))
        return st.sets(inner, max_size=3).map(origin)
    if tp in (list, tuple, set, frozenset):
        leaf = st.one_of(texts, st.integers(-9, 9), st.booleans(), st.none())
        return st.lists(leaf, max_size=3) if tp is list else st.sets(st.integers(-9, 9), max_size=3).map(tp)
    if tp is dict:
        return st.dictionaries(texts, st.one_of(texts, st.integers(-9, 9), st.none()), max_size=3)
    if origin is Union or origin is __import__("types").UnionType:
        return st.one_of(*(values_of(a, depth + 1) for a in args))
    return odd_values(depth + 1)


@functools.lru_cache(maxsize=None)
def odd_values(depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of the wrong type for a field: None, lists, nested dicts, sets, tuples, Enums, models, numbers,
    and exotic objects (datetimes, Decimals, bytes, dataclasses, str/int subclasses, objects with no schema)."""
    leaf = st.one_of(st.none(), texts, _ints, _floats, st.booleans(), st.sampled_from(list(Color)),
                     _EXOTIC)
    if depth > 2:
        return leaf
    nested = odd_values(depth + 1)
    return st.one_of(
        leaf,
        st.lists(texts, max_size=4),
        st.lists(nested, max_size=3),
        st.dictionaries(st.text(max_size=5), nested, max_size=3),
        st.tuples(nested, nested),
        st.sets(st.one_of(st.integers(-3, 3), st.text(max_size=3)), max_size=3),
        st.frozensets(st.integers(0, 3), max_size=2),
        model_types(depth=0).flatmap(lambda m: values_of(m, depth + 1)),
    )
