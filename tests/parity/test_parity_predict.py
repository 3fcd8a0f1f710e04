"""Predict: native == DSPy 3.4.1 over generated cases (signatures, inputs, demos, LM configs, LM answers)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from hypothesis import example, given

from dspex.parity._case import Case, LMSpec
from dspex.parity._exotic import Opaque
from dspex.parity.harness import assert_parity, run_case
from dspex.parity.strategies import cases

from parity_support import check, simple_case, typed_spec

pytestmark = pytest.mark.parity


@given(cases(modules=("predict",)))
@example(simple_case())
@example(simple_case(signature="question -> answer", script=(["[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"],)))
@example(simple_case(script=(["Sure!\n[[ ## answer ## ]]\n42"],)))
@example(simple_case(script=(["no headers at all"], ['{"answer": 42}'])))
@example(simple_case(script=([{"text": "[[ ## answer ## ]]\n7", "logprobs": {"x": 1}}],)))
@example(simple_case(script=([],)))
def test_predict_matches_dspy(case):
    assert_parity(case)


@given(cases(modules=("predict",), forms=("string",), custom=False))
def test_predict_string_signatures_match_dspy(case):
    """The most common real-world shape: a string signature over builtin types."""
    assert_parity(case)


@given(cases(modules=("predict",), odd=False))
def test_predict_dspy_signature_classes_match(case):
    """Users migrating hand their dspy.Signature classes to native modules; also well-typed inputs only."""
    assert_parity(case)


def test_simple_case_really_runs_both_sides():
    """Guard against a vacuous harness: both sides must have called the LM and parsed the same int."""
    result = run_case(simple_case())
    assert result.ok, result.report()
    assert len(result.dspy.calls) == len(result.native.calls) == 1
    assert result.dspy.result.answer == 42 and type(result.native.result.answer) is int


class _Box(pydantic.BaseModel):
    """A model input that does not dump to JSON (invalid UTF-8 bytes), so the prompt shows its str(): the
    repr of an object inside, memory address and all."""

    model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
    a: bytes
    u: dict[str, Any]


def test_a_prompt_rendering_a_default_repr_is_compared_without_its_address():
    # Seed 40666670: each side formatted its own copy of the input, so the two prompts differed in the address only.
    case = Case(
        "predict", typed_spec(("question", "input", _Box), ("answer", "output", str)),
        {"question": _Box(a=b"\xff\xfe", u={"": Opaque()})}, LMSpec((["[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"],)),
    )
    result = check(run_case(case))
    prompts = [call.messages[-1]["content"] for call in (result.dspy.calls[0], result.native.calls[0])]
    assert all(" at 0x" in p for p in prompts)  # the address is really in both prompts
