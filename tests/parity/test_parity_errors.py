"""Errors: where DSPy raises, native raises the same class and message (bad signatures, LM exceptions, garbage
LM output, positional arguments, no LM). Plus proof that the suite can fail, and that the harness itself is sound.
"""

from __future__ import annotations

import dataclasses
import datetime
import weakref

import dspy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dspex.parity import harness
from dspex.parity._case import Case, LMSpec
from dspex.parity.harness import assert_parity, run_case, run_pair
from dspex.parity.scripted_lm import Raise
from dspex.parity.strategies import bad_signature_strings, cases, garbage_responses, lm_exceptions

from parity_support import check, simple_case, typed_spec

pytestmark = pytest.mark.parity

_ANSWER = "[[ ## a ## ]]\n1\n\n[[ ## completed ## ]]"


@given(bad_signature_strings(), st.sampled_from(["predict", "cot"]))
def test_bad_signature_strings_fail_like_dspy(signature, module):
    assert_parity(simple_case(module, signature, {"q": "x"}, ([_ANSWER], ['{"a": "1"}'])))


@given(cases(), lm_exceptions, st.integers(0, 1), st.sampled_from(["sync", "async"]))
def test_lm_exceptions_propagate_like_dspy(case, exc, at_call, mode):
    script = list(case.lm.script)
    script[at_call] = exc
    assert_parity(dataclasses.replace(case, lm=dataclasses.replace(case.lm, script=tuple(script))), mode=mode)


@given(cases(), garbage_responses, garbage_responses, st.sampled_from(["sync", "async"]))
def test_garbage_lm_output_fails_like_dspy(case, first, second, mode):
    lm = dataclasses.replace(case.lm, script=(first, second, second))
    assert_parity(dataclasses.replace(case, lm=lm), mode=mode)


@pytest.mark.parametrize("module", ["predict", "cot"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_positional_arguments_are_refused_like_dspy(module, mode):
    result = check(run_case(simple_case(module, positional=("What is 6 x 7?",)), mode))
    assert result.dspy.error is not None and result.native.error is not None


@pytest.mark.parametrize("module", ["predict", "cot"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_no_lm_fails_with_the_documented_mapping(module, mode):
    """Lead decision: DSPy's ValueError "No LM is loaded..." <-> native's clearer ConfigError (a ValueError)."""
    assert dspy.settings.lm is None, "a test configured a global DSPy LM; this case needs none"
    result = check(run_case(simple_case(module, pass_lm=False), mode))
    dspy_error, native_error = result.dspy.error, result.native.error
    assert dspy_error is not None and native_error is not None
    assert issubclass(dspy_error.exc_type, ValueError) and issubclass(native_error.exc_type, ValueError)
    assert dspy_error.message.startswith("No LM is loaded.") and native_error.name == "ConfigError"
    assert "lm=" in native_error.message and "dspex.configure" in native_error.message
    assert any("documented mapping (no LM" in note for note in result.notes)
    assert result.dspy.calls == [] and result.native.calls == []


@pytest.mark.parametrize("annotation", [datetime.datetime, datetime.date, list[datetime.time]])
def test_unsupported_types_are_refused_or_identical(annotation):
    """A type native does not claim to support must be refused (so the router picks DSPy), never silently differ."""
    spec = typed_spec(("when", "input", annotation), ("answer", "output", str))
    case = Case("predict", spec, {"when": datetime.datetime(2024, 1, 2, 3, 4, 5)},
                LMSpec((["[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"],)))
    result = run_case(case)
    assert result.unsupported or result.ok, result.report()


# --- the suite can fail -------------------------------------------------------------------------------------------
def _fresh_plans(monkeypatch, adapter_cls):
    monkeypatch.setattr(adapter_cls, "_plans", weakref.WeakKeyDictionary(), raising=False)


def test_suite_detects_a_one_byte_prompt_change(monkeypatch):
    from dspex.adapters import ChatAdapter

    case = simple_case()
    check(run_case(case))
    original = ChatAdapter.format_system_message
    monkeypatch.setattr(ChatAdapter, "format_system_message", lambda self, sig: original(self, sig) + " ")
    _fresh_plans(monkeypatch, ChatAdapter)
    with pytest.raises(AssertionError, match=r"messages differ"):
        assert_parity(case)


def test_suite_detects_an_output_type_change(monkeypatch):
    from dspex.adapters import ChatAdapter

    case = simple_case()
    original = ChatAdapter._parse  # the parsing logic itself, which the plain and the general call paths share
    monkeypatch.setattr(
        ChatAdapter, "_parse", lambda self, plan, text: {k: str(v) for k, v in original(self, plan, text).items()}
    )
    with pytest.raises(AssertionError, match=r"\[result\]"):
        assert_parity(case)


def test_suite_detects_a_different_error_message(monkeypatch):
    from dspex.adapters import JSONAdapter
    from dspex.errors import AdapterParseError

    def failing(self, sig, text):
        raise AdapterParseError("JSONAdapter", sig, text, message="slightly different")

    monkeypatch.setattr(JSONAdapter, "parse", failing)  # the JSON fallback's error is the one the caller sees
    with pytest.raises(AssertionError, match=r"\[error\]"):
        assert_parity(simple_case(script=(["[[ ## answer ## ]]\nnot a number"], ["not json"])))


# --- the harness is sound -----------------------------------------------------------------------------------------
@settings(max_examples=25)
@given(cases(), st.sampled_from(["sync", "async"]))
def test_dspy_against_itself_is_at_parity(case, mode):
    """DSPy vs DSPy must never differ: any difference would be noise from the harness, not a native bug."""
    factory = harness._factory(case, "dspy")
    call_kwargs = {"config": case.config} if case.config is not None else {}
    lm_options = {"kwargs": case.lm.kwargs, "supported_params": case.lm.supported_params,
                  "supports_response_schema": case.lm.supports_response_schema}
    result = run_pair(factory, factory, case.inputs, case.lm.script, lm_options=lm_options, call_kwargs=call_kwargs,
                      mode=mode, names=dict(case.signature.names), aspects=harness.ALL_ASPECTS)
    check(result)


def test_raise_entries_raise_fresh_exceptions():
    exc = Raise(ValueError, ("boom",))
    assert exc.build() is not exc.build() and str(exc.build()) == "boom"
