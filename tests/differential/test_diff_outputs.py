"""Generated output types x generated LM answers: every parse, coercion, fallback and error must match DSPy."""

from __future__ import annotations

from typing import Any

from diff_strategies import (
    answer_texts,
    build_signature,
    completion,
    json_completion,
    parse_json_text,
    signature_spec,
)
from diff_support import Case, assert_same, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)


@st.composite
def output_case(draw: Any) -> Case:
    spec = draw(signature_spec())
    form = draw(st.sampled_from(["string", "class", "dspy"]))
    cot = draw(st.booleans())
    names = [n for n, *_ in spec["outputs"]]
    types = {n: ann for n, ann, *_ in spec["outputs"]}
    if cot:
        names = ["reasoning"] + names
        types = {"reasoning": str, **types}
    n = draw(st.sampled_from([1, 1, 1, 2, 3]))
    first = []
    for _ in range(n):
        texts = {name: draw(answer_texts(types[name])) for name in names}
        first.append(draw(completion(texts)))
    # The JSON fallback's answer (used only if the chat parse fails); sometimes a dict with logprobs.
    fb_fields = {name: parse_json_text(draw(answer_texts(types[name]))) for name in names}
    second = [draw(json_completion(fb_fields))] * n
    if draw(st.integers(0, 5)) == 0:
        first = [{"text": t, "logprobs": {"tokens": [1]}} for t in first]
    inputs = {name: "in" for name, *_ in spec["inputs"]}
    config = {"n": n} if n > 1 else {}

    def build(ns: Any) -> Any:
        sig = build_signature(ns, spec, form)
        return (ns.ChainOfThought if cot else ns.Predict)(sig)

    return Case(build=build, call={**inputs, "config": config}, script=[first, second],
                mode=draw(st.sampled_from(["sync", "async"])), label=f"form={form} cot={cot} spec={spec!r}")


@settings(max_examples=examples(120, 1500), **SETTINGS)
@given(output_case())
def test_generated_outputs_match_dspy(case: Case) -> None:
    assert_same(case)
