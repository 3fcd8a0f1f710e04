"""ChainOfThought: native == DSPy 3.4.1 (a prepended `reasoning` output, demos without reasoning, ...)."""

from __future__ import annotations

import pytest
from hypothesis import example, given

from dspex.parity._case import DemoSpec
from dspex.parity.harness import assert_parity, run_case
from dspex.parity.strategies import cases

from parity_support import simple_case

pytestmark = pytest.mark.parity


@given(cases(modules=("cot",)))
@example(simple_case("cot"))
@example(simple_case("cot", script=(["[[ ## answer ## ]]\n42\n\n[[ ## completed ## ]]"], ['{"answer": 42}'])))
@example(simple_case("cot", signature="question -> reasoning: int, answer"))
@example(simple_case(  # seed 159686730: a demo Example with a field named `self` (or `base`, Example's own argument)
    "cot", signature="question -> self, base",
    script=(["[[ ## reasoning ## ]]\nr\n\n[[ ## self ## ]]\ns\n\n[[ ## base ## ]]\nb\n\n[[ ## completed ## ]]"],),
    demos=(DemoSpec({"question": "q", "self": "s0", "base": "b0"}, as_example=True),),
))
def test_chain_of_thought_matches_dspy(case):
    assert_parity(case)


@given(cases(modules=("cot",), forms=("string",), custom=False))
def test_chain_of_thought_string_signatures_match_dspy(case):
    assert_parity(case)


def test_reasoning_is_returned_first():
    result = run_case(simple_case("cot"))
    assert result.ok, result.report()
    assert list(result.native.result.keys()) == ["reasoning", "answer"]
