"""Hypothesis strategies for the composite modules: MultiChainComparison, BestOfN, Refine, Parallel, majority.

Inner signatures, inputs and LM answers come from the general strategies (every supported type, corrupted and
ill-typed answers, LM exceptions). On top: earlier attempts for MultiChainComparison (rationale or reasoning or
neither, multi-line and non-string answers, the wrong number of them); for BestOfN and Refine the wrapped module
(Predict, ChainOfThought, a two-predictor user program), every reward kind (``_composite_programs``: numbers,
ints, None, NaN, raising, argument-mutating, a lambda, a callable object), thresholds (None and NaN included),
``fail_count``, LM kwargs holding ``rollout_id`` / ``temperature`` and Refine's advice answers mixed into the
script; for Parallel every example kind and the error budget; for majority every input form, normaliser and
field choice.
"""

from __future__ import annotations

import json
import math
from collections import UserString
from typing import Any

from hypothesis import strategies as st

from ._case import LMSpec
from ._completions import lm_responses
from ._composite_case import CompositeCase
from ._composite_programs import NORMALIZERS, REWARDS
from ._error_strategies import garbage_responses, lm_exceptions
from ._type_strategies import NASTY_STRINGS, identifiers, texts
from .strategies import demos_for, inputs_for, module_fields, signature_specs

__all__ = ["mcc_cases", "best_of_n_cases", "refine_cases", "parallel_cases", "majority_cases"]

_FORMS = ("string", "class", "dict", "dspy_class")
_modes = st.sampled_from(["sync"] * 9 + ["async"])
_adapters = st.sampled_from(["chat"] * 6 + ["json", "chat_no_fallback"])
_lm_kwargs = st.sampled_from([None, None, {}, {"rollout_id": 3}, {"temperature": 0.5}, {"temperature": 0.0, "max_tokens": 50},
                              {"rollout_id": 7, "temperature": 0.2}, {"rollout_id": None}, {"n": 2}])
_capabilities = st.sampled_from([((), False), ((), False), (("response_format",), False), (("response_format",), True)])
_answer_texts = st.one_of(texts, st.sampled_from(NASTY_STRINGS), st.sampled_from(
    ["  padded\nsecond line", "1", "42", "", "The answer.", "yes", "no"]))


def _lm(draw: Any, script: list[Any]) -> LMSpec:
    params, schema = draw(_capabilities)
    return LMSpec(tuple(script), draw(_lm_kwargs), params, schema)


@st.composite
def _answers(draw: Any, outputs: list[tuple[str, Any]], count: int) -> list[Any]:
    """``count`` LM answers for these outputs: mostly well formed, some JSON, garbage or raising."""
    out = []
    for _ in range(count):
        kind = draw(st.sampled_from(["clean"] * 5 + ["chat", "json", "garbage", "raise"]))
        if kind == "clean":
            out.append(draw(lm_responses(outputs, 1, "chat", clean=True)))
        elif kind in ("chat", "json"):
            out.append(draw(lm_responses(outputs, 1, kind)))
        elif kind == "garbage":
            out.append(draw(garbage_responses))
        else:
            out.append(draw(lm_exceptions))
    return out


# --- MultiChainComparison --------------------------------------------------------------------------------------------
_attempt_values = st.one_of(_answer_texts, st.integers(-5, 99), st.none(), st.lists(st.integers(0, 3), max_size=2),
                            st.floats(allow_nan=False, allow_infinity=False))


# A rationale is text, now and then a text-like object that is not a str (``UserString``: its ``strip`` returns
# one of its own kind, so DSPy's ``split("\n")`` runs on it rather than on a str).
_rationales = st.sampled_from(["str"] * 3 + ["text-like"]).flatmap(
    lambda kind: _answer_texts if kind == "str" else _answer_texts.map(UserString))


@st.composite
def _attempt(draw: Any, last_key: str) -> dict[str, Any]:
    shape = draw(st.sampled_from(["rationale"] * 3 + ["reasoning"] * 3 + ["both", "neither", "no_answer", "extra"]))
    row: dict[str, Any] = {}
    if shape in ("rationale", "both", "extra", "no_answer"):
        row["rationale"] = draw(_rationales)
    if shape in ("reasoning", "both"):
        row["reasoning"] = draw(_rationales)
    if shape != "no_answer":
        row[last_key] = draw(_attempt_values)
    if shape == "extra":
        row[draw(identifiers)] = draw(texts)
    return row


