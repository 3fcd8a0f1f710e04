"""A candidate whose LM requests differ from the control's is a divergence, logged with a readable diff."""

from __future__ import annotations

import dspy

import dspex.shadow as shadow
from shadow_support import divergence_lines, predict_call


def test_prompt_formatted_differently_is_logged_with_a_unified_diff(log_path, lm):
    control = dspy.Predict("question -> answer")
    other = dspy.Predict(dspy.Signature("question -> answer", "Answer briefly."))
    result = shadow.run_shadow(predict_call(control, lambda l, q: other(question=q, lm=l), lm, "why?"))
    assert result.answer == "echo why?"
    shadow.shutdown(timeout=5)
    (line,) = divergence_lines(log_path)
    assert line["kind"] == "divergence"
    assert line["differences"] == {}                         # same answer: only the prompt differs
    diff = line["prompt_diff"]
    assert diff.startswith("--- control (dspy) LM call 1\n+++ candidate (native) LM call 1")
    assert "\n-        Given the fields `question`, produce the fields `answer`." in diff
    assert "\n+        Answer briefly." in diff
    assert line["transcript_mismatch"] == [
        {"kind": "request_differs", "candidate_call": 1, "control_call": 1, "parts": ["messages"]}]
    assert shadow.stats()["diverged"] == 1 and lm.calls == 1


def test_kwargs_difference_is_a_divergence(log_path, lm):
    control = dspy.Predict("question -> answer")
    shadow.run_shadow(predict_call(control, lambda l, q: control(question=q, lm=l, config={"temperature": 0.5}),
                                   lm, "q"))
    shadow.shutdown(timeout=5)
    (line,) = divergence_lines(log_path)
    assert line["transcript_mismatch"][0]["parts"] == ["kwargs"]
    assert '+--- kwargs: {"temperature": 0.5}' in line["prompt_diff"]


def test_more_calls_than_recorded_is_a_divergence_not_an_extra_lm_call(log_path, lm):
    control = dspy.Predict("question -> answer")

    def twice(l, q):
        control(question=q, lm=l)
        return control(question=q + "?", lm=l)

    shadow.run_shadow(predict_call(control, twice, lm, "q"))
    shadow.shutdown(timeout=5)
    (line,) = divergence_lines(log_path)
    assert lm.calls == 1
    assert line["kind"] == "divergence"
    assert line["candidate"]["error"]["type"] == "ShadowReplayError"
    assert {"kind": "extra_call", "candidate_call": 2} in line["transcript_mismatch"]


def test_fewer_calls_than_recorded_is_a_divergence(log_path, lm):
    control = dspy.Predict("question -> answer")
    shadow.run_shadow(predict_call(control, lambda l, q: dspy.Prediction(answer=f"echo {q}"), lm, "q"))
    shadow.shutdown(timeout=5)
    (line,) = divergence_lines(log_path)
    assert line["transcript_mismatch"] == [{"kind": "missing_calls", "control_calls": [1]}]
    assert "never made call(s) 1" in line["prompt_diff"]
