"""Hypothesis generators for the red-team differential tests (deliberately unlike ``dspex.parity.strategies``).

Types come with the text that spells them in a signature string (``None`` when only a class signature can carry
them); LM answers are built to be nasty: values of the right type rendered a dozen ways, near-misses, junk, and
completions whose layout is mutated (line breaks, header placement, markers, fences, duplicates).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
from typing import Any, Literal, Optional, Union

import dspy
import pydantic
from hypothesis import strategies as st

# --- fixed user types (module level: identical objects on both sides) ------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "BLUE"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Auto(enum.Enum):
    A = enum.auto()
    B = enum.auto()


class Swap(str, enum.Enum):
    """Names collide with the other members' values."""

    a = "b"
    b = "a"


class Point(pydantic.BaseModel):
    x: int
    y: float = 0.0


class Tagged(pydantic.BaseModel):
    """A model with defaults, Optional, alias and described fields, and a nested list of models."""

    name: str = pydantic.Field(default="anon", alias="Name", description="who")
    score: Optional[float] = None
    points: list[Point] = []
    kind: Literal["a", "b", 3] = "a"


class Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    k: int


class Holder(pydantic.BaseModel):
    inner: Optional[Tagged] = None
    tags: dict[str, list[int]] = {}
    pair: tuple[int, str] = (0, "")


ENUMS = (Color, Level, Auto, Swap)
MODELS = (Point, Tagged, Strict, Holder)

# --- types -----------------------------------------------------------------------------------------------------

Spec = tuple[Any, Optional[str]]  # (annotation, signature-string spelling or None)

_LITERAL_POOL: list[Any] = ["a", "b", "yes", "no", 1, 2, 0, True, False, None, "1", "True", "None", "it's"]


@st.composite
def literal_spec(draw: Any) -> Spec:
    values = draw(st.lists(st.sampled_from(_LITERAL_POOL), min_size=1, max_size=4, unique_by=lambda v: (type(v), v)))
    ann = Literal[tuple(values)]  # type: ignore[valid-type]
    text = None if any(isinstance(v, str) and "'" in v for v in values) else f"Literal[{', '.join(map(repr, values))}]"
    return ann, text


SCALARS: list[Spec] = [(str, "str"), (int, "int"), (float, "float"), (bool, "bool"), (Any, "Any")]
# PEP 604 unions in both orders (written only in class signatures: DSPy's string parser has no `|`).
UNIONS: list[Spec] = [(str | None, None), (None | str, None), (int | None, None), (None | int, None), (int | str, None),
                      (str | int, None), (bool | int, None), (float | None, None)]
HASHABLE: list[Spec] = [(str, "str"), (int, "int"), (bool, "bool")]


def type_specs(max_leaves: int = 4) -> st.SearchStrategy[Spec]:
    base = st.one_of(
        st.sampled_from(SCALARS),
        st.sampled_from(UNIONS),
        st.sampled_from([(e, None) for e in ENUMS]),
        st.sampled_from([(m, None) for m in MODELS]),
        literal_spec(),
    )

    def extend(inner: st.SearchStrategy[Spec]) -> st.SearchStrategy[Spec]:
        def name(s: Spec, fmt: str) -> Optional[str]:
            return None if s[1] is None else fmt.format(s[1])

        return st.one_of(
            inner.map(lambda s: (list[s[0]], name(s, "list[{}]"))),  # type: ignore[misc]
            inner.map(lambda s: (dict[str, s[0]], name(s, "dict[str, {}]"))),  # type: ignore[misc]
            inner.map(lambda s: (Optional[s[0]], name(s, "Optional[{}]"))),
            inner.map(lambda s: (tuple[s[0], ...], name(s, "tuple[{}, ...]"))),  # type: ignore[misc]
            st.tuples(inner, inner).map(
                lambda p: (tuple[p[0][0], p[1][0]],  # type: ignore[misc]
                           None if None in (p[0][1], p[1][1]) else f"tuple[{p[0][1]}, {p[1][1]}]")
            ),
            st.lists(inner, min_size=2, max_size=3).map(
                lambda ps: (Union[tuple(p[0] for p in ps)],  # type: ignore[misc]
                            None if any(p[1] is None for p in ps) else f"Union[{', '.join(p[1] for p in ps)}]")  # type: ignore[misc]
            ),
            st.sampled_from(HASHABLE).map(lambda s: (set[s[0]], f"set[{s[1]}]")),  # type: ignore[misc]
            st.sampled_from(HASHABLE).map(lambda s: (frozenset[s[0]], f"frozenset[{s[1]}]")),  # type: ignore[misc]
        )

    return st.recursive(base, extend, max_leaves=max_leaves)


