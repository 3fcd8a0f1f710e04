"""Shadow records every LM call its control makes, whichever LM each predictor reads, and its candidate replays
every one of them: the call's ``lm=``, an LM a predictor holds (``set_lm``, or the rollout copy DSPy's BestOfN sets
on each attempt's module), the default one; for a routed module nested anywhere (inside DSPy's own BestOfN, or
wrapped by a routed BestOfN or Refine). Found by the last session: a routed ReAct inside a plain ``dspy.BestOfN``
recorded none of its control's LM calls (the recorder stood for the default LM; the attempt's predictors held the
rollout LM), so every comparison diverged; and a candidate whose predictors hold their own LM called that LM for
real (a BestOfN around a ChainOfThought with ``set_lm``, a MultiChainComparison with one).

Each scenario runs with ``dspy`` modules and with ``dspex`` ones on every route: the LMs get the same requests, the
program the same answer and the same callback keywords; on the shadow route every comparison matches.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from pathlib import Path
from typing import Any, Callable

import dspy
import pytest
from dspy.utils.callback import BaseCallback

import dspex
from program_support import FieldLM, route_to

TYPES = ("predict", "chain_of_thought", "react", "best_of_n", "refine", "multi_chain_comparison")
QUESTION = {"question": "Capital of France?"}


class TaggedLM(FieldLM):
    """FieldLM noting which LM (by name) got each request, its rollout copies under the same name; a ReAct step
    calls ``lookup`` once, then ``finish``; Refine's feedback advises the module's one predictor."""

    def __init__(self, name: str, calls: list[Any] | None = None) -> None:
        super().__init__()
        self.name = name
        if calls is not None:
            self.calls = calls

    def copy(self, **kwargs: Any) -> "TaggedLM":
        new = TaggedLM(self.name, self.calls)
        new.kwargs = {**self.kwargs, **kwargs}
        return new

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        last = messages[-1]["content"]
        if isinstance(last, str) and "`[[ ## next_tool_name ## ]]`" in last:
            self.calls.append({"lm": self.name, "messages": [dict(m) for m in messages], "kwargs": dict(kwargs)})
            tool, args = ("finish", "{}") if "observation_0" in last else ("lookup", '{"q": "x"}')
            return [f"[[ ## next_thought ## ]]\nstep\n\n[[ ## next_tool_name ## ]]\n{tool}\n\n"
                    f"[[ ## next_tool_args ## ]]\n{args}\n\n[[ ## completed ## ]]"]
        if isinstance(last, str) and "`[[ ## advice ## ]]`" in last:
            self.calls.append({"lm": self.name, "messages": [dict(m) for m in messages], "kwargs": dict(kwargs)})
            return ['[[ ## discussion ## ]]\nfine\n\n[[ ## advice ## ]]\n{"predict": "be brief"}\n\n'
                    '[[ ## completed ## ]]']
        out = super().__call__(prompt, messages, **kwargs)
        self.calls[-1]["lm"] = self.name
        return out


def lookup(q: str) -> str:
    """Look something up."""
    return f"found {q}"


class Keywords(BaseCallback):
    """Each module call's class and keywords, ``lm`` named by which scripted LM it is."""

    def __init__(self, lms: dict[str, Any]) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.names = {id(lm): name for name, lm in lms.items()}

    def on_module_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        kwargs = inputs.get("kwargs", {})
        lm = "" if "lm" not in kwargs else self.names.get(id(kwargs["lm"]), f"a {type(kwargs['lm']).__name__}")
        self.seen.append((type(instance).__name__, repr(sorted(kwargs)), lm))


def _react(ns: Any) -> Any:
    return ns.ReAct("question -> answer", tools=[lookup], max_iters=3)


def _best_of(ns: Any, module: Any, wrapper: Any = None) -> Any:
    return (wrapper or ns.BestOfN)(module=module, N=2, reward_fn=lambda args, pred: 0.0, threshold=1.0)


def _holding(module: Any, lm: Any) -> Any:
    module.set_lm(lm)
    return module


def _react_two_lms(ns: Any, lms: dict[str, Any]) -> Any:
    agent = _react(ns)
    agent.react.lm, agent.extract.predict.lm = lms["own"], lms["other"]
    return agent


COMPLETIONS = [dspy.Prediction(reasoning="r1", answer="a1"), dspy.Prediction(reasoning="r2", answer="a2")]