@st.composite
def mcc_cases(draw: Any) -> CompositeCase:
    spec = draw(signature_specs(forms=_FORMS, max_inputs=2, max_outputs=2, refused_extras=False))
    m = draw(st.integers(1, 4))
    options: dict[str, Any] = {"M": m}
    if m == 3 and draw(st.booleans()):
        del options["M"]   # DSPy's default M (3), left to the constructor
    if draw(st.booleans()):
        options["temperature"] = draw(st.sampled_from([0.0, 0.7, 1.2]))
    if draw(st.integers(0, 4)) == 0:
        options.update(draw(st.sampled_from([{"n": 2}, {"max_tokens": 100}, {"temperature": 0.1, "n": 3}])))
    _, outs = module_fields(spec, "predict")
    last = outs[-1][0] if outs else "answer"   # no outputs: both constructors fail unpacking them
    count = m if draw(st.integers(0, 5)) else draw(st.integers(max(0, m - 1), m + 1))
    completions = [draw(_attempt(last)) for _ in range(count)]
    inputs = draw(inputs_for(spec))
    if draw(st.integers(0, 8)) == 0:
        inputs["reasoning_attempt_1"] = draw(texts)  # the caller's keywords win over the formatted attempts
    script = draw(_answers([("rationale", str)] + [o for o in outs if o[0] != "rationale"], 3))
    return CompositeCase("multi_chain_comparison", spec, inputs, _lm(draw, script), options, payload=completions,
                         adapter=draw(_adapters), mode=draw(_modes), repeat=draw(st.sampled_from([1] * 5 + [2])))


# --- BestOfN and Refine ------------------------------------------------------------------------------------------------
_thresholds = st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0, 10.0, math.inf, None, math.nan, 0.5])
_scores = st.sampled_from([0.0, 1.0, 2.5, 5, True, None, "raise", "nan", -1.0, 10.0])
_PREDICTOR_NAMES = {"predict": ["self"], "cot": ["predict"], "program": ["draft.predict", "polish"]}


def _inner_outputs(spec: Any, inner: str) -> list[list[tuple[str, Any]]]:
    """The outputs each LM call of one attempt asks for, in call order."""
    _, plain = module_fields(spec, "predict")
    _, cot = module_fields(spec, "cot")
    return {"predict": [plain], "cot": [cot], "program": [cot, plain]}[inner]


@st.composite
def _advice_answer(draw: Any, inner: str) -> list[str]:
    names = _PREDICTOR_NAMES[inner]
    advice = {name: draw(_answer_texts) for name in names if draw(st.integers(0, 3))}
    if draw(st.integers(0, 4)) == 0:
        advice[draw(identifiers)] = draw(texts)
    body = json.dumps(advice, ensure_ascii=False) if draw(st.integers(0, 6)) else draw(st.sampled_from(["not json", "[]"]))
    return [f"[[ ## discussion ## ]]\n{draw(_answer_texts)}\n\n[[ ## advice ## ]]\n{body}\n\n[[ ## completed ## ]]"]


@st.composite
def _rollout_case(draw: Any, module: str) -> CompositeCase:
    spec = draw(signature_specs(forms=_FORMS, max_inputs=2, max_outputs=2, refused_extras=False))
    inner = draw(st.sampled_from(["predict", "cot", "cot", "program"]))
    n = draw(st.integers(1, 4))
    options: dict[str, Any] = {"N": n, "threshold": draw(_thresholds)}
    if draw(st.booleans()):
        options["fail_count"] = draw(st.sampled_from([None, 0, 1, 2, 5]))
    reward = draw(st.sampled_from(list(REWARDS)))
    table = tuple(draw(st.lists(_scores, min_size=1, max_size=5))) if reward == "table" else ()
    per_attempt = _inner_outputs(spec, inner)
    script: list[Any] = []
    for _ in range(n):
        for outs in per_attempt:
            script += draw(_answers(outs, 1))
            if draw(st.integers(0, 4)) == 0:   # a parse failure's JSON retry
                script += draw(_answers(outs, 1))
        if module == "refine" and draw(st.integers(0, 5)):
            script.append(draw(_advice_answer(inner)))
    repeat = draw(st.sampled_from([1] * 5 + [2]))
    if repeat == 2:
        script = script + script
    # an optimised program's predictors carry demos and a config into every attempt's copy
    demos = draw(demos_for(spec, "predict" if inner == "predict" else "cot")) if draw(st.integers(0, 3)) == 0 else ()
    config = draw(st.sampled_from([{"temperature": 0.3}, {"max_tokens": 50}])) if draw(st.integers(0, 5)) == 0 else {}
    return CompositeCase(module, spec, draw(inputs_for(spec)), _lm(draw, script), options, inner=inner,  # type: ignore[arg-type]
                         reward=reward, table=table, adapter=draw(_adapters), mode=draw(_modes), repeat=repeat,
                         inner_demos=demos, inner_config=config, inner_lock=draw(st.integers(0, 5)) == 0)