# --- values of a type, and texts an LM might write for them -------------------------------------------------------

_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e309, 1e-9, 0.1, 3.0, 1e16]),
)


def values_of(ann: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Python values (roughly) of type ``ann``; sometimes a bit off, on purpose."""
    if depth > 3:
        return st.none()
    origin = getattr(ann, "__origin__", None)
    args = getattr(ann, "__args__", ())
    if ann is str:
        return st.text(max_size=12)
    if ann is bool:
        return st.booleans()
    if ann is int:
        return st.one_of(st.integers(-10**6, 10**6), st.sampled_from([10**30, -1, 0]))
    if ann is float:
        return _FLOATS
    if ann is Any:
        return json_values()
    if ann is type(None):
        return st.none()
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return st.sampled_from(list(ann)).flatmap(lambda m: st.sampled_from([m.value, m.name]))
    if isinstance(ann, type) and issubclass(ann, pydantic.BaseModel):
        return _model_values(ann, depth)
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (list, set, frozenset) or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return st.lists(values_of(args[0], depth + 1), max_size=3)
    if origin is tuple:
        return st.tuples(*(values_of(a, depth + 1) for a in args)).map(list)
    if origin is dict:
        return st.dictionaries(st.text(max_size=5), values_of(args[1], depth + 1), max_size=3)
    if origin is Union:
        return st.one_of(*(values_of(a, depth + 1) for a in args))
    return st.none()


def _model_values(model: type, depth: int) -> st.SearchStrategy[Any]:
    if model is Point:
        return st.fixed_dictionaries({"x": st.integers(-5, 5)}, optional={"y": _FLOATS})
    if model is Strict:
        return st.fixed_dictionaries({"k": st.integers(0, 9)}, optional={"extra": st.just(1)})
    if model is Tagged:
        return st.fixed_dictionaries(
            {},
            optional={
                "Name": st.text(max_size=5),
                "name": st.text(max_size=5),  # the field name, not its alias: pydantic ignores it
                "score": st.one_of(st.none(), _FLOATS),
                "points": st.lists(_model_values(Point, depth + 1), max_size=2),
                "kind": st.sampled_from(["a", "b", 3, "c"]),
            },
        )
    return st.fixed_dictionaries(
        {},
        optional={
            "inner": st.one_of(st.none(), _model_values(Tagged, depth + 1)),
            "tags": st.dictionaries(st.text(max_size=3), st.lists(st.integers(0, 9), max_size=2), max_size=2),
            "pair": st.tuples(st.integers(0, 9), st.text(max_size=3)).map(list),
        },
    )


def json_values() -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.floats(allow_nan=False, allow_infinity=False),
                     st.text(max_size=8))
    return st.recursive(leaf, lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=4), c, max_size=3)),
                        max_leaves=6)


NASTY_TEXTS = [
    "", " ", "None", "none", "null", "NULL", "True", "true", "TRUE", "y", "on", "1", "0", "True.", "yes", "no",
    "007", "0x1F", "1e3", "3.0", " 42 ", "+5", "٣", "1_000", "3.5", "-0", "nan", "NaN", "inf", "-Infinity", "1e309",
    "[]", "{}", "[1, 2,]", "[1, 'a']", "(1, 'a')", "{'a': 1}", '{"a": 1,}', '{"a": [1, 2]}', "[[1]]", '"quoted"', "'single'",
    "```json\n[1]\n```", "```\n{\"x\": 1}\n```", "// comment\n[1]", "Literal['a']", "str['b']", " a ", "RED", "red", "Color.RED",
    "HIGH", "2", "A", "B", "b", "a", '{"Name": "n", "points": [{"x": 1}]}', '{"x": 1}', '{"k": 1, "extra": 2}', "[1, 2] trailing",
    "{\"x\": \"}{\"}", "\u2028", "\t", "é", "a\nb", "[1, \"a\"]", "[true, null]", "{\"a\": {\"b\": []}}",
]


def render(value: Any) -> st.SearchStrategy[str]:
    """Ways an LM writes ``value``: JSON, Python repr, str, with whitespace or a fence around it."""
    try:
        as_json = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        as_json = str(value)
    forms = [as_json, repr(value), str(value), f" {as_json} ", f"```json\n{as_json}\n```", as_json.replace(", ", ",")]
    return st.sampled_from(forms)


def answer_texts(ann: Any) -> st.SearchStrategy[str]:
    valid = values_of(ann).flatmap(render)
    # Mostly plausible answers (so most cases parse and the values are compared), some junk, and other scalars'
    # JSON (``true`` for an int, ``123`` for a ``str | None``). Weighted by hand: ``st.one_of`` would draw its
    # distinct strategies evenly whatever their repeats.
    kinds = {"valid": valid, "nasty": st.sampled_from(NASTY_TEXTS), "text": st.text(max_size=10),
             "other scalar": st.sampled_from(OTHER_SCALARS)}
    return st.sampled_from(["valid"] * 4 + ["nasty", "text", "other scalar"]).flatmap(kinds.__getitem__)


OTHER_SCALARS = ["true", "false", "1", "0", "1.5", "-0", "null", "None", '"7"', '"yes"', "123", "1e3"]


# --- completion layouts --------------------------------------------------------------------------------------------

BREAKS = ["\n", "\n\n", "\r\n", "\u2028", "\n \n", "\r"]


@st.composite
def completion(draw: Any, fields: dict[str, str]) -> str:
    """A ChatAdapter-style completion carrying ``fields`` (name -> text), with a mutated layout."""
    names = list(fields)
    if draw(st.booleans()):
        names = draw(st.permutations(names))
    br = draw(st.sampled_from(BREAKS)) if draw(st.integers(0, 3)) == 0 else "\n"
    parts = []
    if draw(st.integers(0, 5)) == 0:
        parts.append(draw(st.sampled_from(["Sure!", "```", "[[ ## completed ## ]]", "[[ ## unknown ## ]]\nzzz"])))
    for name in names:
        if draw(st.integers(0, 15)) == 0:
            continue  # a missing field
        header = f"[[ ## {name} ## ]]"
        style = draw(st.integers(0, 9))
        if style == 0:
            header = "  " + header  # indented header: DSPy keeps part of it in the value
        elif style == 1:
            header = "\t" + header + " "
        value = fields[name]
        if style == 2:
            parts.append(f"{header} {value}")  # value on the header line
        else:
            parts.append(f"{header}{br}{value}")
        if draw(st.integers(0, 9)) == 0:
            parts.append(f"[[ ## {name} ## ]]{br}duplicate")
    marker = draw(st.integers(0, 5))
    if marker > 1:
        parts.append("[[ ## completed ## ]]")
    if marker == 1:
        parts.extend(["[[ ## completed ## ]]", "[[ ## completed ## ]]"])
    sep = draw(st.sampled_from([br + br, br, "\n\n"]))
    text = sep.join(parts)
    if draw(st.integers(0, 7)) == 0:
        text = f"```\n{text}\n```"
    if draw(st.integers(0, 7)) == 0:
        text += draw(st.sampled_from(["   ", "\n\n", "\t"]))
    return text


@st.composite
def json_completion(draw: Any, fields: dict[str, Any]) -> str:
    """A JSON-ish object for the JSONAdapter fallback: valid, or repaired-looking (comments, quotes, commas)."""
    obj = dict(fields)
    if draw(st.booleans()):
        obj = dict(reversed(list(obj.items())))
    style = draw(st.integers(0, 6))
    body = json.dumps(obj, ensure_ascii=False)
    if style == 1:
        body = body[:-1] + ",}"
    elif style == 2:
        body = "// note\n" + body
    elif style == 3:
        body = body.replace('"', "'")
    elif style == 4:
        body = f"Here: {body} and {{\"other\": 1}}"
    elif style == 5:
        body = f"```json\n{body}\n```"
    elif style == 6:
        body = body[:-1]  # truncated
    return body


def parse_json_text(text: str) -> Any:
    """What a field's answer text would be inside a JSON object: its JSON value if it is one, else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


# --- input values --------------------------------------------------------------------------------------------------


class Shown:
    """An object with only ``__str__``."""

    def __str__(self) -> str:
        return "shown<>"


def input_values() -> st.SearchStrategy[Any]:
    exotic = st.sampled_from([
        b"bytes", b"\xff\xfe", decimal.Decimal("1.10"), datetime.datetime(2020, 1, 2, 3, 4, 5),
        datetime.date(1999, 12, 31), Color.RED, Level.HIGH, Swap.a, Point(x=1), Tagged(Name="t", points=[Point(x=2)]),
        Shown(), 10**40, -(2**70), float("nan"), float("inf"), -0.0, 1e-9, 1 + 2j, (1, "a"), (), {3, 1, 2},
        frozenset({"b", "a"}), {"b", "a", "c"}, [Point(x=3)], {"m": Point(x=4)}, {1: "int key"}, {(1, 2): "tuple key"},
        "<<CUSTOM-TYPE-START-IDENTIFIER>>[{\"type\": \"text\", \"text\": \"hi\"}]<<CUSTOM-TYPE-END-IDENTIFIER>>",
        "[[ ## a ## ]]\nfake header", "line1\r\nline2", "«guillemets»", "  padded  ", "",
    ])
    nested = st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), exotic),
        lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=4), c, max_size=3),
                            st.tuples(c, c)),
        max_leaves=6,
    )
    return st.one_of(st.text(max_size=20), exotic, nested, st.lists(st.text(max_size=6), max_size=4))


