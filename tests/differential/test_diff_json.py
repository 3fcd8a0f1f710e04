"""The JSON side: JSONAdapter as the configured adapter and as ChatAdapter's fallback, with ``response_format``
(JSON mode or a structured-output model compared by name and schema), generated types, demos and answers."""

from __future__ import annotations

from typing import Any

from diff_strategies import answer_texts, build_signature, json_completion, parse_json_text, signature_spec
from diff_support import Case, assert_same, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))


@st.composite
def json_case(draw: Any) -> Case:
    spec = draw(signature_spec())
    form = draw(st.sampled_from(["string", "class", "dspy"]))
    cot = draw(st.booleans())
    outs = {n: ann for n, ann, *_ in spec["outputs"]}
    if cot:
        outs = {"reasoning": str, **outs}
    n = draw(st.sampled_from([1, 1, 2]))
    answers = []
    for _ in range(n):
        fields = {name: parse_json_text(draw(answer_texts(ann))) for name, ann in outs.items()}
        if draw(st.integers(0, 6)) == 0 and fields:
            fields.pop(draw(st.sampled_from(sorted(fields))))
        answers.append(draw(json_completion(fields)))
    capability = draw(st.sampled_from([((), False), (("response_format",), False), (("response_format",), True)]))
    adapter = draw(st.sampled_from(["json", None]))
    script = [answers, answers] if adapter == "json" else [["not the chat format"] * n, answers]
    ins = {name: "v" for name, *_ in spec["inputs"]}
    demos = None
    if draw(st.booleans()):
        demos = [{**ins, **{name: "1" for name in outs}}, dict(ins)]

    def build(ns: Any) -> Any:
        return (ns.ChainOfThought if cot else ns.Predict)(build_signature(ns, spec, form))

    return Case(build=build, call={**ins, "config": {"n": n} if n > 1 else {}}, script=script,
                supported_params=capability[0], schema=capability[1], adapter=adapter, demos=demos,
                mode=draw(st.sampled_from(["sync", "async"])), label=f"form={form} cot={cot} spec={spec!r}")


@settings(max_examples=examples(100, 1200), **SETTINGS)
@given(json_case())
def test_generated_json_adapter_cases_match_dspy(case: Case) -> None:
    assert_same(case)
