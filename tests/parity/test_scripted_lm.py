"""The scripted LM the parity suite stands on: records faithfully, answers in order, raises and misbehaves on cue."""

from __future__ import annotations

import asyncio

import dspy
import pytest

from dspex.parity.scripted_lm import GarbageLM, Raise, RaisingLM, ScriptedLM, ScriptExhausted

pytestmark = pytest.mark.parity

ANSWER = "[[ ## answer ## ]]\n42\n\n[[ ## completed ## ]]"


def test_answers_in_order_and_records_deep_copies():
    lm = ScriptedLM([["first"], ["second"]])
    messages = [{"role": "user", "content": "hi"}]
    assert lm(messages=messages, temperature=0.5) == ["first"]
    messages[0]["content"] = "mutated after the call"
    assert lm(messages=messages) == ["second"]
    assert lm.calls[0].messages == [{"role": "user", "content": "hi"}]
    assert lm.calls[0].kwargs == {"temperature": 0.5} and lm.calls[1].kwargs == {}
    with pytest.raises(ScriptExhausted, match="2 scripted answer"):
        lm(messages=messages)


def test_returned_outputs_are_fresh_copies():
    lm = ScriptedLM([[{"text": "a"}], [{"text": "a"}]])
    lm(messages=[])[0]["text"] = "changed by a caller"
    assert lm(messages=[]) == [{"text": "a"}]


def test_attributes_dspy_reads_are_configurable():
    lm = ScriptedLM(kwargs={"temperature": 0.0, "n": 3}, supported_params={"response_format"},
                    supports_response_schema=True)
    assert lm.kwargs == {"temperature": 0.0, "n": 3}
    assert lm.supported_params == {"response_format"} and lm.supports_response_schema is True
    assert ScriptedLM().kwargs == {"temperature": None, "max_tokens": None}  # BaseLM's own defaults


def test_dspy_accepts_it_and_bypasses_its_lm_layer():
    lm = ScriptedLM([[ANSWER]])
    pred = dspy.Predict("question -> answer: int")(question="6 x 7?", lm=lm)
    assert pred.answer == 42 and len(lm.calls) == 1 and lm.calls[0].mode == "sync"
    assert lm.history == []  # BaseLM.__call__ (history, cache) never ran


def test_acall_is_recorded_as_async():
    lm = ScriptedLM([[ANSWER]])
    pred = asyncio.run(dspy.Predict("question -> answer: int").acall(question="q", lm=lm))
    assert pred.answer == 42 and [c.mode for c in lm.calls] == ["async"]


def test_raise_entries_raising_lm_and_garbage_lm():
    lm = ScriptedLM([Raise(TimeoutError, ("slow",))])
    with pytest.raises(TimeoutError, match="slow"):
        lm(messages=[])
    raising = RaisingLM(ConnectionError, "refused")
    for _ in range(2):
        with pytest.raises(ConnectionError, match="refused"):
            raising(messages=[{"role": "user", "content": "x"}])
    assert len(raising.calls) == 2
    garbage = GarbageLM(42)
    assert garbage(messages=[]) == 42 and garbage(messages=[]) == 42
    with pytest.raises(TypeError):
        dspy.Predict("q -> a")(q="x", lm=garbage)
