"""Hunting cases: small signatures whose typed fields meet answers, inputs and demos of the wrong shape.

The LM's answers keep a clean layout (every header, the completed marker) so each case reaches the value
parsers, where a one-line slip (``isinstance`` for ``type(...) is``, a skipped validation) shows.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from hypothesis import strategies as st

from ._case import Case, DemoSpec, FieldSpec, LMSpec, SignatureSpec
from ._completions import jsonable
from ._hunt import answer_texts, field_values, hunt_annotations, well_formed_texts, wrong_shape_values
from ._type_strategies import custom_types_in, identifiers, values_of

__all__ = ["hunt_cases", "json_answers", "string_names"]


def string_names(fields: Sequence[FieldSpec]) -> tuple[bool, tuple[tuple[str, Any], ...]]:
    """(can be a string signature found from the caller's frames, the user type names it must see): DSPy finds
    a user type in the caller's frames only as a field's whole annotation, so a nested one needs ``custom_types``
    (form ``string_types``) or a class statement; two user types of one name need a class statement."""
    names: dict[str, Any] = {}
    found = True
    for f in fields:
        for tp in custom_types_in(f.annotation):
            if names.setdefault(tp.__name__, tp) is not tp:
                return False, ()
            found = found and tp is f.annotation
    return found, tuple(names.items())


def _json_field(tp: Any, target: bool) -> st.SearchStrategy[str]:
    """One field's value inside a JSON answer: of its type, another type's value, or a wrong-shape string."""
    if not target:
        return values_of(tp).map(lambda v: json.dumps(jsonable(v), ensure_ascii=False))
    return st.one_of(
        values_of(tp).map(lambda v: json.dumps(jsonable(v), ensure_ascii=False)),
        wrong_shape_values.map(lambda v: json.dumps(v if isinstance(v, float) else jsonable(v), ensure_ascii=False)),
        answer_texts(tp).map(lambda t: json.dumps(t, ensure_ascii=False)),
    )


@st.composite
def json_answers(draw: Any, outputs: Sequence[tuple[str, Any]], target: int) -> str:
    """A JSON answer whose ``target`` field is hunted; the others are of their type, so the parse reaches it."""
    return "{" + ", ".join(f"{json.dumps(n, ensure_ascii=False)}: {draw(_json_field(tp, i == target))}"
                           for i, (n, tp) in enumerate(outputs)) + "}"


@st.composite
def _chat_answer(draw: Any, outputs: Sequence[tuple[str, Any]], target: int) -> str:
    body = "".join(f"[[ ## {n} ## ]]\n{draw(answer_texts(tp) if i == target else well_formed_texts(tp))}\n\n"
                   for i, (n, tp) in enumerate(outputs))
    return body + "[[ ## completed ## ]]"


@st.composite
def _entry(draw: Any, text: str) -> Any:
    """The completion as the LM's list holds it: mostly the text, a quarter of the time a provider dict with
    logprobs (kept on the prediction) and now and then ``reasoning_content`` (what a Reasoning output reads)."""
    if draw(st.integers(0, 3)):
        return text
    entry: dict[str, Any] = {"text": text, "logprobs": draw(st.sampled_from(
        [None, {"content": [{"token": "a", "logprob": -0.5}]}, {"content": []}]))}
    if draw(st.booleans()):
        entry["reasoning_content"] = draw(st.sampled_from(["", "step by step", "ünï «x»"]))
    return entry


@st.composite
def hunt_cases(draw: Any, modules: Sequence[str] = ("predict", "cot")) -> Case:
    from .strategies import module_fields

    module = draw(st.sampled_from(list(modules)))
    n_in, n_out = draw(st.integers(1, 2)), draw(st.sampled_from([1, 1, 2, 3]))
    names = draw(st.lists(identifiers, min_size=n_in + n_out, max_size=n_in + n_out, unique=True))
    hunted = draw(hunt_annotations)   # drawn first, so the hunted field's family is a fair draw of its own
    outputs = [hunted] + [draw(hunt_annotations) for _ in range(n_out - 1)]
    at = draw(st.integers(0, n_out - 1))
    outputs[0], outputs[at] = outputs[at], outputs[0]
    fields = [FieldSpec(n, "input", draw(st.one_of(st.sampled_from([None, str]), hunt_annotations)))
              for n in names[:n_in]]
    fields += [FieldSpec(n, "output", tp) for n, tp in zip(names[n_in:], outputs)]
    form = draw(st.sampled_from(["string", "string_types", "class", "dict", "dspy_class"]))
    as_string, type_names = string_names(fields)
    if form == "string" and not as_string:
        form = "string_types" if type_names else "class"   # nested user types: named explicitly
    if form == "string_types" and not type_names and not as_string:
        form = "class"   # two user types of one name
    spec = SignatureSpec(tuple(fields), draw(st.sampled_from([None, "Answer with care."])), form, "Hunt",
                         type_names if form.startswith("string") else ())
    ins, outs = module_fields(spec, module)
    adapter = draw(st.sampled_from(["chat", "chat", "chat", "json"]))
    target = len(outs) - n_out + at   # one field at a time meets the wrong shape; the rest parse
    first = draw(_chat_answer(outs, target)) if adapter == "chat" else draw(json_answers(outs, target))
    fallback = draw(json_answers(outs, target))
    demos = None
    if draw(st.booleans()):
        demos = tuple(DemoSpec({n: draw(field_values(tp)) for n, tp in ins + outs if draw(st.integers(0, 4))},
                               as_example=draw(st.booleans())) for _ in range(draw(st.integers(1, 2))))
    # A quarter of the cases call the module twice and the LM answers the same again (temperature 0): a parse
    # cache that hands both calls one mutable value (a list, a dict, a model) would show.
    repeat = 2 if draw(st.integers(0, 3)) == 0 else 1
    script = (([draw(_entry(first))],) * repeat) + ([fallback], [fallback])
    return Case(module=module, signature=spec,  # type: ignore[arg-type]
                inputs={n: draw(field_values(tp)) for n, tp in ins},
                lm=LMSpec(script), demos=demos, adapter=adapter, repeat=repeat)  # type: ignore[arg-type]
