"""Shadow inside the worker threads DSPy starts: ``dspy.Parallel``, ``dspy.Evaluate(num_threads=...)`` and
``Module.batch(num_threads=...)`` run their items on DSPy's ``ParallelExecutor``, which copies ``dspy.settings``
overrides into each worker but no other contextvar. Shadow keeps the controls running in a context (whose recorders
stand in for the LMs a predictor holds) in a contextvar, so a control whose DSPy side fans out on DSPy's executor
lost them in its workers: calls made with an LM a predictor holds went unrecorded, and the candidate, replaying a
transcript without them, failed or diverged (a registered module fanning out with ``dspy.Parallel``; a routed
``Parallel`` over routed predictors holding their own LM). And a routed ``Parallel``'s candidate ran the plain DSPy
modules of its pairs on the real LMs: extra LM calls, in the program's LM history and usage.

Each scenario runs a program of ``dspy`` modules and the same program of ``dspex`` ones on the shadow route and
checks: the same answers; the LMs got the same requests (the candidate made none: shadow replays); the LM history,
DSPy's global history and usage are what plain DSPy shows; every comparison matches, and a planted difference (a
native side that answers otherwise) is logged as a divergence.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Callable

import dspy
import pytest
from dspy.clients.base_lm import GLOBAL_HISTORY

import dspex
import dspex.native as dn
from dspex.lm.testing import OpenAICompatServer
from program_support import FieldLM, route_to
from test_shadow_own_lms import TaggedLM

class LockedLM(TaggedLM):
    """TaggedLM, one call at a time: DSPy's workers call the LMs (which share one list of calls) on two threads,
    and TaggedLM names its call after appending it (``calls[-1]``)."""

    _lock = threading.Lock()

    def copy(self, **kwargs: Any) -> "LockedLM":
        new = LockedLM(self.name, self.calls)
        new.kwargs = {**self.kwargs, **kwargs}
        return new

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        with LockedLM._lock:
            return super().__call__(prompt, messages, **kwargs)


QUESTIONS = ["Capital of France?", "Capital of Peru?", "2+2?", "Why is the sky blue?"]
THREADS = 2


def _pairs(a: Any, b: Any, questions: list[str]) -> list[tuple[Any, dict[str, str]]]:
    return [(a if i % 2 else b, {"question": q}) for i, q in enumerate(questions)]


class FanOut(dspy.Module):
    """A user's module: two predictors, the questions fanned out over them with ``dspy.Parallel``."""

    def __init__(self, ns: Any = dspy) -> None:
        super().__init__()
        self.a = ns.ChainOfThought("question -> answer")
        self.b = ns.Predict("question -> answer")

    def forward(self, questions: list[str]) -> Any:
        done = dspy.Parallel(num_threads=THREADS, disable_progress_bar=True)(_pairs(self.a, self.b, questions))
        return dspy.Prediction(answers=[p.answer for p in done])


class FanOutNative(dn.Module):
    """The same module natively (its predictors named alike), fanned out on the native ``Parallel``."""

    def __init__(self, ns: Any = None) -> None:
        super().__init__()
        self.a = dn.ChainOfThought("question -> answer")
        self.b = dn.Predict("question -> answer")

    def forward(self, questions: list[str]) -> Any:
        done = dn.Parallel(num_threads=THREADS, disable_progress_bar=True)(_pairs(self.a, self.b, questions))
        return dn.Prediction(answers=[p.answer for p in done])


class FanOutNativeWrong(FanOutNative):
    """A native side with a bug: its last answer is not the LM's."""

    def forward(self, questions: list[str]) -> Any:
        pred = super().forward(questions)
        return dn.Prediction(answers=[*pred.answers[:-1], "not what the LM said"])


class Ask(dspy.Module):
    """A user's one-predictor module, for Evaluate and batch."""

    def __init__(self) -> None:
        super().__init__()
        self.ask = dspy.ChainOfThought("question -> answer")

    def forward(self, question: str) -> Any:
        return self.ask(question=question)


