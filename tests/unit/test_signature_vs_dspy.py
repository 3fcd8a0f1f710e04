"""Native signatures side by side with real DSPy 3.4.1: same fields, order, kinds, types, metadata, instructions,
and the same exception class and message, except for the documented mapping (docs/signatures.md) where DSPy
lets a raw SyntaxError / TypeError / pydantic error escape."""

from __future__ import annotations

import datetime
import enum
import gc
import keyword
import subprocess
import sys
import types
import typing
import weakref
from typing import Any, Literal, Optional, Union

import dspy
import pydantic
import pytest
from dspy.adapters.utils import get_annotation_name
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dspex.signature as ns
from dspex.errors import SignatureError, SignatureTypeError, UnsupportedTypeError
from dspex.signature import MISSING, annotation_name, from_dspy_signature, unsupported_fields
from dspex.signature._namespace import RESERVED_NAMES

pytestmark = [pytest.mark.parity, pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")]

NATIVE = types.SimpleNamespace(Signature=ns.Signature, InputField=ns.InputField, OutputField=ns.OutputField)


def snapshot(sig: Any) -> tuple[Any, ...]:
    """Everything a signature means, read the same way from a dspy or a native class."""
    fields = []
    for name, f in sig.fields.items():
        default = getattr(f, "default", MISSING)
        if type(default).__name__ == "PydanticUndefinedType":
            default = MISSING
        fields.append(
            (name, f.json_schema_extra["__dspy_field_type"], f.annotation, dict(f.json_schema_extra), default,
             f.default_factory)
        )
    return (sig.__name__, sig.instructions, sig.signature, fields,
            list(sig.input_fields), list(sig.output_fields))


def outcome(make: Any) -> tuple[Any, ...]:
    try:
        return ("ok", snapshot(make()))
    except Exception as exc:  # noqa: BLE001 - the class and message are what is compared
        return ("error", type(exc), str(exc))


# ---------------------------------------------------------------------------------------------------------------
# Strings: identical outcome (fields and instructions, or exception class and message)
# ---------------------------------------------------------------------------------------------------------------
SAME = [
    "question -> answer", "question, context: list[str] -> answer: int", "a,b->c,d", " a , b -> c ",
    "", "question", "a -> b -> c", "q -> q", "a, b -> b, a", "q: Foo -> a", "q: list[Foo] -> a", "q: 1 -> a",
    "q, q -> a", "q ->", "-> a", "*q -> a", "**kw -> a", "q, /, r -> a", "q, *, r -> a", "q, -> a",
    "q=1 -> a", "q: int = 1 -> a", "q: str = 'x' -> a", "q\n -> a", "q -> a\n",
    "q: Optional[int] -> a", "q: int | None -> a", "q: None | int -> a", "q: int | str | None -> a",
    "q: list[int] | None -> a", "q: Union[int, str] -> a", "q: Union[int] -> a", "q: Optional[int, str] -> a",
    "q: Literal['a', 'b'] -> a", "q: Literal[1, 2, True, None] -> a", "q -> a: Literal['x\"y', \"it's\"]",
    "q: tuple[int, ...] -> a", "q: tuple[int, str] -> a", "q: dict[str, Any] -> a", "q: Dict[str, List[int]] -> a",
    "q: typing.List[int] -> a", "q: datetime.datetime -> a", "q: datetime.date -> a",
    "q: collections.abc.Sequence -> a", "q: os.path -> a", "q: foo.bar -> a", "q: int.real -> a",
    "q: int.nope -> a", "q: 'int' -> a", "q: (int, str) -> a", "q: [int] -> a", "q: -1 -> a",
    "q: lambda: 1 -> a", "q: f(x) -> a", "q: NoneType -> a", "q: None -> a", "q: Ellipsis -> a", "q: ... -> a",
    "q: True -> a", "q: b'x' -> a", "q: List -> a", "q: Tuple -> a", "q: typing -> a", "q: math -> a",
    "q: complex -> a", "q: bytes -> a", "q: frozenset[str] -> a", "q: set[int] -> a",
    "q: Any -> a", "q: list -> a", "q: dict -> a", "q: Field(desc='x') -> a", "q: int -> a: q",
    "ünïcode, 変数 -> ответ", "camelCaseText, HTMLParser, text2number -> a", "self, cls -> a",
    "model_fields, copy, json, dict, schema, validate, with_instructions, dump_state, append, equals -> mro",
    "q: list[int, str] -> a", "q: Literal[Literal['a'], 'b'] -> a", "q: Union[1] -> a", "q: Literal[int] -> a",
    "q: Literal[[1]] -> a", "q: dict[str, list['x']] -> a",
]


@pytest.mark.parametrize("text", SAME)
def test_string_signature_matches_dspy(text: str) -> None:
    expected = outcome(lambda: dspy.Signature(text))
    actual = outcome(lambda: ns.Signature(text))
    assert actual == expected


@pytest.mark.parametrize("text", ["q: int -> a", "q, r: list[str] -> a: bool", "q -> a"])
@pytest.mark.parametrize("instructions", [None, "", "  ", "Do it.", "  \n  hi\n    there\n", "Line 1\n\n  Line 2"])
def test_instructions_match_dspy(text: str, instructions: str | None) -> None:
    assert outcome(lambda: ns.Signature(text, instructions)) == outcome(lambda: dspy.Signature(text, instructions))


def test_signature_name_matches_dspy() -> None:
    expected = outcome(lambda: dspy.make_signature("q -> a", signature_name="Foo"))
    assert outcome(lambda: ns.make_signature("q -> a", signature_name="Foo")) == expected


# ---------------------------------------------------------------------------------------------------------------
# Strings: the documented mapping (DSPy's raw error -> SignatureError naming the problem and the text)
# ---------------------------------------------------------------------------------------------------------------
MAPPED = [
    # (text, DSPy's exception class name, words the native message must contain)
    ("q: list[int -> a", "SyntaxError", ["'q: list[int'", "input fields", "brackets must balance"]),
    ("1q -> a", "SyntaxError", ["'1q'", "input fields", "identifiers"]),
    ("class -> a", "SyntaxError", ["'class'", "keywords"]),
    ("q -> class", "SyntaxError", ["output fields", "'class'"]),
    ("q:: int -> a", "SyntaxError", ["'q:: int'"]),
    (",q -> a", "SyntaxError", ["',q'"]),
    ("q,, r -> a", "SyntaxError", ["'q,, r'"]),
    ("q -> a # comment", "SyntaxError", ["'a # comment'"]),
    ("q: str[int] -> a", "TypeError", ["`str[int]`", "field `q`", "not subscriptable"]),
    ("q: int[str] -> a", "TypeError", ["`int[str]`", "field `q`"]),
    ("q: List[int, str] -> a", "TypeError", ["`List[int, str]`", "Too many arguments"]),
    ("q: Dict[str] -> a", "TypeError", ["`Dict[str]`"]),
    ("q: Union[int, 1] -> a", "PydanticSchemaGenerationError", ["`Union[int, 1]`", "`q`", "1 is not a type"]),
    ("q: Optional[1] -> a", "PydanticSchemaGenerationError", ["`Optional[1]`", "1 is not a type"]),
    ("q: list[1] -> a", "PydanticSchemaGenerationError", ["`list[1]`", "1 is not a type"]),
    ("q: dict[str, list[b'x']] -> a", "PydanticSchemaGenerationError", ["b'x' is not a type"]),
    ("q: dict[str] -> a", "TypeError", ["`dict[str]`", "two type arguments"]),
    ("q: Literal -> a", "PydanticSchemaGenerationError", ["`Literal` without arguments"]),
    ("q: Optional -> a", "PydanticSchemaGenerationError", ["`Optional` without arguments"]),
    ("q: Union -> a", "PydanticSchemaGenerationError", ["`Union` without arguments"]),
    ("_private -> a", "PydanticUserError", ["`_private`", "underscore", "`private`"]),
    ("q -> __dunder__", "PydanticUserError", ["`__dunder__`", "underscore"]),
    ("_ -> a", "PydanticUserError", ["`_`", "underscore", "`my_field`"]),   # nothing left to suggest
] + [(f"{name} -> zz", "*", [f"`{name}`", "reserved"]) for name in sorted(RESERVED_NAMES)] + [
    (f"zz -> {name}", "*", [f"`{name}`", "reserved"]) for name in sorted(RESERVED_NAMES)
]


@pytest.mark.parametrize(("text", "dspy_error", "words"), MAPPED)
def test_string_signature_error_mapping(text: str, dspy_error: str, words: list[str]) -> None:
    expected = outcome(lambda: dspy.Signature(text))
    assert expected[0] == "error"
    assert expected[1].__name__ == dspy_error or dspy_error == "*"
    assert issubclass(expected[1], (SyntaxError, TypeError, RuntimeError, ValueError))
    with pytest.raises(SignatureError) as info:
        ns.Signature(text)
    assert isinstance(info.value, ValueError)
    for word in words:
        assert word in str(info.value)


def test_reserved_names_are_exactly_the_ones_dspy_cannot_build() -> None:
    """Every public attribute of dspy.Signature and its metaclass, as a field name: native refuses exactly the
    names DSPy fails on."""
    candidates = {n for n in dir(dspy.Signature) + dir(type(dspy.Signature)) if not n.startswith("_")}
    failing = set()
    for name in candidates:
        if outcome(lambda: dspy.Signature(f"{name} -> zz"))[0] == "error":
            failing.add(name)
        else:
            assert outcome(lambda: ns.Signature(f"{name} -> zz")) == outcome(lambda: dspy.Signature(f"{name} -> zz"))
    assert failing == set(RESERVED_NAMES)


class Plain:
    """Not a type pydantic (hence DSPy) can build a schema for."""


@pytest.mark.parametrize(
    ("fields", "dspy_builds"),
    [({"q": (bytearray, "in"), "a": (str, "out")}, False), ({"q": (Plain, "in"), "a": (str, "out")}, False),
     ({"q": (str, "in"), "a": (typing.Callable[[int], str], "out")}, True),
     ({"q": (datetime.timedelta, "in"), "a": (str, "out")}, True)],
    ids=["bytearray", "plain_class", "callable", "timedelta"],
)
def test_types_native_does_not_run_are_reported_unsupported(fields: dict[str, Any], dspy_builds: bool) -> None:
    """Native builds the signature (where DSPy fails, that is the documented difference), reports the field
    unsupported, and a native module refuses it at construction, so the router sends the module to DSPy."""

    def build(L: Any) -> Any:
        return L.Signature({k: (t, L.InputField() if kind == "in" else L.OutputField())
                            for k, (t, kind) in fields.items()})

    assert (outcome(lambda: build(dspy))[0] == "ok") is dspy_builds
    sig = build(NATIVE)
    bad = [k for k, (t, _) in fields.items() if t is not str]
    assert unsupported_fields(sig) == bad
    with pytest.raises(UnsupportedTypeError, match=f"`{bad[0]}`"):
        ns.check_signature(sig)


def test_classvar_field_type_is_refused() -> None:
    """DSPy drops a ClassVar-typed field silently (pydantic skips ClassVars); native refuses it, naming it."""
    assert list(dspy.Signature({"q": (typing.ClassVar[int], dspy.InputField()), "a": (str, dspy.OutputField())})
                .fields) == ["a"]
    assert list(dspy.Signature({"q": (str, dspy.InputField()), "a": (typing.ClassVar[int], dspy.OutputField())})
                .fields) == ["q"]
    for kind in (ns.InputField, ns.OutputField):
        with pytest.raises(SignatureError, match="`q`.*ClassVar"):
            ns.Signature({"q": (typing.ClassVar[int], kind())})


def test_dspy_type_in_a_string_resolves_only_when_dspy_is_loaded_and_is_unsupported() -> None:
    """A DSPy type named in a string resolves once dspy is loaded; Image is a content type native renders,
    an output History plays no role in DSPy's adapters: that field is refused."""
    text = "q, img: dspy.Image -> a, h: Optional[dspy.History]"
    expected = outcome(lambda: dspy.Signature(text))
    assert outcome(lambda: ns.Signature(text)) == expected
    assert outcome(lambda: ns.Signature(text, custom_types={"X": int})) == outcome(
        lambda: dspy.Signature(text, custom_types={"X": int}))
    sig = ns.Signature(text)
    assert unsupported_fields(sig) == ["h"]
    with pytest.raises(UnsupportedTypeError) as info:
        ns.check_signature(sig)
    assert info.value.field == "h"


def test_dspy_type_in_a_string_without_dspy_loaded_is_unsupported_and_dspy_stays_unloaded() -> None:
    code = (
        "import sys\n"
        "from dspex.signature import Signature\n"
        "from dspex.errors import UnsupportedTypeError\n"
        "try:\n"
        "    Signature('q, img: dspy.Image -> a')\n"
        "except UnsupportedTypeError as e:\n"
        "    print(e.field, 'dspy' in sys.modules, 'pydantic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["img", "False", "False"]


# ---------------------------------------------------------------------------------------------------------------
# Custom types: explicit, and found in the caller's frames (DSPy's quirks included)
# ---------------------------------------------------------------------------------------------------------------
class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Item(pydantic.BaseModel):
    name: str
    tags: list[str] = []


def test_explicit_custom_types_match_dspy() -> None:
    custom = {"Item": Item, "Color": Color}
    for text in ["q: Item -> a: Color", "q: list[Item] -> a: Optional[Color]", "q: Literal[Color.RED] -> a",
                 "q: NoneType -> a", "q: Item.model_fields -> a", "q: Color.RED -> a"]:
        expected = outcome(lambda: dspy.Signature(text, custom_types=custom))
        assert outcome(lambda: ns.Signature(text, custom_types=custom)) == expected, text
    # With custom types given, DSPy's name table loses NoneType; an empty dict keeps the default table.
    assert outcome(lambda: ns.Signature("q: NoneType -> a", custom_types={"X": int}))[1:] == (
        ValueError, "Unknown name: NoneType")
    assert outcome(lambda: ns.Signature("q: NoneType -> a", custom_types={}))[0] == "ok"


def test_custom_types_found_in_caller_frames_like_dspy() -> None:
    class LocalModel(pydantic.BaseModel):
        x: int

    class Mood(enum.Enum):
        HAPPY = "happy"

    texts = [
        "q: LocalModel -> a", "q: LocalModel | None -> a", "q -> a: Mood",
        # DSPy only looks for names right after ':' -- so these fail in both, with the same message:
        "q: list[LocalModel] -> a", "q: Optional[LocalModel] -> a", "q: None | LocalModel -> a",
        # a detected custom type removes NoneType from the table (DSPy quirk, kept):
        "q: LocalModel, r: NoneType -> a",
        "q: Item -> a: Color",  # module globals of the caller
    ]
    for text in texts:
        assert outcome(lambda: ns.Signature(text)) == outcome(lambda: dspy.Signature(text)), text


def _make_in_nested_frame(lib: Any, text: str) -> Any:
    return lib.Signature(text)


def test_custom_types_found_several_frames_up() -> None:
    class Deep(pydantic.BaseModel):
        y: str

    assert ns.Signature("q: Deep -> a").fields["q"].annotation is Deep
    assert _make_in_nested_frame(ns, "q: Deep -> a").fields["q"].annotation is Deep
    assert _make_in_nested_frame(dspy, "q: Deep -> a").fields["q"].annotation is Deep


# ---------------------------------------------------------------------------------------------------------------
# Class-based signatures: each builder runs against both libraries
# ---------------------------------------------------------------------------------------------------------------
def cls_basic(L: Any) -> Any:
    class QA(L.Signature):
        """Answer questions with short factoid answers."""

        question: str = L.InputField(desc="the question")
        context: list[str] = L.InputField(default=["none"], prefix="Ctx:")
        answer: int = L.OutputField(desc="a number", ge=1, le=5)

    return QA


def cls_untyped_and_nodoc(L: Any) -> Any:
    class Untyped(L.Signature):
        question = L.InputField()
        answer = L.OutputField()
        note: Optional[str] = L.OutputField(default=None)

    return Untyped


def cls_empty_doc(L: Any) -> Any:
    class Empty(L.Signature):
        """"""

        q = L.InputField()
        a: float = L.OutputField()

    return Empty


def cls_indented_doc(L: Any) -> Any:
    class Indented(L.Signature):
        """
            First line.
              Indented more.

            Last.
        """

        q: dict[str, Any] = L.InputField(description="pydantic style")
        a: tuple[int, ...] = L.OutputField(min_length=1, max_length=3, multiple_of=2)

    return Indented


def cls_inherit(L: Any) -> Any:
    Base = cls_basic(L)

    class Child(Base):
        extra: str = L.InputField()

    return Child


def cls_inherit_override(L: Any) -> Any:
    Base = cls_basic(L)

    class Override(Base):
        """Overridden."""

        question: int = L.OutputField()

    class Again(Override):
        pass

    return Again


def _two_bases(L: Any) -> tuple[Any, Any]:
    """Two signatures that both declare ``x`` (once as output, once as input), for the inheritance-order cases."""

    class A(L.Signature):
        a1 = L.InputField(desc="A")
        x = L.OutputField(desc="from A")

    class B(L.Signature):
        b1 = L.InputField()
        x = L.InputField(desc="from B")
        b2 = L.OutputField()

    return A, B


def cls_multiple_inheritance(L: Any) -> Any:
    A, B = _two_bases(L)

    class C(A, B):
        c1 = L.InputField()

    return C


def cls_multiple_inheritance_reversed(L: Any) -> Any:
    A, B = _two_bases(L)

    class D(B, A):
        a1 = L.OutputField()

    return D


def cls_from_string_base(L: Any) -> Any:
    class FromString(L.Signature("q, r: int -> a", "Base instructions.")):
        s: bool = L.OutputField(desc="flag")

    return FromString


def cls_methods_and_private(L: Any) -> Any:
    class WithMethods(L.Signature):
        """Has methods."""

        q: Literal["a", "b"] = L.InputField()
        a: Union[int, str] = L.OutputField(default_factory=list)
        _private: int = 5
        CONST: typing.ClassVar[int] = 3

        def helper(self) -> int:
            return 1

        @property
        def prop(self) -> int:
            return 2

    return WithMethods


def cls_enum_and_model(L: Any) -> Any:
    class Typed(L.Signature):
        color: Color = L.InputField(format=str)
        item: Item = L.InputField()
        items: list[Item] = L.OutputField(desc="all items")
        when: datetime.date = L.OutputField()

    return Typed


CLASS_BUILDERS = [cls_basic, cls_untyped_and_nodoc, cls_empty_doc, cls_indented_doc, cls_inherit,
                  cls_inherit_override, cls_multiple_inheritance, cls_multiple_inheritance_reversed,
                  cls_from_string_base, cls_methods_and_private, cls_enum_and_model]


@pytest.mark.parametrize("build", CLASS_BUILDERS, ids=lambda b: b.__name__)
def test_class_signature_matches_dspy(build: Any) -> None:
    expected = outcome(lambda: build(dspy))
    assert expected[0] == "ok"
    assert outcome(lambda: build(NATIVE)) == expected


@pytest.mark.parametrize("build", CLASS_BUILDERS, ids=lambda b: b.__name__)
def test_from_dspy_signature_reads_the_same_meaning(build: Any) -> None:
    dspy_sig = build(dspy)
    native = from_dspy_signature(dspy_sig)
    assert snapshot(native) == snapshot(dspy_sig)
    assert native.equals(build(NATIVE)) and native.equals(dspy_sig)
    assert [annotation_name(f.annotation) for f in native.fields.values()] == [
        get_annotation_name(f.annotation) for f in dspy_sig.fields.values()]


def cls_bad_annotation_only(L: Any) -> Any:
    class Bad(L.Signature):
        x: int
        q = L.InputField()

    return Bad


def cls_bad_annotation_only_with_doc(L: Any) -> Any:
    class Bad(L.Signature):
        """Doc."""

        x: int = 5
        q = L.InputField()

    return Bad


def cls_bad_plain_attribute(L: Any) -> Any:
    class Bad(L.Signature):
        x = 5
        q = L.InputField()

    return Bad


def cls_bad_underscore_field(L: Any) -> Any:
    class Bad(L.Signature):
        _q = L.InputField()

    return Bad


def cls_bad_reserved(L: Any) -> Any:
    class Bad(L.Signature):
        instructions = L.InputField()

    return Bad


CLASS_MAPPED = [  # builder, DSPy's error class, native error class, words in native message
    (cls_bad_annotation_only, TypeError, SignatureTypeError, ["`x`", "InputField or OutputField"]),
    (cls_bad_annotation_only_with_doc, TypeError, SignatureTypeError, ["`x`", "InputField or OutputField"]),
    (cls_bad_plain_attribute, pydantic.errors.PydanticUserError, SignatureError, ["`x = 5`", "ClassVar"]),
    (cls_bad_underscore_field, pydantic.errors.PydanticUserError, SignatureError, ["`_q`", "underscore"]),
    (cls_bad_reserved, TypeError, SignatureError, ["`instructions`", "reserved"]),
]


@pytest.mark.parametrize(("build", "dspy_error", "native_error", "words"), CLASS_MAPPED,
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_class_signature_error_mapping(build: Any, dspy_error: type, native_error: type, words: list[str]) -> None:
    with pytest.raises(dspy_error):
        build(dspy)
    with pytest.raises(native_error) as info:
        build(NATIVE)
    for word in words:
        assert word in str(info.value)


# ---------------------------------------------------------------------------------------------------------------
# Dict-based make_signature and the derived-signature methods
# ---------------------------------------------------------------------------------------------------------------
def _dict_cases(L: Any) -> dict[str, Any]:
    return {
        "tuples": {"q": (int, L.InputField(desc="d")), "a": (None, L.OutputField())},
        "bare_fields": {"q": L.InputField(), "a": L.OutputField(annotation=int)},
        "factory": {"q": (int, L.InputField(default_factory=list)), "a": (str, L.OutputField(default=3))},
        "bad_name": {1: (int, L.InputField())},
        "bad_value": {"q": 5},
        "bad_field": {"q": (int, 5)},
        "bad_type": {"q": ("int", L.InputField())},
        "bad_tuple": {"q": (int, L.InputField(), 3)},
        "short_tuple": {"q": (int,)},
        "special_generic": {"q": (typing.List, L.InputField())},
        "callable_form": {"q": (typing.Callable, L.InputField())},
    }


@pytest.mark.parametrize("case", list(_dict_cases(NATIVE)))
def test_dict_signature_matches_dspy(case: str) -> None:
    expected = outcome(lambda: dspy.Signature(_dict_cases(dspy)[case], "Inst."))
    assert outcome(lambda: ns.Signature(_dict_cases(NATIVE)[case], "Inst.")) == expected


def _derive(L: Any) -> dict[str, Any]:
    base = cls_basic(L)
    s = L.Signature("q, r -> a", "Inst")
    e = cls_empty_doc(L)
    return {
        "with_instructions": lambda: s.with_instructions("New"),
        "append_instructions": lambda: s.append_instructions("More"),
        "append_instructions_class": lambda: base.append_instructions("More"),
        "with_updated_fields": lambda: s.with_updated_fields("q", int, desc="QQ", foo=1),
        "with_updated_fields_kind": lambda: s.with_updated_fields("a", None, __dspy_field_type="input"),
        "with_updated_fields_prefix": lambda: base.with_updated_fields("answer", prefix="Ans:", constraints="c"),
        "with_updated_fields_missing": lambda: s.with_updated_fields("zz", int, desc="QQ"),
        "prepend": lambda: s.prepend("ctx", L.InputField(desc="c"), list[str]),
        "append_output": lambda: s.append("conf", L.OutputField()),
        "insert_middle": lambda: s.insert(1, "mid", L.InputField(), int),
        "insert_negative": lambda: s.insert(-2, "x", L.InputField()),
        "insert_too_far": lambda: s.insert(5, "x", L.InputField()),
        "insert_too_negative": lambda: s.insert(-5, "x", L.OutputField()),
        "insert_existing_name": lambda: s.insert(0, "a", L.InputField()),
        "insert_field_of_other": lambda: s.insert(0, "qq", base.fields["answer"]),
        "delete": lambda: s.delete("q"),
        "delete_missing": lambda: s.delete("zz"),
        "empty_doc_derived": lambda: e.append("z", L.InputField()),
        "class_with_instructions": lambda: base.with_instructions("x"),
        "rebuild_from_fields": lambda: L.Signature(base.fields),
        "load_state": lambda: base.load_state({"instructions": "", "fields": [
            {"prefix": "P1:", "description": "d1"}, {"prefix": "P2:", "description": "d2"}]}),
    }


@pytest.mark.parametrize("case", list(_derive(NATIVE)))
def test_derived_signatures_match_dspy(case: str) -> None:
    expected = outcome(_derive(dspy)[case])
    assert outcome(_derive(NATIVE)[case]) == expected


def test_dump_state_and_equals_match_dspy() -> None:
    for L_a, L_b in ((dspy, dspy), (NATIVE, NATIVE)):
        base_a = cls_basic(L_a)
        assert base_a.dump_state() == cls_basic(dspy).dump_state()
    pairs = [
        ("q, r -> a", "Inst", "r, q -> a", "Inst"),
        ("q, r -> a", "Inst", "q, r -> a", "Inst"),
        ("q: int, r -> a", "Inst", "q, r -> a", "Inst"),
        ("q -> a", "Inst", "q -> a", "Other"),
        ("q -> a", None, "q -> a, b", None),
        ("q -> a: int", "I", "q -> a", "I"),
    ]
    for s1, i1, s2, i2 in pairs:
        expected = dspy.Signature(s1, i1).equals(dspy.Signature(s2, i2))
        assert ns.Signature(s1, i1).equals(ns.Signature(s2, i2)) is expected, (s1, s2)
    assert ns.Signature("q -> a").equals(5) is dspy.Signature("q -> a").equals(5) is False
    assert cls_basic(NATIVE).equals(cls_basic(NATIVE))
    assert not ns.Signature("q: int -> a").equals(cls_basic(NATIVE))


def test_ensure_signature_matches_dspy() -> None:
    assert ns.ensure_signature(None) is dspy.ensure_signature(None) is None
    sig = ns.Signature("q -> a")
    assert ns.ensure_signature(sig) is sig
    assert snapshot(ns.ensure_signature("q -> a", "I")) == snapshot(dspy.ensure_signature("q -> a", "I"))
    expected = outcome(lambda: dspy.ensure_signature(dspy.Signature("q -> a"), "x"))
    assert outcome(lambda: ns.ensure_signature(sig, "x")) == expected


# ---------------------------------------------------------------------------------------------------------------
# from_dspy_signature: cached per class, weakly, refreshed when DSPy's instructions are reassigned
# ---------------------------------------------------------------------------------------------------------------
def test_from_dspy_signature_is_cached_weakly_and_refreshed() -> None:
    from dspex.signature._from_dspy import _CACHE

    dspy_sig = dspy.Signature("q: int -> a", "First.")
    first = from_dspy_signature(dspy_sig)
    assert from_dspy_signature(dspy_sig) is first
    assert ns.ensure_signature(dspy_sig) is first
    assert first.__dspy_signature__() is dspy_sig
    dspy_sig.instructions = "Second."
    second = from_dspy_signature(dspy_sig)
    assert second is not first and second.instructions == "Second."
    gone = weakref.ref(dspy_sig)
    before = len(_CACHE)
    del dspy_sig, first, second
    gc.collect()
    assert gone() is None  # other tests' signatures may be freed by the same collection: count only as a bound
    assert len(_CACHE) <= before - 1


# ---------------------------------------------------------------------------------------------------------------
# annotation_name == dspy.adapters.utils.get_annotation_name
# ---------------------------------------------------------------------------------------------------------------
ANNOTATIONS = [
    str, int, float, bool, type(None), None, Any, list, dict, typing.List, typing.Dict, typing.Tuple,
    list[str], typing.List[int], dict[str, Any], typing.Dict[str, typing.List[int]], tuple[int, ...], tuple[()],
    typing.Tuple[int, str], set[int], frozenset[str], Optional[int], int | None, None | int, Union[int, str],
    int | str, Union[str, int], Optional[list[dict[str, int]]], list[Optional[dict[str, list[int]]]],
    Literal["a", "it's", 'x"y', "b'\"c", 1, True, None], Literal[Color.RED], Literal["b", "a"], Color, Item,
    list[Item], dict[str, Color | None], datetime.datetime, typing.Callable[[int], str], typing.Annotated[int, "m"],
    dspy.Image, dspy.Reasoning, list[dspy.History], typing.ClassVar[int], typing.Literal, typing.Optional,
]


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=repr)
def test_annotation_name_matches_dspy(annotation: Any) -> None:
    assert annotation_name(annotation) == get_annotation_name(annotation)


def test_annotation_name_is_not_fooled_by_order_insensitive_equality() -> None:
    """typing says Union[int, str] == Union[str, int]; their names differ, so the cache must not conflate them."""
    assert Union[int, str] == Union[str, int] and hash(Union[int, str]) == hash(Union[str, int])
    for a, b in [(Union[int, str], Union[str, int]), (Literal["a", "b"], Literal["b", "a"]),
                 (list[Union[int, str]], list[Union[str, int]])]:
        assert (annotation_name(a), annotation_name(b)) == (get_annotation_name(a), get_annotation_name(b))
        assert annotation_name(a) != annotation_name(b)


# ---------------------------------------------------------------------------------------------------------------
# Hypothesis: random field lists, native vs DSPy
# ---------------------------------------------------------------------------------------------------------------
_ID_CHARS = st.characters(categories=("Lu", "Ll", "Lo", "Nd", "Pc"), max_codepoint=0x4FFF)
identifiers = st.text(_ID_CHARS, min_size=1, max_size=8).filter(
    lambda s: s.isidentifier() and not keyword.iskeyword(s) and not s.startswith("_") and s not in RESERVED_NAMES
)
_LEAVES = ["str", "int", "float", "bool", "Any", "NoneType", "list", "dict", "Literal['a', 'b']",
           "Literal[1, 'x\"y', \"it's\"]", "Literal[True, None]"]
type_texts = st.recursive(
    st.sampled_from(_LEAVES),
    lambda inner: st.one_of(
        inner.map(lambda t: f"list[{t}]"),
        inner.map(lambda t: f"List[{t}]"),
        inner.map(lambda t: f"dict[str, {t}]"),
        inner.map(lambda t: f"Optional[{t}]"),
        inner.map(lambda t: f"{t} | None"),
        inner.map(lambda t: f"tuple[{t}, ...]"),
        inner.map(lambda t: f"set[{t}]"),
        st.tuples(inner, inner).map(lambda p: f"Union[{p[0]}, {p[1]}]"),
        st.tuples(inner, inner).map(lambda p: f"tuple[{p[0]}, {p[1]}]"),
    ),
    max_leaves=4,
)
field_specs = st.lists(st.tuples(identifiers, st.none() | type_texts), min_size=0, max_size=4)
instruction_texts = st.none() | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


def _spec_text(fields: list[tuple[str, str | None]]) -> str:
    return ", ".join(name if t is None else f"{name}: {t}" for name, t in fields)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs=field_specs, outputs=field_specs, instructions=instruction_texts)
def test_property_string_signatures_match_dspy(inputs: Any, outputs: Any, instructions: str | None) -> None:
    text = f"{_spec_text(inputs)} -> {_spec_text(outputs)}"
    expected = outcome(lambda: dspy.Signature(text, instructions))
    actual = outcome(lambda: ns.Signature(text, instructions))
    assert actual == expected
    if expected[0] == "ok":
        d, n = dspy.Signature(text, instructions), ns.Signature(text, instructions)
        assert [annotation_name(f.annotation) for f in n.fields.values()] == [
            get_annotation_name(f.annotation) for f in d.fields.values()]
        assert from_dspy_signature(d).equals(n)


def _type_objects() -> st.SearchStrategy[Any]:
    leaves = st.sampled_from([str, int, float, bool, Any, type(None), Color, Item, Literal["x", "y"], Literal[1, 2]])
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            inner.map(lambda t: list[t]), inner.map(lambda t: dict[str, t]), inner.map(lambda t: Optional[t]),
            inner.map(lambda t: tuple[t, ...]), st.tuples(inner, inner).map(lambda p: Union[p[0], p[1]]),
        ),
        max_leaves=3,
    )


