"""Replay mode: the caller gets DSPy's answers and the LM is called exactly once per call."""

from __future__ import annotations

import dspy

import dspex.shadow as shadow
from shadow_support import ScriptedLM, divergence_lines, predict_call, read_lines


def test_hundred_shadowed_calls_answer_like_dspy_with_one_lm_call_each(log_path, lm):
    control = dspy.Predict("question -> answer")
    candidate = dspy.Predict("question -> answer")
    reference_lm = ScriptedLM()
    got = []
    for i in range(100):
        call = predict_call(control, lambda l, q: candidate(question=q, lm=l), lm, f"question {i}")
        got.append(shadow.run_shadow(call))
    assert shadow.shutdown(timeout=10)
    expected = [control(question=f"question {i}", lm=reference_lm) for i in range(100)]
    assert [p.answer for p in got] == [p.answer for p in expected]
    assert all(isinstance(p, dspy.Prediction) for p in got)
    assert lm.calls == 100                                   # zero extra LM calls for 100 candidates
    s = shadow.stats()
    assert (s["compared"], s["matched"], s["diverged"], s["candidate_errors"]) == (100, 100, 0, 0)
    assert divergence_lines(log_path) == []                   # matches are counted, never logged
    stats_lines = [r for r in read_lines(log_path) if r["kind"] == "stats"]
    assert stats_lines and stats_lines[-1]["counts"]["compared"] == 100


def test_control_exception_reraised_unchanged_and_compared(log_path, lm):
    boom = KeyError("control failed")

    def control(l):
        raise boom

    call = shadow.ShadowCall("predict", None, {"question": "q"}, lm, control, lambda l: "fine")
    try:
        shadow.run_shadow(call)
    except KeyError as exc:
        assert exc is boom
    else:
        raise AssertionError("the control's exception must reach the caller")
    shadow.shutdown(timeout=5)
    (line,) = divergence_lines(log_path)
    assert line["control"]["error"]["type"] == "KeyError" and line["fields"] == ["error"]


def test_same_error_from_both_counts_as_a_match(log_path, lm):
    def fails(l):
        raise ValueError("bad input")

    call = shadow.ShadowCall("predict", None, {"question": "q"}, lm, fails, fails)
    for _ in range(3):
        try:
            shadow.run_shadow(call)
        except ValueError:
            pass
    shadow.shutdown(timeout=5)
    assert shadow.stats()["matched"] == 3
    assert divergence_lines(log_path) == []


def test_no_lm_in_replay_mode_is_served_and_skipped(log_path):
    call = shadow.ShadowCall("predict", None, {"q": 1}, None, lambda l: "control", lambda l: "other")
    assert shadow.run_shadow(call) == "control"
    shadow.shutdown(timeout=5)
    assert shadow.stats()["skipped"] == 1 and shadow.stats()["compared"] == 0


def test_candidate_runs_in_the_callers_dspy_context(log_path, lm):
    """DSPy settings set with dspy.context around the call reach the candidate (contextvars are copied)."""
    seen = []

    def candidate(l, q):
        seen.append(type(dspy.settings.adapter).__name__)
        return dspy.Predict("question -> answer")(question=q, lm=l)

    control = dspy.Predict("question -> answer")
    with dspy.context(adapter=dspy.ChatAdapter()):
        shadow.run_shadow(predict_call(control, candidate, lm, "hello"))
    shadow.shutdown(timeout=5)
    assert seen == ["ChatAdapter"]
    assert shadow.stats()["matched"] == 1


def test_real_native_predict_as_candidate_matches_dspy(log_path, lm, tmp_path):
    """The native Predict, fed DSPy's transcript, makes the same LM request and returns the same answer."""
    import dspex.native

    control = dspy.Predict("question -> answer")
    native = dspex.native.Predict("question -> answer")
    for i in range(20):
        shadow.run_shadow(predict_call(control, lambda l, q: native(question=q, lm=l), lm, f"n{i}"))
    assert shadow.shutdown(timeout=10)
    s = shadow.stats()
    assert (s["compared"], s["matched"]) == (20, 20), divergence_lines(log_path)[:1]
    assert lm.calls == 20
