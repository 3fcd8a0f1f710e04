"""DSPy's books for the modules a routed module calls inside itself, on the native route: BestOfN's and Refine's
wrapped module and ReAct's extract step are ``dspy.Module``s in DSPy, so DSPy fires ``on_module_start`` /
``on_module_end`` for each of their calls, not only for their predictors. A wrapper around a module with no native
engine (a plain DSPy module) is served by DSPy, with the reason on its route event.

Every expectation is what the DSPy route of the same program records, never written by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path
from typing import Any

import dspy
import pytest
from dspy.utils.dummies import DummyLM

import dspex
from dspex.parity._composite_lm import TapeLM
from test_settings import Recorder

ADVICE = ['[[ ## discussion ## ]]\nd\n\n[[ ## advice ## ]]\n{"predict": "say first"}\n\n[[ ## completed ## ]]']


def _reward(args: dict[str, Any], pred: Any) -> float:
    return 0.5 if pred.answer == "first" else 0.0


def _script(kind: str) -> list[list[str]]:
    replies = [[f"[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\n{a}\n\n[[ ## completed ## ]]"]
               for a in ("second", "first")]
    return replies if kind == "best_of_n" else [replies[0], ADVICE, replies[1]]


def _wrapper_run(kind: str, inner: Any, impl: str) -> tuple[list[tuple[str, str]], Any, list[Any]]:
    cls = dspex.BestOfN if kind == "best_of_n" else dspex.Refine
    module = cls(inner.ChainOfThought("question -> answer"), N=2, reward_fn=_reward, threshold=1.0)
    cb, routes = Recorder(), []
    detach = dspex.telemetry.attach("dspex.router.route", lambda e, m, meta: routes.append(dict(meta)))
    try:
        with dspy.context(lm=TapeLM(_script(kind)), callbacks=[cb]), contextlib.redirect_stdout(io.StringIO()):
            out = module(question="q", implementation=impl)
    finally:
        detach()
    return cb.events, out, [r for r in routes if r["module_type"] == kind]


@pytest.mark.parametrize("kind", ["best_of_n", "refine"])
def test_a_wrapped_dspex_module_fires_its_module_callbacks_on_the_native_route(kind: str) -> None:
    want, want_out, _ = _wrapper_run(kind, dspex, "dspy")
    got, got_out, routes = _wrapper_run(kind, dspex, "native")
    assert routes[-1]["implementation"] == "native"
    assert got == want
    assert want.count(("module_start", "ChainOfThought")) == 2   # one per attempt, each with its end
    assert got_out.toDict() == want_out.toDict()


@pytest.mark.parametrize("kind", ["best_of_n", "refine"])
def test_a_wrapper_around_a_dspy_module_is_served_by_dspy_with_the_reason(kind: str) -> None:
    want, want_out, _ = _wrapper_run(kind, dspy, "dspy")
    got, got_out, routes = _wrapper_run(kind, dspy, "native")
    assert routes[-1]["implementation"] == "dspy"
    assert "dspy.predict.chain_of_thought.ChainOfThought, which has no native engine" in routes[-1]["reason"]
    assert got == want and got_out.toDict() == want_out.toDict()   # Refine's hint reached DSPy's predictor


def lookup(x: str) -> str:
    """Look up x."""
    return "found " + x


REACT_ANSWERS = [{"next_thought": "t", "next_tool_name": "lookup", "next_tool_args": {"x": "a"}},
                 {"next_thought": "t2", "next_tool_name": "finish", "next_tool_args": {}},
                 {"reasoning": "r", "answer": "42"}]


@pytest.mark.parametrize("mode", ["call", "acall"])
def test_reacts_extract_step_fires_its_module_callbacks_on_the_native_route(mode: str) -> None:
    seen = {}
    for impl in ("dspy", "native"):
        module, cb = dspex.ReAct("question -> answer", tools=[lookup]), Recorder()
        with dspy.context(lm=DummyLM(list(REACT_ANSWERS)), callbacks=[cb]):
            if mode == "call":
                out = module(question="q", implementation=impl)
            else:
                out = asyncio.run(module.acall(question="q", implementation=impl))
        seen[impl] = (cb.events, out.answer)
    assert seen["native"] == seen["dspy"]
    assert ("module_start", "ChainOfThought") in seen["dspy"][0]


@pytest.mark.parametrize("kind", ["best_of_n", "refine"])
def test_histories_after_a_wrapper_run_are_dspys(kind: str) -> None:
    """The wrapped module's calls are recorded on the attempt copies, as in DSPy: neither the wrapped module's nor
    its predictor's own history grows, only the wrapper's (and the LM's)."""
    answers = [{"reasoning": "r", "answer": "second"}, {"discussion": "d", "advice": '{"predict": "x"}'},
               {"reasoning": "r", "answer": "first"}]
    seen = {}
    for impl in ("dspy", "native"):
        cls = dspex.BestOfN if kind == "best_of_n" else dspex.Refine
        module = cls(dspex.ChainOfThought("question -> answer"), N=2, reward_fn=_reward, threshold=1.0)
        lm = DummyLM(answers if kind == "refine" else [answers[0], answers[2]])
        with dspy.context(lm=lm), contextlib.redirect_stdout(io.StringIO()):
            out = module(question="q", implementation=impl)
        seen[impl] = (out.answer, len(module.history), len(module.module.history),
                      len(module.module.predict.history), len(lm.history))
    assert seen["native"] == seen["dspy"]
    assert seen["dspy"][0] == "first" and seen["dspy"][1] >= 2


def test_refine_s_feedback_sees_the_hint_with_callbacks_on_as_dspy_does() -> None:
    """With a DSPy callback configured, the callbacks' wrapper hands each predictor call a copy of its keywords;
    the hint Refine's adapter writes went into that copy only, so the native trace (which Refine's second feedback
    prompt quotes) lacked ``hint_``, and the LM was asked something else than on DSPy's route."""
    script = [_script("refine")[0], ADVICE, _script("refine")[0], ADVICE, _script("refine")[1]]
    requests = []
    for impl in ("dspy", "native"):
        module = dspex.Refine(dspex.ChainOfThought("question -> answer"), N=3, reward_fn=lambda a, p: 0.0,
                              threshold=1.0)
        lm = TapeLM(script)
        with dspy.context(lm=lm, callbacks=[Recorder()]), contextlib.redirect_stdout(io.StringIO()):
            module(question="q", implementation=impl)
        requests.append([(call.messages, call.kwargs) for call in lm.calls])
    assert requests[1] == requests[0]
    assert "hint_" in str(requests[0][3][0][-1]["content"])   # the second feedback request quotes the hinted attempt


def test_a_shadow_candidate_inside_a_native_run_adds_nothing_to_dspys_trace(tmp_path: Path) -> None:
    """A registered module's native run calls a shadow-routed Predict: DSPy answers (one trace entry, as in the
    same program on DSPy) and the candidate runs on a worker in a copy of the caller's context. It kept the native
    run's DSPy books there, and its own entry joined the caller's trace from the worker (two entries, and an
    optimizer bootstrapping from them saw a call the program never made)."""
    class RagNative(dspex.native.Module):
        def __init__(self) -> None:
            self.step = dspex.Predict("question -> answer")

        def forward(self, question: str) -> Any:
            return self.step(question=question)

    class RagDspy(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.step = dspex.Predict("question -> answer")

        def forward(self, question: str) -> Any:
            return self.step(question=question)

    rag = dspex.register("nested_rag", native=RagNative, dspy=RagDspy)

    class Program(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rag = rag()

        def forward(self, question: str) -> Any:
            return self.rag(question=question)

    dspex.configure(module_overrides={"nested_rag": "native", "predict": "shadow"},
                    shadow={"log_path": str(tmp_path / "shadow")})
    with dspy.context(trace=[]):
        Program()(question="q")
        dspex.shutdown(timeout=10)
        entries = [(type(e[0]).__name__, sorted(e[1])) for e in dspy.settings.trace]
    assert entries == [("Predict", ["question"])]
    assert dspex.shadow.stats()["compared"] == 1
