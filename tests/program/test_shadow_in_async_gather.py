"""The async twins of ``test_shadow_in_dspy_workers``: shadow while a program's ``aforward`` fans routed modules out
with ``asyncio.gather`` of their ``acall``. (``dspy.Parallel``, ``Evaluate`` and ``Module.batch`` are sync only: on
asyncio the fan-out is the program's own ``gather``.) Each ``gather`` task runs in a copy of its caller's context,
so shadow's contextvars (running controls, a candidate's state) reach it, where DSPy's thread workers need
``router/_carry``; these tests hold the async route to the same books.

Each scenario runs a program of ``dspy`` modules and the same program of ``dspex`` ones on the shadow route, by
``acall``, and checks: the same answers; the LMs got the same requests (the candidates made none: shadow replays);
the LM history, DSPy's global history and usage are what plain DSPy shows; every comparison matches; and a planted
difference (a native side that answers otherwise) is logged as a divergence.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Callable

import dspy
import pytest

import dspex
import dspex.native as dn
from program_support import route_to
from test_shadow_in_dspy_workers import (QUESTIONS, LockedLM, _books, _divergences, _mismatches, _own_lms,
                                         server)  # noqa: F401 - ``server`` is a fixture


def _asked(a: Any, b: Any, questions: list[str]) -> list[Any]:
    """The questions, alternately to ``b`` and ``a`` (as ``_pairs`` does for ``dspy.Parallel``), as ``acall``s."""
    return [(a if i % 2 else b).acall(question=q) for i, q in enumerate(questions)]


class Gather(dspy.Module):
    """A user's module: two predictors, the questions fanned out over them with ``asyncio.gather``."""

    def __init__(self, ns: Any = dspy) -> None:
        super().__init__()
        self.a = ns.ChainOfThought("question -> answer")
        self.b = ns.Predict("question -> answer")

    def forward(self, questions: list[str]) -> Any:
        return asyncio.run(self.aforward(questions))

    async def aforward(self, questions: list[str]) -> Any:
        done = await asyncio.gather(*_asked(self.a, self.b, questions))
        return dspy.Prediction(answers=[p.answer for p in done])


class GatherRouted(Gather):
    """The same module over routed predictors (a registered module's DSPy side: shadow nested in shadow)."""

    def __init__(self) -> None:
        super().__init__(dspex)


class GatherNative(dn.Module):
    """The module natively (its predictors named alike)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = dn.ChainOfThought("question -> answer")
        self.b = dn.Predict("question -> answer")

    def forward(self, questions: list[str]) -> Any:
        return asyncio.run(self.aforward(questions))

    async def aforward(self, questions: list[str]) -> Any:
        done = await asyncio.gather(*_asked(self.a, self.b, questions))
        return dn.Prediction(answers=[p.answer for p in done])


class GatherNativeWrong(GatherNative):
    """A native side with a bug: its last answer is not the LM's."""

    async def aforward(self, questions: list[str]) -> Any:
        pred = await super().aforward(questions)
        return dn.Prediction(answers=[*pred.answers[:-1], "not what the LM said"])


RoutedGather = dspex.register("gather", native=GatherNative, dspy=Gather)
RoutedGatherOverRouted = dspex.register("gather_over_routed", native=GatherNative, dspy=GatherRouted)
RoutedGatherWrong = dspex.register("gather_wrong", native=GatherNativeWrong, dspy=Gather)
TYPES = ("predict", "chain_of_thought", "gather", "gather_over_routed", "gather_wrong")


@pytest.fixture(autouse=True)
def shadow_route(tmp_path: Path) -> None:
    route_to("shadow", tmp_path, types=TYPES)


def _program(routed: Callable[[], Any]) -> Callable[[Any, dict[str, Any], bool], Any]:
    """A scenario: ``Gather`` for the reference program, ``routed()`` for dspex's, awaited with ``acall``."""

    def run(ns: Any, lms: dict[str, Any], own: bool) -> Any:
        module = Gather() if ns is dspy else routed()
        if own:
            _own_lms(module, lms)
        return asyncio.run(module.acall(questions=QUESTIONS)).toDict()

    return run


