"""Generated inputs and demos: rendering of every value (sets, bytes, models, nested lists in str fields...),
missing/extra/None inputs, demos as dicts or dspy.Examples with missing, None, extra or odd values."""

from __future__ import annotations

from typing import Any

import dspy
from diff_strategies import build_signature, input_values, signature_spec, type_specs
from diff_support import Case, assert_same, chat, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))


@st.composite
def demo_list(draw: Any, names: list[str]) -> list[Any]:
    demos = []
    for _ in range(draw(st.integers(0, 4))):
        keys = draw(st.lists(st.sampled_from(names + ["extra", "reasoning"]), unique=True, max_size=len(names) + 2))
        demo = {k: draw(st.one_of(st.none(), input_values())) if draw(st.integers(0, 4)) == 0 else draw(input_values())
                for k in keys}
        kind = draw(st.sampled_from(["dict", "example", "example_inputs"]))
        if kind == "dict":
            demos.append(demo)
        elif kind == "example":
            demos.append(dspy.Example(**demo))
        else:
            demos.append(dspy.Example(**demo).with_inputs(*[k for k in keys[:1]]))
    return demos


@st.composite
def input_case(draw: Any) -> Case:
    spec = draw(signature_spec(out_types=st.sampled_from([(str, "str"), (int, "int"), (list[str], "list[str]")])))
    form = draw(st.sampled_from(["string", "class", "dspy"]))
    cot = draw(st.booleans())
    in_names = [n for n, *_ in spec["inputs"]]
    out_names = [n for n, *_ in spec["outputs"]]
    inputs: dict[str, Any] = {}
    for name in in_names:
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue  # missing input
        inputs[name] = None if choice == 1 else draw(input_values())
    if draw(st.integers(0, 5)) == 0:
        inputs["not_a_field"] = draw(input_values())
    demos = draw(demo_list(in_names + out_names))
    per_call = draw(st.booleans())
    answer = chat(**{"reasoning": "r", **{n: "7" if n != "answer" else '["x"]' for n in out_names}})

    def build(ns: Any) -> Any:
        return (ns.ChainOfThought if cot else ns.Predict)(build_signature(ns, spec, form))

    call = dict(inputs)
    if per_call:
        call["demos"] = demos
    return Case(build=build, call=call, script=[[answer], ['{"a": 1}']], demos=None if per_call else demos,
                mode=draw(st.sampled_from(["sync", "async"])), label=f"form={form} cot={cot} spec={spec!r}")


@settings(max_examples=examples(100, 1200), **SETTINGS)
@given(input_case())
def test_generated_inputs_and_demos_match_dspy(case: Case) -> None:
    assert_same(case)


@st.composite
def typed_input_case(draw: Any) -> Case:
    """Inputs whose declared type is anything the generator makes: drives the type-mismatch warnings and the
    JSON rendering of structured values, against values of every shape."""
    ann, text = draw(type_specs(max_leaves=3))
    value = draw(input_values())
    form = draw(st.sampled_from(["class", "dspy"]))

    def build(ns: Any) -> Any:
        side = dspy if form == "dspy" else ns
        sig = side.Signature({"q": (ann, side.InputField()), "a": (str, side.OutputField())}, "Inst.")
        return ns.Predict(sig)

    return Case(build=build, call={"q": value}, script=[[chat(a="ok")]], label=f"ann={ann!r} form={form}")


@settings(max_examples=examples(80, 800), **SETTINGS)
@given(typed_input_case())
def test_typed_inputs_render_and_warn_like_dspy(case: Case) -> None:
    assert_same(case)