_field_kwargs = st.fixed_dictionaries(
    {},
    optional={
        "desc": st.text(max_size=10),
        "prefix": st.text(max_size=6),
        "ge": st.integers(-5, 5),
        "max_length": st.integers(0, 4),
        "default": st.none(),
    },
)
dict_specs = st.lists(
    st.tuples(identifiers, st.booleans(), st.none() | _type_objects(), _field_kwargs),
    min_size=1, max_size=5, unique_by=lambda t: t[0],
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=dict_specs, instructions=instruction_texts)
def test_property_dict_signatures_match_dspy(spec: Any, instructions: str | None) -> None:
    def build(L: Any) -> Any:
        fields = {}
        for name, is_input, type_, kwargs in spec:
            maker = L.InputField if is_input else L.OutputField
            fields[name] = (type_, maker(**kwargs))
        return L.Signature(fields, instructions)

    expected = outcome(lambda: build(dspy))
    assert outcome(lambda: build(NATIVE)) == expected
    if expected[0] == "ok":
        d, n = build(dspy), build(NATIVE)
        assert [annotation_name(f.annotation) for f in n.fields.values()] == [
            get_annotation_name(f.annotation) for f in d.fields.values()]
        assert snapshot(from_dspy_signature(d)) == snapshot(n)
        assert unsupported_fields(n) == unsupported_fields(d) == []