# Each scenario: dspex's module for it (the reference program is ``Gather()``).
ROUTED: dict[str, Callable[[], Any]] = {
    "a program gathering routed predictors' acall": lambda: Gather(dspex),
    "a registered module whose DSPy side gathers its predictors' acall": RoutedGather,
    "a registered module whose DSPy side gathers routed predictors' acall": RoutedGatherOverRouted,
}
SCENARIOS = {name: _program(routed) for name, routed in ROUTED.items()}
# The comparisons each makes: one per shadowed call of the program's (a control's nested routed calls too), none
# of a candidate's (its routed modules run their candidates; they must not shadow anew).
COMPARED = {
    "a program gathering routed predictors' acall": {"chain_of_thought": 2, "predict": 2},
    "a registered module whose DSPy side gathers its predictors' acall": {"gather": 1},
    "a registered module whose DSPy side gathers routed predictors' acall":
        {"gather_over_routed": 1, "chain_of_thought": 2, "predict": 2},
}


def _compared() -> dict[str, int]:
    return {t: s["compared"] for t, s in dspex.shadow.stats()["by_module"].items() if s["compared"]}


def _scripted(ns: Any, scenario: str, own: bool) -> tuple[Any, list[Any]]:
    calls: list[Any] = []
    lms = {name: LockedLM(name, calls) for name in ("default", "own", "other")}
    with dspy.context(lm=lms["default"]):
        out = SCENARIOS[scenario](ns, lms, own)
    dspex.shutdown(timeout=10)   # shadow's candidates have run by now
    return out, sorted((c["lm"], json.dumps(c["messages"]), json.dumps(c["kwargs"])) for c in calls)


@pytest.mark.parametrize("own", [False, True], ids=["default LM", "LMs the predictors hold"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_lm_call_in_gathered_acalls_is_recorded_and_replayed(scenario: str, own: bool) -> None:
    want = _scripted(dspy, scenario, own)
    dspex.shadow.reset()
    got = _scripted(dspex, scenario, own)
    assert got[0] == want[0]
    assert got[1] == want[1]     # each LM got DSPy's requests, once: the candidates replayed, calling no LM
    assert _mismatches() == {}, dspex.shadow.stats()
    assert _compared() == COMPARED[scenario]


# --- a real dspy.LM on a loopback server: history, global history, usage ---------------------------------------
@pytest.mark.parametrize("held", [False, True], ids=["default LM", "an LM the predictors hold"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_lm_history_and_usage_are_what_plain_dspy_shows(server: Any, scenario: str, held: bool) -> None:
    def run(ns: Any, default: Any, own: Any) -> Any:
        module = Gather() if ns is dspy else ROUTED[scenario]()
        if held:
            _own_lms(module, {"own": own, "other": own})
        pred = asyncio.run(module.acall(questions=QUESTIONS))
        return pred.toDict(), pred.get_lm_usage()

    want = _books(server, dspy, run)
    dspex.shadow.reset()
    got = _books(server, dspex, run)
    assert got == want
    assert _mismatches() == {}, dspex.shadow.stats()
    assert _compared() == COMPARED[scenario]


# --- a real divergence is still logged -----------------------------------------------------------------------
@pytest.mark.parametrize("own", [False, True], ids=["default LM", "LMs the predictors hold"])
def test_a_native_side_answering_otherwise_in_gathered_acalls_is_a_divergence(own: bool, tmp_path: Path) -> None:
    calls: list[Any] = []
    lms = {name: LockedLM(name, calls) for name in ("default", "own", "other")}
    module = RoutedGatherWrong()
    if own:
        _own_lms(module, lms)
    with dspy.context(lm=lms["default"]):
        pred = asyncio.run(module.acall(questions=QUESTIONS))
    dspex.shutdown(timeout=10)
    assert "not what the LM said" not in pred.answers     # the caller gets DSPy's answer
    assert len(calls) == len(QUESTIONS)                    # and the candidate called no LM
    stats = dspex.shadow.stats()["by_module"]["gather_wrong"]
    assert (stats["compared"], stats["diverged"], stats["candidate_errors"]) == (1, 1, 0), stats
    (record,) = _divergences(tmp_path)
    assert record["module_type"] == "gather_wrong" and record["fields"] == ["answers"], record