class AskNativeWrong(dn.Module):
    """Its native side with a bug: the answer is shouted."""

    def __init__(self) -> None:
        super().__init__()
        self.ask = dn.ChainOfThought("question -> answer")

    def forward(self, question: str) -> Any:
        pred = self.ask(question=question)
        return dn.Prediction(reasoning=pred.reasoning, answer=pred.answer.upper())


RoutedFanOut = dspex.register("fan_out", native=FanOutNative, dspy=FanOut)
RoutedFanOutWrong = dspex.register("fan_out_wrong", native=FanOutNativeWrong, dspy=FanOut)
RoutedAskWrong = dspex.register("ask_wrong", native=AskNativeWrong, dspy=Ask)
TYPES = ("predict", "chain_of_thought", "parallel", "fan_out", "fan_out_wrong", "ask_wrong")


@pytest.fixture(autouse=True)
def shadow_route(tmp_path: Path) -> None:
    route_to("shadow", tmp_path, types=TYPES)


def _own_lms(module: Any, lms: dict[str, Any]) -> None:
    module.a.set_lm(lms["own"])
    module.b.set_lm(lms["other"])


def _routed_parallel_over(inner: Any) -> Callable[[Any, dict[str, Any], bool], Any]:
    """A routed ``Parallel`` (plain ``dspy.Parallel`` for the reference program) over ``inner``'s predictors."""

    def run(ns: Any, lms: dict[str, Any], own: bool) -> Any:
        a, b = (dspy if ns is dspy else inner).ChainOfThought("question -> answer"), \
            (dspy if ns is dspy else inner).Predict("question -> answer")
        if own:
            a.set_lm(lms["own"])
            b.set_lm(lms["other"])
        parallel = (dspy.Parallel if ns is dspy else dspex.Parallel)(num_threads=THREADS, disable_progress_bar=True)
        return [p.toDict() for p in parallel(_pairs(a, b, QUESTIONS))]

    return run


def _program_over_routed_predictors(ns: Any, lms: dict[str, Any], own: bool) -> Any:
    program = FanOut(ns)
    if own:
        _own_lms(program, lms)
    return program(questions=QUESTIONS).toDict()


def _registered_fan_out(ns: Any, lms: dict[str, Any], own: bool) -> Any:
    module = FanOut() if ns is dspy else RoutedFanOut()
    if own:
        _own_lms(module, lms)
    return module(questions=QUESTIONS).toDict()


# Each scenario: run(ns, lms, own) -> the program's answer. ``lms``: "default" (in dspy.context), "own", "other".
SCENARIOS: dict[str, Callable[[Any, dict[str, Any], bool], Any]] = {
    "a program fanning routed predictors out on dspy.Parallel": _program_over_routed_predictors,
    "a registered module whose DSPy side fans out on dspy.Parallel": _registered_fan_out,
    "a routed Parallel over routed predictors": _routed_parallel_over(dspex),
    "a routed Parallel over plain DSPy predictors": _routed_parallel_over(dspy),
}


def _scripted(ns: Any, scenario: str, own: bool) -> tuple[Any, list[Any]]:
    calls: list[Any] = []
    lms = {name: LockedLM(name, calls) for name in ("default", "own", "other")}
    with dspy.context(lm=lms["default"]):
        out = SCENARIOS[scenario](ns, lms, own)
    dspex.shutdown(timeout=10)   # shadow's candidates have run by now
    return out, sorted((c["lm"], json.dumps(c["messages"]), json.dumps(c["kwargs"])) for c in calls)


def _mismatches() -> dict[str, Any]:
    stats = dspex.shadow.stats()
    return {t: s for t, s in stats["by_module"].items() if s["diverged"] or s["candidate_errors"] or s["timeouts"]}


