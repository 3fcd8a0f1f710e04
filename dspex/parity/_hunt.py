"""Strategies that hunt: typed fields answered, given and demonstrated in the wrong shape.

Mutation testing showed where uniform draws are blind: a typed output rarely met an answer of another type
(``true`` for an ``int``, ``123`` for ``str | None``), and some supported annotations (``None | str``,
``Optional[list[int]]``, ``Literal[None, 1]``, ``frozenset[int]``...) almost never appeared. Here each annotation
*family* gets an equal share of the hunting cases, each typed answer is mostly drawn by *shape category*
(booleans, numbers, nulls, quoted, padded, trailing words, non-finite, containers, Python literals, unicode,
member spellings), and inputs and demos take values of the same shapes.
"""

from __future__ import annotations

import enum
import json
import math
from typing import Any, Literal, Optional, Union, get_args, get_origin

import dspy
import pydantic
from hypothesis import strategies as st

from ._completions import jsonable, nasty_rendering, render_value
from ._exotic import Color, Level, Opaque, Point, Shade
from ._type_strategies import texts, values_of

__all__ = ["FAMILIES", "hunt_annotations", "wrong_shape_texts", "answer_texts", "well_formed_texts", "wrong_shape_values",
           "field_values", "Inner", "Outer"]


class Inner(pydantic.BaseModel):
    """A nested model for the hunt: a required int, a list and an optional field."""

    x: int
    tags: list[str] = []
    note: Optional[str] = None


class Outer(pydantic.BaseModel):
    name: str
    inner: Inner
    level: Level = Level.LOW
    maybe: Optional[float] = None


# Every supported annotation shape, grouped so each family gets the same share of cases whatever its size.
FAMILIES: dict[str, list[Any]] = {
    "int": [int],
    "float": [float],
    "bool": [bool],
    "optional str": [str | None, None | str, Optional[str], Union[None, str], Union[str, int, None]],
    "optional other": [Optional[int], int | None, None | float, Optional[bool], Optional[list[int]],
                       Optional[dict[str, int]], list[str] | None, Optional[Inner]],
    "union": [int | str, str | int, Union[int, float], float | int, bool | int, int | bool, Union[str, bool],
              list[int] | dict[str, int]],
    "literal": [Literal["yes", "no"], Literal["A", "b c", "ü"], Literal["True", "1", "None"],
                Literal[1, 2, 3], Literal[0, 1], Literal[True, False], Literal[None, 1], Literal["x", None],
                Literal["a", 1, True, None], Literal[Color.RED, Color.GREEN], Literal[Level.LOW, 2],
                Literal["it's", 'say "hi"', "both ' and \""]],
    "enum": [Color, Level, Shade],
    "list/dict": [list[int], list[str], list[bool], list[float], dict[str, int], dict[str, list[int]],
                  list[dict[str, int]], list[list[int]]],
    "tuple/set": [tuple[int, str], tuple[int, ...], tuple[bool, float], set[str], set[int], frozenset[int],
                  frozenset[str]],
    "model": [Inner, Outer, list[Inner]],
    "reasoning": [dspy.Reasoning],   # a str to adapters, a model to pydantic (native accepts DSPy's own)
    "bare": [Any, list, dict, tuple, set, frozenset],
}