# Each scenario: build(ns, lms) -> (module, how to call it). ``lms``: "default" (the configured one), "own", "other".
SCENARIOS: dict[str, Callable[[Any, dict[str, Any]], tuple[Any, Callable[[Any], Any]]]] = {
    # The gap: DSPy's BestOfN sets its rollout LM on each attempt's copy of the routed ReAct.
    "react inside dspy's BestOfN": lambda ns, lms: (_best_of(ns, _react(ns), dspy.BestOfN), lambda m: m(**QUESTION)),
    "react holding its own LM": lambda ns, lms: (_holding(_react(ns), lms["own"]), lambda m: m(**QUESTION)),
    "react holding its own LM, acall": lambda ns, lms: (
        _holding(_react(ns), lms["own"]), lambda m: asyncio.run(m.acall(**QUESTION))),
    "react whose predictors hold two LMs": lambda ns, lms: (_react_two_lms(ns, lms), lambda m: m(**QUESTION)),
    "react given lm= inside dspy's BestOfN": lambda ns, lms: (
        _best_of(ns, _react(ns), dspy.BestOfN), lambda m: m(**QUESTION, lm=lms["other"])),
    "chain_of_thought holding its own LM inside dspy's BestOfN": lambda ns, lms: (
        _best_of(ns, _holding(ns.ChainOfThought("question -> answer"), lms["own"]), dspy.BestOfN),
        lambda m: m(**QUESTION)),
    "best_of_n around a chain_of_thought holding its own LM": lambda ns, lms: (
        _best_of(ns, _holding(ns.ChainOfThought("question -> answer"), lms["own"])), lambda m: m(**QUESTION)),
    "refine around a chain_of_thought holding its own LM": lambda ns, lms: (
        _best_of(ns, _holding(ns.ChainOfThought("question -> answer"), lms["own"]), ns.Refine),
        lambda m: m(**QUESTION)),
    "best_of_n around a react holding its own LM": lambda ns, lms: (
        _best_of(ns, _holding(_react(ns), lms["own"])), lambda m: m(**QUESTION)),
    "multi_chain_comparison holding its own LM": lambda ns, lms: (
        _holding(ns.MultiChainComparison("question -> answer", M=2), lms["own"]),
        lambda m: m(COMPLETIONS, **QUESTION)),
}


def _run(ns: Any, scenario: str) -> tuple[Any, list[Any], list[Any]]:
    calls: list[Any] = []
    lms = {name: TaggedLM(name, calls) for name in ("default", "own", "other")}
    module, call = SCENARIOS[scenario](ns, lms)
    keywords = Keywords(lms)
    with dspy.context(lm=lms["default"], callbacks=[keywords]):
        pred = call(module)
    dspex.shutdown(timeout=10)   # shadow's candidates have run (and called no LM) by now
    return pred.toDict(), calls, keywords.seen


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_lm_a_control_uses_is_recorded_and_replayed(scenario: str, route: str, tmp_path: Path) -> None:
    route_to(route, tmp_path, types=TYPES)
    want = _run(dspy, scenario)
    got = _run(dspex, scenario)
    assert got[0] == want[0]
    assert got[1] == want[1]   # the candidate called no LM: every request is the control's, and DSPy's
    assert got[2] == want[2]   # no stand-in among the keywords callbacks see
    if route == "shadow":
        stats = dspex.shadow.stats()
        assert stats["compared"] >= 1, stats
        assert {t: s for t, s in stats["by_module"].items() if s["diverged"] or s["candidate_errors"]} == {}, stats


def _tapped(module: Any) -> list[str]:
    return [name for name, p in module.named_predictors() if {"forward", "aforward"} & set(p.__dict__)]


def test_concurrent_controls_of_one_module_each_record_their_own_calls(tmp_path: Path) -> None:
    """Threads shadowing one ChainOfThought that holds its own LM: each control's transcript holds its own call
    only (every comparison matches), and the predictor is left as it was."""
    route_to("shadow", tmp_path, types=TYPES)
    own = TaggedLM("own")
    cot = _holding(dspex.ChainOfThought("question -> answer"), own)
    errors: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            for j in range(5):
                cot(question=f"question {i}.{j}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dspex.shutdown(timeout=10)
    stats = dspex.shadow.stats()
    assert not errors
    assert stats["compared"] == 20 and stats["diverged"] == 0 and stats["candidate_errors"] == 0, stats
    assert len(own.calls) == 20 and _tapped(cot) == [] and cot.predict.lm is own


class _CopyWhileRunning(BaseCallback):
    """Deep-copies the module its predictor belongs to while the shadow control runs (an optimizer on another
    thread could)."""

    def __init__(self, module: Any) -> None:
        self.module, self.copies = module, []

    def on_module_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        if instance is self.module.predict and not self.copies:
            self.copies.append(copy.deepcopy(self.module))


def test_a_copy_made_while_a_control_runs_keeps_no_trace_of_it(tmp_path: Path) -> None:
    route_to("shadow", tmp_path, types=TYPES)
    lm = TaggedLM("own")
    cot = _holding(dspex.ChainOfThought("question -> answer"), lm)
    watcher = _CopyWhileRunning(cot)
    with dspy.context(callbacks=[watcher]):
        cot(**QUESTION)
    dspex.shutdown(timeout=10)
    (made,) = watcher.copies
    assert _tapped(cot) == [] and dspex.shadow.stats()["diverged"] == 0
    assert _tapped(made) == ["predict"] and made.predict.__dict__["forward"].predictor is made.predict
    made(**QUESTION)    # outside any control: its own LM answers, and the copy is as if made after the call
    assert _tapped(made) == [] and len(made.predict.lm.calls) == 1
    assert made.predict.lm.calls[0]["messages"] == lm.calls[0]["messages"]
