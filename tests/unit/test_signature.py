"""Native Signature behaviour on its own: fields, immutability, caching, supported types, custom-type lookup,
and import hygiene. Side-by-side parity with DSPy lives in test_signature_vs_dspy.py."""

from __future__ import annotations

import datetime
import enum
import gc
import subprocess
import sys
import typing
import weakref
from typing import Any, Literal, Optional, Union

import dspy
from dspy.experimental import Citations
import pydantic
import pytest

import dspex.native
from dspex.errors import SignatureError, SignatureTypeError, UnsupportedTypeError
from dspex.signature import (
    MISSING,
    Field,
    InputField,
    OutputField,
    Signature,
    annotation_name,
    check_field,
    check_signature,
    detect_custom_types_from_caller,
    ensure_signature,
    from_dspy_signature,
    is_supported,
    make_signature,
    unsupported_fields,
)
from dspex.signature._types import why_unsupported

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


class Color(enum.Enum):
    RED = "red"


class Item(pydantic.BaseModel):
    name: str
    children: list["Item"] = []  # self-reference: the support check must terminate


class HasImage(pydantic.BaseModel):
    picture: Optional[dspy.Image] = None


class Wrapper(pydantic.BaseModel):
    inner: list[HasImage]


# ---------------------------------------------------------------------------------------------------------------
# Import hygiene and cost
# ---------------------------------------------------------------------------------------------------------------
def test_signature_room_imports_and_works_without_pydantic_or_dspy() -> None:
    code = (
        "import sys\n"
        "from dspex.signature import Signature, InputField, OutputField, annotation_name, unsupported_fields\n"
        "class QA(Signature):\n"
        "    '''Answer.'''\n"
        "    question: str = InputField(desc='q')\n"
        "    answer: list[int] = OutputField(ge=1)\n"
        "s = Signature('q, c: list[str] -> a: Optional[int]', 'Inst')\n"
        "s = s.append('x', OutputField()).with_instructions('New')\n"
        "print(annotation_name(s.fields['a'].annotation), unsupported_fields(s), unsupported_fields(QA))\n"
        "print('dspy' in sys.modules, 'pydantic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["Union[int, NoneType] [] []", "False False"]


# ---------------------------------------------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------------------------------------------
def test_field_keywords_are_split_like_dspy() -> None:
    f = InputField(desc="d", prefix="P:", ge=1, le=5, alias="al", format=str, default=3, annotation=int)
    assert (f.kind, f.desc, f.prefix, f.default, f.annotation) == ("input", "d", "P:", 3, str)
    assert f.constraints == "greater than or equal to: 1, less than or equal to: 5"
    assert f.extra == {"ge": 1, "le": 5, "alias": "al"}
    assert f.json_schema_extra == {"__dspy_field_type": "input", "desc": "d", "prefix": "P:", "format": str,
                                   "constraints": "greater than or equal to: 1, less than or equal to: 5"}
    assert not f.is_required() and f.get_default() == 3
    g = OutputField(description="from pydantic", default_factory=list)
    assert g.desc == "from pydantic" and g.get_default() == [] and g.default is MISSING
    assert OutputField().is_required() and OutputField().get_default() is None


def test_fields_join_a_signature_with_dspy_defaults_and_type_markers() -> None:
    s = Signature("myQuestion, ctx: list[str] -> answer: int")
    q, ctx, a = s.fields.values()
    assert (q.prefix, q.desc, q.type_undefined) == ("My Question:", "${myQuestion}", True)
    assert (ctx.annotation, ctx.type_undefined) == (list[str], False)
    assert (a.kind, a.annotation, a.type_undefined) == ("output", int, None)
    assert s.signature == "myQuestion, ctx -> answer"
    assert s.instructions == "Given the fields `myQuestion`, `ctx`, produce the fields `answer`."


# ---------------------------------------------------------------------------------------------------------------
# Immutability and caching
# ---------------------------------------------------------------------------------------------------------------
def test_signatures_are_immutable_classes() -> None:
    s = Signature("q -> a", "Inst")
    with pytest.raises(SignatureError, match="with_instructions"):
        s.instructions = "changed"
    assert s.instructions == "Inst"
    with pytest.raises(SignatureTypeError, match="not instantiated"):
        s(q="x")
    fields_before = s.fields
    derived = [s.with_instructions("x"), s.append_instructions("y"), s.prepend("c", InputField()),
               s.append("d", OutputField()), s.delete("q"), s.with_updated_fields("q", int, desc="Q")]
    assert all(d is not s for d in derived)
    assert s.fields == fields_before and s.instructions == "Inst"
    s.fields["q"] = None  # a copy: the class is untouched
    assert s.fields["q"] == fields_before["q"]


def test_per_class_work_is_cached() -> None:
    s = Signature("q: int -> a: datetime.timedelta")
    assert s.instructions is s.instructions
    assert unsupported_fields(s) == ["a"]
    from dspex.signature._types import _UNSUPPORTED_CACHE

    assert _UNSUPPORTED_CACHE[s] == ("a",)
    # The cache must not keep a signature alive. (Counting entries is not enough: the same collection may also
    # free other tests' signatures, as one CI run saw.)
    gone = weakref.ref(s)
    before = len(_UNSUPPORTED_CACHE)
    del s
    gc.collect()
    assert gone() is None
    assert len(_UNSUPPORTED_CACHE) <= before - 1


# ---------------------------------------------------------------------------------------------------------------
# Supported types
# ---------------------------------------------------------------------------------------------------------------
SUPPORTED = [
    str, int, float, bool, type(None), None, Any, list, dict, tuple, set, frozenset, typing.List, typing.Dict,
    typing.Tuple, list[str], typing.List[int], dict[str, Any], typing.Dict[str, list[int]], tuple[int, ...],
    tuple[int, str], set[int], frozenset[str], Optional[int], int | None, Union[int, str], Literal["a", "b"],
    Literal[1, True, None, Color.RED], Color, Item, list[Item], dict[str, Optional[Color]],
    list[dict[str, list[tuple[int, ...]]]], pydantic.BaseModel,
    # DSPy's content types (values render through their own format()) and dates and times
    dspy.Image, list[dspy.Image], Optional[dspy.Audio], dspy.File, dspy.Code, dspy.Code["python"],
    datetime.datetime, datetime.date, datetime.time, list[datetime.date], Optional[datetime.datetime],
]
UNSUPPORTED = [
    (dspy.History, "DSPy type"), (dspy.Tool, "DSPy type"), (list[Citations], "DSPy type"), (HasImage, "field `picture` is a DSPy type"),
    (Wrapper, "field `picture` is a DSPy type"), (datetime.timedelta, "not a date or time"),
    (typing.Callable[[int], str], "not among"), (len, "not a type"), (complex, "not among"), (bytes, "not among"),
    (object, "not among"), (typing.Literal, "not a type"), (Literal[b"x"], "Literal value b'x'"),
    (list[int, str], "2 type arguments"), (dict[str, int, int], "3 type arguments"),
    (typing.Annotated[int, "meta"], "not among"), (typing.Sequence[int], "not among"),
]


@pytest.mark.parametrize("annotation", SUPPORTED, ids=repr)
def test_supported_annotations(annotation: Any) -> None:
    assert is_supported(annotation)
    check_field("f", Field(kind="input", annotation=annotation))


@pytest.mark.parametrize(("annotation", "why"), UNSUPPORTED, ids=lambda v: repr(v)[:40])
def test_unsupported_annotations_name_field_and_type(annotation: Any, why: str) -> None:
    assert not is_supported(annotation)
    assert why in why_unsupported(annotation)
    with pytest.raises(UnsupportedTypeError) as info:
        check_field("my_field", Field(kind="output", annotation=annotation))
    assert info.value.field == "my_field" and info.value.annotation is annotation
    assert "`my_field`" in str(info.value) and "implementation='dspy'" in str(info.value)


AGENT_ROLES = [  # (annotation, kinds where native adapters give it DSPy's role)
    (dspy.History, {"input"}), (dspy.Tool, {"input"}), (list[dspy.Tool], {"input"}), (dspy.ToolCalls, {"output"}),
    (dspy.Reasoning, {"input", "output"}), (dspy.ToolCallResults, {"input"}), (Citations, {"input", "output"}),
]


@pytest.mark.parametrize(("annotation", "kinds"), AGENT_ROLES, ids=lambda v: repr(sorted(v) if isinstance(v, set) else v)[:40])
def test_agent_types_are_supported_in_their_roles(annotation: Any, kinds: set[str]) -> None:
    """DSPy's agent types (History, Tool, ToolCalls, Reasoning) run natively where DSPy's adapters give them a
    role, so routed modules using them stay native; anywhere else they still go to DSPy."""
    for kind in ("input", "output"):
        field = Field(kind=kind, annotation=annotation)  # type: ignore[arg-type]
        if kind in kinds:
            check_field("f", field)
        else:
            with pytest.raises(UnsupportedTypeError, match="not among the uses"):
                check_field("f", field)
    assert not is_supported(dict[str, annotation])  # nested: DSPy's own rules


def test_dspy_type_subclasses_are_detected_by_module() -> None:
    """A content type's subclass renders through its own format() and description(), so it is supported; a
    subclass of a role type plays no role in DSPy's adapters (they compare by equality) and is not."""
    class MyImage(dspy.Image):
        pass

    class MyHistory(dspy.History):
        pass

    assert is_supported(MyImage) and is_supported(dict[str, MyImage])
    assert not is_supported(MyHistory) and not is_supported(dict[str, MyHistory])


def test_base_model_is_recognised_by_mro_names_without_importing_pydantic() -> None:
    fake_base = type("BaseModel", (), {"__module__": "pydantic.main"})
    fake_model = type("Model", (fake_base,), {"__module__": "user"})
    assert is_supported(fake_model)
    other_base = type("BaseModel", (), {"__module__": "elsewhere"})
    assert not is_supported(type("Model", (other_base,), {}))


def test_unsupported_fields_reads_native_and_dspy_signatures() -> None:
    class Mixed(dspy.Signature):
        q: str = dspy.InputField()
        img: dspy.Image = dspy.InputField()
        raw: bytes = dspy.InputField()
        when: datetime.date = dspy.OutputField()
        cites: Citations = dspy.OutputField()
        a: int = dspy.OutputField()

    assert unsupported_fields(Mixed) == ["raw"]
    native = from_dspy_signature(Mixed)
    assert unsupported_fields(native) == ["raw"]
    with pytest.raises(UnsupportedTypeError, match="`raw`"):
        check_signature(native)
    check_signature(Signature("q: list[str] -> a: Optional[int]"))


def test_native_module_refuses_an_unsupported_signature_at_construction() -> None:
    with pytest.raises(UnsupportedTypeError, match="`when`"):
        dspex.native.Predict("q -> when: datetime.timedelta")


# ---------------------------------------------------------------------------------------------------------------
# Custom types from the caller's frames: dspex's own frames are skipped
# ---------------------------------------------------------------------------------------------------------------
def test_native_modules_find_custom_types_in_the_users_frame() -> None:
    class MyModel(pydantic.BaseModel):
        y: int

    p = dspex.native.Predict("q: MyModel -> a: Color")
    assert p.signature.fields["q"].annotation is MyModel
    assert p.signature.fields["a"].annotation is Color
    cot = dspex.native.ChainOfThought("q: MyModel -> a")
    assert cot.predict.signature.fields["q"].annotation is MyModel
    assert ensure_signature("q: MyModel -> a").fields["q"].annotation is MyModel


def test_dspex_module_globals_never_shadow_a_users_type() -> None:
    """dspex's modules define names like Field, Signature and make_signature; a user type of the same name must
    win. (DSPy walks its own frames first, so there `Field` is pydantic's Field function: documented.)"""

    class Field(pydantic.BaseModel):  # noqa: F811 - deliberately shadows an imported name
        z: int

    class SignatureMeta(pydantic.BaseModel):
        w: int

    p = dspex.native.Predict("q: Field -> a: SignatureMeta")
    assert p.signature.fields["q"].annotation is Field
    assert p.signature.fields["a"].annotation is SignatureMeta
    with pytest.raises(ValueError, match="Field types must be types"):
        dspy.Signature("q: Field -> a")


def test_detect_custom_types_reads_only_names_after_a_colon() -> None:
    class Local:
        pass

    assert detect_custom_types_from_caller("q: Local -> a: int") == {"Local": Local}
    assert detect_custom_types_from_caller("q: list[Local] -> a") is None
    assert detect_custom_types_from_caller("q: int, r: List, s: Exception -> a") is None  # typing, builtins
    assert detect_custom_types_from_caller("q: typing.List -> a") == {"typing": typing}
    assert detect_custom_types_from_caller("q: Nowhere -> a") is None


# ---------------------------------------------------------------------------------------------------------------
# Class bodies: string annotations, dspy fields inside native classes, errors that name the field
# ---------------------------------------------------------------------------------------------------------------
def test_string_annotations_are_evaluated_where_the_class_is_written() -> None:
    class Local(pydantic.BaseModel):
        v: int

    class Sig(Signature):
        q: "list[Local]" = InputField()
        a: "Optional[Item]" = OutputField()

    assert Sig.fields["q"].annotation == list[Local]
    assert Sig.fields["a"].annotation == Optional[Item]
    with pytest.raises(SignatureError, match="`q`.*Nowhere"):
        class Bad(Signature):
            q: "Nowhere" = InputField()  # noqa: F821


def test_dspy_fields_are_accepted_in_native_signatures() -> None:
    class Sig(Signature):
        """Mixed."""

        q: int = dspy.InputField(desc="dq", ge=2)
        a = dspy.OutputField(prefix="Ans:")

    assert Sig.fields["q"].json_schema_extra == {"__dspy_field_type": "input", "desc": "dq", "prefix": "Q:",
                                                 "constraints": "greater than or equal to: 2"}
    assert Sig.fields["q"].extra == {"ge": 2}
    assert Sig.fields["a"].type_undefined is True and Sig.fields["a"].prefix == "Ans:"
    made = make_signature({"q": (int, dspy.InputField()), "a": dspy.OutputField()})
    assert [(f.kind, f.annotation) for f in made.fields.values()] == [("input", int), ("output", str)]
    assert Signature("q -> a").append("b", dspy.OutputField(desc="B")).fields["b"].desc == "B"


def test_signature_errors_name_what_to_fix() -> None:
    with pytest.raises(SignatureError, match=r"`instructions`.*reserved"):
        Signature("instructions -> a")
    with pytest.raises(SignatureError, match=r"'1q'"):
        Signature("1q -> a")
    with pytest.raises(SignatureTypeError, match="a dict of fields"):
        make_signature(42)  # type: ignore[arg-type]
    with pytest.raises(SignatureTypeError, match="InputField\\(\\) or OutputField\\(\\)"):
        Signature("q -> a").insert(0, "x", "not a field")
    with pytest.raises(SignatureTypeError, match="got 42"):
        ensure_signature(42)
    with pytest.raises(KeyError):
        Signature("q -> a").with_updated_fields("missing", desc="x")


def test_annotation_name_cache_keeps_classes_weakly() -> None:
    from dspex.signature._types import _NAME_CACHE

    local = type("Local", (), {})
    assert annotation_name(local) == "Local" and local in _NAME_CACHE
    gone = weakref.ref(local)
    before = len(_NAME_CACHE)
    del local
    gc.collect()
    assert gone() is None  # other tests' classes may be freed by the same collection: count only as a bound
    assert len(_NAME_CACHE) <= before - 1
