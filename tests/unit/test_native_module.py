"""dspex.native.Module: composite native programs behave like their dspy.Module twins."""

from __future__ import annotations

import asyncio
from typing import Any

import dspy
import pytest
from native_support import Scripted, chat_answer

import dspex.native as native


def make_program(ns: Any) -> Any:
    class RAG(ns.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rewrite = ns.Predict("question -> query")
            self.answer = ns.ChainOfThought("question, query -> answer")
            self.extra = [ns.Predict("text -> summary")]

        def forward(self, question: str) -> Any:
            query = self.rewrite(question=question).query
            return self.answer(question=question, query=query)

    return RAG()


OUTPUTS = [chat_answer(query="capital france", reasoning="r", answer="Paris")]


def test_composite_program_matches_dspy() -> None:
    dlm, nlm = Scripted(OUTPUTS), Scripted(OUTPUTS)
    theirs, ours = make_program(dspy), make_program(native)
    theirs.set_lm(dlm)
    ours.set_lm(nlm)
    assert ours.get_lm() is nlm
    assert ours(question="Capital of France?") == theirs(question="Capital of France?")
    assert nlm.calls == dlm.calls and len(nlm.calls) == 2
    assert [n for n, _ in ours.named_predictors()] == [n for n, _ in theirs.named_predictors()]


def test_repr_lists_predictors_like_dspy() -> None:
    ours = make_program(native)
    names = [line.split(" = ")[0] for line in repr(ours).splitlines() if " = " in line and "Predict(" in line]
    assert names == ["rewrite", "answer.predict", "extra[0]"]


def test_get_lm_with_several_lms_is_an_error() -> None:
    program = make_program(native)
    program.rewrite.lm = Scripted()
    with pytest.raises(ValueError, match="Multiple LMs"):
        program.get_lm()


def test_default_aforward_runs_forward() -> None:
    program = make_program(native)
    program.set_lm(Scripted(OUTPUTS))
    assert asyncio.run(program.acall(question="q")).answer == "Paris"


def test_state_roundtrip() -> None:
    program = make_program(native)
    program.answer.predict.demos = [{"question": "a", "query": "b", "reasoning": "c", "answer": "d"}]
    state = program.dump_state()
    assert list(state) == ["rewrite", "answer.predict", "extra[0]"]
    fresh = make_program(native).load_state(state)
    assert fresh.answer.predict.demos == program.answer.predict.demos


def test_forward_is_required() -> None:
    with pytest.raises(NotImplementedError, match="forward"):
        native.Module()(x=1)


def _shared_program(ns: Any) -> Any:
    class Shared(ns.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = ns.Predict("question -> answer")
            self.again = self.first                       # one predictor under two names
            self.cot = ns.ChainOfThought("question -> answer")
            self.notes = {"seen": [1, 2]}

        def forward(self, question: str) -> Any:
            return self.cot(question=question)

    program = Shared()
    program.first.demos = [{"question": "q", "answer": "a"}]
    return program


@pytest.mark.parametrize("how", ["copy.deepcopy", "module.deepcopy()"])
def test_deep_copies_keep_shared_parts_shared_as_dspy_does(how: str) -> None:
    import copy

    def copied(p: Any) -> Any:
        return copy.deepcopy(p) if how == "copy.deepcopy" else p.deepcopy()

    for ns in (dspy, native):
        program = _shared_program(ns)
        twin = copied(program)
        assert type(twin) is type(program) and twin is not program
        assert twin.first is twin.again and twin.first is not program.first      # one memo for the whole copy
        assert twin.cot is not program.cot and twin.cot.predict is not program.cot.predict
        assert twin.first.demos == program.first.demos and twin.first.demos is not program.first.demos
        assert twin.notes == program.notes and twin.notes["seen"] is not program.notes["seen"]
        assert [n for n, _ in twin.named_predictors()] == [n for n, _ in program.named_predictors()]


def _copy_hooked_programs(ns: Any) -> list[Any]:
    """A plain module, one whose class drops a cache and marks restored copies (``__getstate__`` /
    ``__setstate__``), one with its own ``__reduce_ex__``, and the plain one's class again: each class's own road."""
    class Plain(ns.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cache = {"k": [1]}

    class Hooked(Plain):
        def __getstate__(self) -> dict[str, Any]:
            return {k: v for k, v in self.__dict__.items() if k != "cache"}

        def __setstate__(self, state: dict[str, Any]) -> None:
            self.__dict__.update(state, restored=True)

    class Reduced(Plain):
        def __reduce_ex__(self, protocol: Any) -> Any:
            return (Plain, ())

    return [Plain(), Hooked(), Reduced(), Plain()]


@pytest.mark.parametrize("how", ["copy.deepcopy", "module.deepcopy()"])
def test_classes_that_customise_copying_copy_their_way_as_in_dspy(how: str) -> None:
    import copy

    seen = []
    for ns in (dspy, native):
        copies = []
        for program in _copy_hooked_programs(ns) * 2:   # twice: the second copy of each class reads what it learnt
            twin = copy.deepcopy(program) if how == "copy.deepcopy" else program.deepcopy()
            copies.append((type(twin).__name__, sorted(k for k in vars(twin) if k in ("cache", "restored")),
                           vars(twin).get("cache"), vars(twin).get("restored")))
        seen.append(copies)
    assert seen[0] == seen[1]
