"""Predict: native == DSPy 3.4.1 over generated cases (signatures, inputs, demos, LM configs, LM answers)."""

from __future__ import annotations

import pytest
from hypothesis import example, given

from dspex.parity.harness import assert_parity, run_case
from dspex.parity.strategies import cases

from parity_support import simple_case

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