@pytest.mark.parametrize("own", [False, True], ids=["default LM", "LMs the predictors hold"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_lm_call_in_dspys_workers_is_recorded_and_replayed(scenario: str, own: bool) -> None:
    want = _scripted(dspy, scenario, own)
    dspex.shadow.reset()
    got = _scripted(dspex, scenario, own)
    assert got[0] == want[0]
    assert got[1] == want[1]     # each LM got DSPy's requests, once: the candidates replayed, calling no LM
    stats = dspex.shadow.stats()
    assert stats["compared"] >= 1 and _mismatches() == {}, stats


# --- a real dspy.LM on a loopback server: history, global history, usage ---------------------------------------
@pytest.fixture
def server() -> Any:
    answers = FieldLM()
    with OpenAICompatServer(lambda request: answers._answer(request["messages"][-1]["content"], 0)) as s:
        yield s


def _http_lm(server: Any) -> Any:
    return dspy.LM("openai/test-model", api_base=server.api_base, api_key="k", cache=False)


def _books(server: Any, ns: Any, run: Callable[[Any, Any, Any], Any]) -> dict[str, Any]:
    """What one run shows: its answer, the LM requests the server got, the LMs' and DSPy's histories, usage."""
    default, own = _http_lm(server), _http_lm(server)
    server.requests.clear()
    before = len(GLOBAL_HISTORY)
    with dspy.context(lm=default, track_usage=True):
        out, usage = run(ns, default, own)
    dspex.shutdown(timeout=10)
    return {"answer": out, "usage": usage, "requests": sorted(json.dumps(r["messages"]) for r in server.requests),
            "default history": len(default.history), "own history": len(own.history),
            "global history": len(GLOBAL_HISTORY) - before}


def _evaluate(ns: Any, default: Any, own: Any, held: bool) -> tuple[Any, Any]:
    program = dspy.ChainOfThought("question -> answer") if ns is dspy else dspex.ChainOfThought("question -> answer")
    if held:
        program.set_lm(own)
    devset = [dspy.Example(question=q, answer="x").with_inputs("question") for q in QUESTIONS]
    result = dspy.Evaluate(devset=devset, metric=lambda e, p, t=None: len(p.answer) % 2, num_threads=THREADS,
                           display_progress=False)(program)
    return (result.score, [p.toDict() for _, p, _ in result.results]), [p.get_lm_usage() for _, p, _ in
                                                                        result.results]


def _batch(ns: Any, default: Any, own: Any, held: bool) -> tuple[Any, Any]:
    program = FanOut(ns)
    if held:
        program.a.set_lm(own)
    examples = [dspy.Example(question=q).with_inputs("question") for q in QUESTIONS]
    preds = program.a.batch(examples, num_threads=THREADS, disable_progress_bar=True)
    return [p.toDict() for p in preds], [p.get_lm_usage() for p in preds]


def _parallel(ns: Any, default: Any, own: Any, held: bool) -> tuple[Any, Any]:
    program = FanOut(ns)
    if held:
        program.a.set_lm(own)
        program.b.set_lm(own)
    pred = program(questions=QUESTIONS)
    return pred.toDict(), pred.get_lm_usage()


def _routed_parallel_plain(ns: Any, default: Any, own: Any, held: bool) -> tuple[Any, Any]:
    a = dspy.ChainOfThought("question -> answer")
    if held:
        a.set_lm(own)
    parallel = (dspy.Parallel if ns is dspy else dspex.Parallel)(num_threads=THREADS, disable_progress_bar=True)
    preds = parallel([(a, {"question": q}) for q in QUESTIONS])
    return [p.toDict() for p in preds], [p.get_lm_usage() for p in preds]


RUNS = {"dspy.Evaluate": _evaluate, "Module.batch": _batch, "dspy.Parallel in a program": _parallel,
        "a routed Parallel over a plain DSPy predictor": _routed_parallel_plain}


@pytest.mark.parametrize("held", [False, True], ids=["default LM", "an LM the predictor holds"])
@pytest.mark.parametrize("how", list(RUNS))
def test_lm_history_and_usage_are_what_plain_dspy_shows(server: Any, how: str, held: bool) -> None:
    def run(ns: Any, default: Any, own: Any) -> Any:
        return RUNS[how](ns, default, own, held)

    want = _books(server, dspy, run)
    dspex.shadow.reset()
    got = _books(server, dspex, run)
    assert got == want
    stats = dspex.shadow.stats()
    assert stats["compared"] >= 1 and _mismatches() == {}, stats


# --- a real divergence is still logged -----------------------------------------------------------------------
def _divergences(tmp_path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for f in sorted((tmp_path / "shadow").glob("*.jsonl")) for line in
             f.read_text().splitlines()]
    return [line for line in lines if line.get("kind") == "divergence"]


@pytest.mark.parametrize("own", [False, True], ids=["default LM", "LMs the predictors hold"])
def test_a_native_side_answering_otherwise_inside_dspy_parallel_is_a_divergence(own: bool, tmp_path: Path) -> None:
    calls: list[Any] = []
    lms = {name: LockedLM(name, calls) for name in ("default", "own", "other")}
    module = RoutedFanOutWrong()
    if own:
        _own_lms(module, lms)
    with dspy.context(lm=lms["default"]):
        pred = module(questions=QUESTIONS)
    dspex.shutdown(timeout=10)
    assert "not what the LM said" not in pred.answers     # the caller gets DSPy's answer
    assert len(calls) == len(QUESTIONS)                    # and the candidate called no LM
    stats = dspex.shadow.stats()["by_module"]["fan_out_wrong"]
    assert (stats["compared"], stats["diverged"], stats["candidate_errors"]) == (1, 1, 0), stats
    (record,) = _divergences(tmp_path)
    assert record["module_type"] == "fan_out_wrong" and record["fields"] == ["answers"], record


@pytest.mark.parametrize("how", ["evaluate", "batch"])
def test_a_native_side_answering_otherwise_in_dspys_workers_is_a_divergence_per_item(how: str,
                                                                                      tmp_path: Path) -> None:
    calls: list[Any] = []
    lm = LockedLM("default", calls)
    module = RoutedAskWrong()
    module.set_lm(lm)
    devset = [dspy.Example(question=q, answer="x").with_inputs("question") for q in QUESTIONS]
    if how == "evaluate":
        dspy.Evaluate(devset=devset, metric=lambda e, p, t=None: 1, num_threads=THREADS, display_progress=False)(module)
    else:
        module.batch(devset, num_threads=THREADS, disable_progress_bar=True)
    dspex.shutdown(timeout=10)
    assert len(calls) == len(QUESTIONS)
    stats = dspex.shadow.stats()["by_module"]["ask_wrong"]
    assert (stats["compared"], stats["diverged"], stats["candidate_errors"]) == (4, 4, 0), stats
    records = _divergences(tmp_path)
    assert len(records) == 4 and all(r["fields"] == ["answer"] for r in records), records


@pytest.mark.parametrize("held", [False, True], ids=["default LM", "an LM the predictors hold"])
@pytest.mark.parametrize("routed", [True, False], ids=["routed predictors", "plain DSPy predictors"])
def test_a_routed_parallel_over_programs_that_fan_out_on_dspy_parallel(server: Any, routed: bool, held: bool) -> None:
    """A routed Parallel whose pairs are plain DSPy programs that fan predictors out on ``dspy.Parallel``: the
    candidate runs its copies of the programs, whose predictors, in DSPy's workers, still know they run in the
    candidate (``_carry``) and replay. Before, routed ones ran as shadow calls of their own, and plain ones holding
    an LM called it: on the real LM, twice the requests, in the LM's and DSPy's history."""
    def run(ns: Any, default: Any, own: Any) -> Any:
        programs = [FanOut(ns if routed else dspy) for _ in range(2)]
        for program in programs if held else ():
            _own_lms(program, {"own": own, "other": own})
        parallel = (dspy.Parallel if ns is dspy else dspex.Parallel)(num_threads=THREADS, disable_progress_bar=True)
        preds = parallel([(p, {"questions": QUESTIONS}) for p in programs])
        return [p.toDict() for p in preds], [p.get_lm_usage() for p in preds]

    want = _books(server, dspy, run)
    dspex.shadow.reset()
    got = _books(server, dspex, run)
    assert got == want
    assert _mismatches() == {}, dspex.shadow.stats()
    # One comparison per shadowed call the program made: the routed Parallel, and the 8 routed predictor calls of
    # its control (none of its candidate, whose routed predictors run their candidates, on the transcript, even in
    # DSPy's workers; before, they shadowed anew: on the default LM, replayed, that doubled only these counts).
    compared = {t: s["compared"] for t, s in dspex.shadow.stats()["by_module"].items() if s["compared"]}
    assert compared == ({"parallel": 1, "chain_of_thought": 4, "predict": 4} if routed else {"parallel": 1}), compared
