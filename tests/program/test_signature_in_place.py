"""A DSPy signature is a class that DSPy lets a program change in place, and DSPy reads it afresh at every call:
``sig.instructions = ...`` (what ``dspy.InferRules`` does), a field's ``json_schema_extra["desc"]``, even its
``annotation``. A routed module's native engine converted the signature once and kept it (it compared the class by
identity): after the first call, an edit in place never reached the LM on the native route, while DSPy, dspex's
dspy route and ``save()`` had the new text. Each program here is run twice, with dspy modules (P) and with dspex
modules (P'); P' must send the LM what P sends, call for call, on every route, and shadow must find no divergence.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Callable

import dspy
import numpy as np
import pytest

import dspex
from program_support import FieldLM, build, instructions_of, metric, saved_state, trainset


def _program(ns: Any) -> Any:
    class Answerer(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hop = ns.ChainOfThought("question -> query")
            self.answer = ns.Predict("question, query -> answer")

        def forward(self, question: str) -> Any:
            return self.answer(question=question, query=self.hop(question=question).query)

    return Answerer()


def _set_extra(key: str, value: str, field: str | None = None) -> Callable[[Any], None]:
    def edit(sig: Any) -> None:
        name = field or list(sig.output_fields)[-1]
        sig.model_fields[name].json_schema_extra[key] = value
    return edit


def _set_annotation(sig: Any) -> None:
    sig.model_fields[list(sig.output_fields)[-1]].annotation = int


EDITS: dict[str, Callable[[Any], None]] = {
    "instructions": lambda sig: setattr(sig, "instructions", "Answer in French, tersely."),
    "output desc": _set_extra("desc", "one word, lower case"),
    "input desc": _set_extra("desc", "as the user wrote it", field="question"),
    "annotation": _set_annotation,
}


def _run(ns: Any, edit: Callable[[Any], None]) -> tuple[list[Any], Any]:
    program, lm = _program(ns), FieldLM()
    with dspy.context(lm=lm):
        program(question="Capital of France?")
        for _, predictor in program.named_predictors():
            edit(predictor.signature)
        program(question="Capital of France?")
        program(question="Capital of Japan?")
    return lm.calls, program


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_signature_edited_in_place_after_the_first_call_reaches_the_lm(edit: str, route: str,
                                                                         tmp_path: Path) -> None:
    want, p = _run(dspy, EDITS[edit])
    got, q = _run(dspex, EDITS[edit])
    assert got == want
    assert instructions_of(q) == instructions_of(p)
    assert saved_state(q, tmp_path / "q.json") == saved_state(p, tmp_path / "p.json")
    if route == "shadow":
        dspex.shutdown(timeout=10)
        stats = dspex.shadow.stats()
        assert stats["compared"] >= 6 and stats["diverged"] == 0, stats


def test_an_edit_in_place_shows_at_once_and_each_edit_again(tmp_path: Path) -> None:
    """Native, step by step: every edit shows at the next call, and an edit undone is undone there too."""
    dspex.configure(module_overrides={"predict": "native"})
    calls = []
    for ns in (dspy, dspex):
        predictor, lm = ns.Predict("question -> answer"), FieldLM()
        with dspy.context(lm=lm):
            for text in ("First.", "Second.", "First."):
                predictor.signature.instructions = text
                predictor(question="q")
                predictor.signature.model_fields["answer"].json_schema_extra["desc"] = text.lower()
                predictor(question="q")
        calls.append(lm.calls)
    assert calls[1] == calls[0]
    assert [c["messages"][0]["content"].count("Second.") for c in calls[1]] == [0, 0, 1, 1, 0, 0]


class RolloutLM(FieldLM):
    """FieldLM whose answers also depend on the copy's ``rollout_id``: InferRules asks each candidate's rules of
    ``lm.copy(rollout_id=<random>, temperature=1.0)``, so each candidate gets rules of its own."""

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        rollout = self.kwargs.get("rollout_id")
        if rollout is not None and messages:
            last = messages[-1]
            messages = [*messages[:-1], {**last, "content": f"{last['content']} (rollout {rollout})"}]
        return super().__call__(prompt, messages, **kwargs)


def test_infer_rules_compiles_the_same_program_and_it_keeps_sending_what_dspy_sends(route: str,
                                                                                      tmp_path: Path) -> None:
    """``dspy.InferRules`` writes each candidate's rules into ``predictor.signature.instructions``, in place, on a
    signature class every deep copy of the program shares (a class is never copied): the program it returns
    (the first of equal scores) holds the class as the last candidate left it, and DSPy prompts with that. Its
    native engine had converted the class while it was evaluated, and kept the first candidate's rules."""

    def compile_(ns: Any) -> tuple[Any, RolloutLM]:
        random.seed(0)
        np.random.seed(0)
        program, lm = build("two_hop", ns), RolloutLM()
        optimizer = dspy.InferRules(num_candidates=3, num_rules=2, metric=metric, max_bootstrapped_demos=1,
                                    max_labeled_demos=1, num_threads=1)
        with dspy.context(lm=lm):
            return optimizer.compile(program, trainset=trainset("two_hop")), lm

    (p, p_lm), (q, q_lm) = compile_(dspy), compile_(dspex)
    assert q_lm.calls == p_lm.calls
    assert instructions_of(q) == instructions_of(p)
    assert "rollout" not in str(instructions_of(p)) and "rules" in str(instructions_of(p))
    assert saved_state(q, tmp_path / "q.json") == saved_state(p, tmp_path / "p.json")
    for example in trainset("two_hop")[:3]:
        p_run, q_run = FieldLM(), FieldLM()
        with dspy.context(lm=p_run):
            expected = p(**example.inputs())
        with dspy.context(lm=q_run):
            got = q(**example.inputs())
        assert q_run.calls == p_run.calls
        assert got.toDict() == expected.toDict()
    if route == "shadow":
        dspex.shutdown(timeout=10)
        assert dspex.shadow.stats()["diverged"] == 0, dspex.shadow.stats()