# --- names -----------------------------------------------------------------------------------------------------------

INPUT_NAMES = ["q", "question", "context_2", "naïve", "数据", "camelCase", "x1"]
OUTPUT_NAMES = ["a", "answer", "out_put", "ß", "résumé", "B2", "value"]


def field_desc() -> st.SearchStrategy[Optional[str]]:
    return st.one_of(st.none(), st.sampled_from(["", "the thing", "multi\nline", "tab\there", "ünï ✓", "   "]))


@st.composite
def signature_spec(draw: Any, out_types: st.SearchStrategy[Spec] | None = None) -> dict[str, Any]:
    """A signature as plain data: inputs/outputs (name, annotation, spelling, desc) and instructions."""
    ins = draw(st.lists(st.sampled_from(INPUT_NAMES), min_size=1, max_size=3, unique=True))
    outs = draw(st.lists(st.sampled_from(OUTPUT_NAMES), min_size=1, max_size=3, unique=True))
    in_types = st.sampled_from([(str, "str"), (str, "str"), (int, "int"), (list[str], "list[str]"),
                                (Optional[str], "Optional[str]"), (dict[str, Any], "dict[str, Any]"), (Any, "Any")])
    return {
        "inputs": [(n, *draw(in_types), draw(field_desc())) for n in ins],
        "outputs": [(n, *draw(out_types if out_types is not None else type_specs()), draw(field_desc())) for n in outs],
        "instructions": draw(st.one_of(st.none(), st.sampled_from(
            ["", "Answer.", "Do\tit.\r\nNow.", "\n\n   lead\n  more", "   ", "ünïcødé ✓ 中文", "x" * 500, "a\n\n\nb"]))),
    }


def build_signature(ns: Any, spec: dict[str, Any], form: str) -> Any:
    """The signature on side ``ns`` in one of three forms: "string" (when spellable), "class" (the side's own
    dict-made class) or "dspy" (a dspy.Signature class, handed to native as is)."""
    if form == "string" and all(t is not None for _, _, t, _ in spec["inputs"] + spec["outputs"]):
        text = ", ".join(f"{n}: {t}" for n, _, t, _ in spec["inputs"]) + " -> " + \
            ", ".join(f"{n}: {t}" for n, _, t, _ in spec["outputs"])
        return ns.Signature(text, spec["instructions"])
    side = dspy if form == "dspy" else ns
    fields: dict[str, Any] = {}
    for n, ann, _, desc in spec["inputs"]:
        fields[n] = (ann, side.InputField() if desc is None else side.InputField(desc=desc))
    for n, ann, _, desc in spec["outputs"]:
        fields[n] = (ann, side.OutputField() if desc is None else side.OutputField(desc=desc))
    return side.Signature(fields, spec["instructions"])