# Shape categories for an LM's text in a typed field. A category is drawn first, then a text from it; the
# scalar confusions (another type's JSON: the lax-typing bugs) weigh more than the rest (SHAPE_WEIGHTS).
SHAPES: dict[str, list[str]] = {
    "json bool": ["true", "false"],
    "json number": ["1", "0", "1.0", "1e3", "-0", "2.5", "-7", "-0.0"],
    "null": ["null", "None", "none", ""],
    "bool spellings": ["True", "False", "TRUE", "yes", "no", "on", "t"],
    "number spellings": ["1_000", "+3", "0x1F", "007", "9" * 20, "3.", ".5", "1E5"],
    "quoted": ['"text"', "'text'", '"42"', "'7'", '"true"', "'None'", '"null"', '""', "“yes”", '"1.5"'],
    "padded": [" 42 ", "\ttrue\n", "  null  ", " yes ", "\n1.5\n", "  [1, 2]  ", " red ", " false"],
    "trailing": ["42 apples", "true.", "7 (seven)", "null, sorry", "[1, 2] and more", "yes!", "1.5 meters"],
    "nonfinite": ["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "1e400", "[NaN]"],
    "containers": ["[]", "{}", "[1, 2]", '["a", "b"]', "[[1], [2]]", '{"a": 1}', '{"a": {"b": [1, null]}}',
                   "[true, null]", '[{"x": 1}]', '{"x": 1, "tags": ["a"]}', "[1, 2,]", '{"x": "1"}'],
    "python": ["(1, 2)", "{1, 2}", "{'a': 1}", "['a', 'b']", "[True, None]", "set()", "frozenset({1})", "(1,)",
               "{'x': 1, 'tags': ('a',)}", "b'x'", "None", "True"],
    "unicode": ["４２", "٣", "ü", "名前", "🎉", "Ⅻ", "½", "ｔｒｕｅ", "«yes»", "zero\u200bwidth"],
}
SHAPE_WEIGHTS = {"json bool": 2, "json number": 2, "null": 2}
# Another scalar type's JSON, per annotation: the lax-typing confusions (``true`` read as an int, ``123`` as a
# ``str | None``) are where one-line bugs hide, so a hunted field meets one of these 3 times in 8.
CROSS: dict[Any, list[str]] = {
    int: ["true", "false", "true", "false", "1.5", "null", '"7"', "1.0"],
    float: ["true", "false", "7", "-0", "null", '"2.5"', "NaN", "1e400"],
    bool: ["1", "0", "1.0", "null", '"true"', "2", "-0", "True"],
}
CROSS_ANY = ["123", "true", "null", "None", '"yes"', "1.5", "[1]", '{"a": 1}', "-0", "false"]
# Annotation families weigh the same, but for the scalars LMs answer most (and mistype most).
FAMILY_WEIGHTS = {"int": 3, "float": 2, "bool": 3, "optional str": 3}

_VALUES: list[Any] = [
    True, False, 1, 0, -1, 1.0, -0.0, 2.5, 1e3, math.nan, math.inf, -math.inf, 2**70, None, "", " ", "1", "1.0",
    "true", "True", "None", "null", " 42 ", "42 apples", "ü名🎉", "４２", "red", "RED", [], {}, [1, "a"], [[1], [2]],
    {"a": [1, {"b": None}]}, {"x": 1}, {"x": "1", "tags": ["a"]}, (1, 2), {1, 2}, frozenset({"a"}), [True, None],
    Color.RED, Level.HIGH, Shade.DARK, [Opaque()], {"k": Opaque(), "n": [Point(1)]}, (Opaque(), 1),
]

def _weighted(names: Any, weights: dict[str, int]) -> list[str]:
    return [name for name in sorted(names) for _ in range(weights.get(name, 1))]


# Literal strings the LM must echo and the prompt must quote: quotes of either kind or both, backslashes,
# padding and non-ASCII, drawn rather than listed (DSPy writes each kind of string differently in the prompt).
_literal_texts = st.text(st.sampled_from("ab '\"\\é"), min_size=1, max_size=5)
literal_strings = st.lists(_literal_texts, min_size=1, max_size=3, unique=True).map(
    lambda values: Literal[tuple(values)])  # type: ignore[misc]
_DRAWN_FAMILIES: dict[str, st.SearchStrategy[Any]] = {"literal text": literal_strings}


def _family(name: str) -> st.SearchStrategy[Any]:
    return _DRAWN_FAMILIES[name] if name in _DRAWN_FAMILIES else st.sampled_from(FAMILIES[name])


hunt_annotations = st.sampled_from(_weighted([*FAMILIES, *_DRAWN_FAMILIES], FAMILY_WEIGHTS)).flatmap(_family)


def _members(tp: Any) -> list[Any]:
    """The annotations inside ``tp`` whose valid renderings are near-misses for it (Optional's inner type...)."""
    if get_origin(tp) is Literal or not get_args(tp):
        return []
    return [a for a in get_args(tp) if a is not type(None) and a is not Ellipsis]


@st.composite
def wrong_shape_texts(draw: Any, tp: Any) -> str:
    """Text of the wrong shape for a field of type ``tp``: a shape category first, then a text from it."""
    categories = _weighted(SHAPES, SHAPE_WEIGHTS) + ["near miss"] + (["member"] if _members(tp) else [])
    category = draw(st.sampled_from(categories))
    if category == "near miss":   # spellings of Literal/Enum members, type-specific near-misses
        return draw(nasty_rendering(tp))
    if category == "member":   # a valid answer for a member type (e.g. an int for list[int] | dict[str, int])
        member = draw(st.sampled_from(_members(tp)))
        return draw(values_of(member).flatmap(render_value))
    return draw(st.sampled_from(SHAPES[category]))


def well_formed_texts(tp: Any) -> st.SearchStrategy[str]:
    return values_of(tp).flatmap(render_value)


def answer_texts(tp: Any) -> st.SearchStrategy[str]:
    """What a hunting LM writes for a ``tp`` field: a quarter well-formed, 3/8 another scalar's JSON (for a
    Literal or Enum: a member's near-miss spelling), 3/8 a shape category. (Weighted with ``sampled_from``:
    ``st.one_of`` draws among *distinct* strategies evenly.)"""
    if tp is str:
        return st.one_of(texts, st.sampled_from([t for pool in SHAPES.values() for t in pool]))
    if get_origin(tp) is Literal or is_enum_type(tp):   # a member misspelt is where Literal/Enum bugs hide
        kind = st.sampled_from(["well formed"] * 2 + ["near miss"] * 3 + ["shape"] * 3)
    else:
        kind = st.sampled_from(["well formed"] * 2 + ["cross"] * 3 + ["shape"] * 3)
    return kind.flatmap(lambda k: well_formed_texts(tp) if k == "well formed" else wrong_shape_texts(tp)
                        if k == "shape" else nasty_rendering(tp) if k == "near miss"
                        else st.sampled_from(CROSS.get(tp, CROSS_ANY)))


wrong_shape_values = st.sampled_from(_VALUES)


def field_values(tp: Any) -> st.SearchStrategy[Any]:
    """An input or demo value for a ``tp`` field: half the time of its type, half the time of another shape."""
    return st.one_of(values_of(str if tp is None else tp), wrong_shape_values)


def json_value(value: Any, allow_nan: bool) -> str:
    return json.dumps(value if allow_nan else jsonable(value), ensure_ascii=False, default=str)


def is_enum_type(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)