def test_with_updated_fields_desc_none_renders_like_dspy() -> None:
    """DSPy keeps an explicit desc=None and its prompt reads ``: None``; native renders the same system message."""
    import dspy

    from dspex.adapters import ChatAdapter

    for field in ("question", "answer"):
        real = dspy.Signature("question -> answer").with_updated_fields(field, desc=None)
        native = ns.Signature("question -> answer").with_updated_fields(field, desc=None)
        assert ChatAdapter().format(native, [], {"question": "q"}) == dspy.ChatAdapter().format(real, [], {"question": "q"})


@pytest.mark.parametrize("declared", [False, True])
def test_desc_none_is_kept_as_none_in_schema_extra_and_saved_state(declared: bool) -> None:
    """The prompt reads the text "None", but json_schema_extra and dump_state hold DSPy's None, and a state saved
    by either side loads into the other with the same fields (found by the gate: an XMLAdapter error message
    quoting the field)."""
    def build(L: Any) -> Any:
        if declared:
            return L.Signature({"q": (str, L.InputField()), "a": (int, L.OutputField(desc=None))})
        return L.Signature("q -> a").with_updated_fields("a", type_=int, desc=None)

    real, native = build(dspy), build(NATIVE)
    assert snapshot(native) == snapshot(real)
    assert native.output_fields["a"].json_schema_extra["desc"] is None
    assert native.dump_state() == real.dump_state()
    assert snapshot(dspy.Signature("q -> a: int").load_state(native.dump_state())) == \
        snapshot(ns.Signature("q -> a: int").load_state(real.dump_state()))