def best_of_n_cases() -> Any:
    return _rollout_case("best_of_n")


def refine_cases() -> Any:
    return _rollout_case("refine")


# --- Parallel ---------------------------------------------------------------------------------------------------
@st.composite
def _example(draw: Any, inputs: dict[str, Any]) -> Any:
    import dspy

    kind = draw(st.sampled_from(["dict"] * 4 + ["example"] * 3 + ["example_no_inputs", "tuple", "invalid", "list"]))
    if kind == "dict":
        return dict(inputs)
    if kind == "example":
        return dspy.Example(**inputs, label=draw(texts)).with_inputs(*inputs)
    if kind == "example_no_inputs":
        return dspy.Example(**inputs)
    if kind == "tuple":
        return tuple(inputs.values())
    if kind == "list":
        return list(inputs.values())
    return draw(st.sampled_from([42, "text", None]))


@st.composite
def parallel_cases(draw: Any) -> CompositeCase:
    spec = draw(signature_specs(forms=("string", "class"), max_inputs=2, max_outputs=2, custom=False,
                                refused_extras=False))
    # (-1: DSPy's thread pool refuses it before anything runs; 2.5: a fraction of a thread runs, rounded up)
    threads = draw(st.sampled_from([1, 1, 1, 2, 4, -1, 2.5]))
    count = draw(st.integers(1, 5))
    examples = [draw(_example(draw(inputs_for(spec, odd=False)))) for _ in range(count)]
    options: dict[str, Any] = {"num_threads": draw(st.sampled_from([None, 3])),
                               "return_failed_examples": draw(st.booleans()),
                               "access_examples": draw(st.sampled_from([True, True, False])),
                               "disable_progress_bar": True}
    # With several threads which items run before a cancellation is timing; keep such runs below the budget.
    options["max_errors"] = draw(st.sampled_from([None, 1, 2, 100])) if threads == 1 else 100
    inner = draw(st.sampled_from(["predict", "cot"]))
    _, outs = module_fields(spec, inner)
    script = draw(_answers(outs, draw(st.integers(1, 6))))
    return CompositeCase("parallel", spec, {}, _lm(draw, script), options, inner=inner, payload=examples,
                         threads=threads, repeat=draw(st.sampled_from([1] * 5 + [2])))


# --- majority ---------------------------------------------------------------------------------------------------
_votes = st.one_of(st.sampled_from(["Paris", "paris!", "The Paris", "an apple", "Apple", " a ", "", "Ça va", "ça va",
                                    "Rome.", "the the", "42"]), texts, st.integers(0, 3), st.none())


@st.composite
def majority_cases(draw: Any) -> CompositeCase:
    spec = draw(signature_specs(forms=("string", "class"), max_inputs=1, max_outputs=2, custom=False,
                                refused_extras=False))
    _, outs = module_fields(spec, "predict")
    keys = [name for name, _ in outs] or ["answer"]   # a transform may have deleted every output
    rows = [{k: draw(_votes) for k in keys} for _ in range(draw(st.integers(1, 6)))]
    if draw(st.integers(0, 8)) == 0 and len(rows) > 1:
        rows[-1] = {k: v for k, v in rows[-1].items() if k != keys[0]}   # ragged: Completions refuses it
    form = draw(st.sampled_from(["list", "prediction", "completions", "prediction+signature",
                                 "completions+signature"]))
    normalize = draw(st.sampled_from(["default"] * 3 + list(NORMALIZERS)))
    fld = draw(st.sampled_from([None, None, keys[0], keys[-1], "missing_field", ""]))
    return CompositeCase("majority", spec, {}, LMSpec(), payload=(form, rows, normalize, fld),
                         mode="sync")
