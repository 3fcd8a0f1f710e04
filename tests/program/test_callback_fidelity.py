"""Callbacks inside a DSPy program fire exactly as DSPy fires them, on every route: each event once, on the object
the program holds (or the adapter it configured), with the keywords the caller wrote; a shadow candidate (native,
off the request path) fires none. Found by an independent run of routed modules against plain DSPy programs:

* a module's own ``callbacks=`` fired twice per call on the native route (DSPy's books for the module, then the
  native engine's copy of the same list), and once more, on the engine's object and with an ``lm`` keyword, from
  the shadow candidate;
* each BestOfN / Refine attempt's ``on_module_start`` saw ``lm=<shadow's recorder>`` on the shadow route (the
  attempt's module holds a copy of the recorder as its own LM, and the nested shadow call passed its own recorder
  in front of it as ``lm=``); so did any shadowed Predict holding its own LM, or called with ``lm=``;
* under ``dspy.configure(adapter=dspy.XMLAdapter())`` the adapter callbacks were told about a ChatAdapter, not the
  configured XMLAdapter; XMLAdapter's and JSONAdapter's inherited ``format`` fire two nested events in DSPy, one
  natively; TwoStepAdapter's were told about a ChatAdapter.

Every expectation is what the plain DSPy program records, never written by hand.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import dspy
import pytest
from dspy.utils.callback import BaseCallback
from dspy.utils.dummies import DummyLM

import dspex
from program_support import Classify, FieldLM, route_to

ROUTES = ("native", "dspy", "shadow", "fractional")   # (conftest's; tests/routing has a conftest of that name too)


class Events(BaseCallback):
    """Module and adapter events: the instance as where the program holds it (``self.classify``...; ``configured``
    for the configured adapter), else its class; the keywords' names, and whether ``lm`` is the caller's."""

    def __init__(self, holder: Any = None, adapter: Any = None, lm: Any = None) -> None:
        self.events: list[tuple[str, ...]] = []
        self.holder, self.adapter, self.lm = holder, adapter, lm

    def _where(self, instance: Any) -> str:
        if instance is not None and instance is self.adapter:
            return "configured"
        if self.holder is not None:
            for name, module in self.holder.named_sub_modules():
                if module is instance:
                    return name
        return f"a {type(instance).__name__} the program does not hold"

    def on_module_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        kwargs = inputs.get("kwargs", {})
        lm = "" if "lm" not in kwargs else ("lm is the caller's" if kwargs["lm"] is self.lm else "another lm")
        self.events.append(("module_start", self._where(instance), repr(sorted(kwargs)), lm))

    def on_module_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        self.events.append(("module_end", repr(outputs)))

    def on_adapter_format_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        self.events.append(("format_start", self._where(instance)))

    def on_adapter_format_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        self.events.append(("format_end", repr(outputs)))

    def on_adapter_parse_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        self.events.append(("parse_start", self._where(instance)))

    def on_adapter_parse_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        self.events.append(("parse_end", repr(outputs)))


def _program(ns: Any, callback: Any) -> Any:
    class Explain(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.classify = ns.Predict(Classify, callbacks=[callback])
            self.reason = ns.ChainOfThought("question -> answer", callbacks=[callback])

        def forward(self, sentence: str) -> Any:
            label = self.classify(sentence=sentence).sentiment
            return self.reason(question=f"Why is it {label}?")

        async def aforward(self, sentence: str) -> Any:
            label = (await self.classify.acall(sentence=sentence)).sentiment
            return await self.reason.acall(question=f"Why is it {label}?")

    return Explain()


def _shadow_compared(route: str, at_least: int) -> None:
    dspex.shutdown(timeout=10)    # the candidates have run (and fired nothing) by now
    stats = dspex.shadow.stats()
    if route == "shadow":
        assert stats["compared"] >= at_least and stats["diverged"] == 0, stats


@pytest.mark.parametrize("mode", ["call", "acall"])
def test_a_module_s_own_callbacks_fire_once_on_the_module_the_program_holds(route: str, mode: str) -> None:
    recorded = []
    for ns in (dspy, dspex):
        callback = Events()
        program = callback.holder = _program(ns, callback)
        if mode == "call":
            program(sentence="I love it")
        else:
            asyncio.run(program.acall(sentence="I love it"))
        if ns is dspex:
            _shadow_compared(route, 2)
        recorded.append(callback.events)
    assert recorded[1] == recorded[0]
    assert [e[:2] for e in recorded[0] if e[0] == "module_start"] == [("module_start", "self.classify"),
                                                                     ("module_start", "self.reason.predict")]


ATTEMPT_ANSWERS = {"reasoning": "r", "answer": "x", "discussion": "d", "advice": "{}"}


@pytest.mark.parametrize("inner", ["Predict", "ChainOfThought"])
@pytest.mark.parametrize("wrapper", ["BestOfN", "Refine"])
@pytest.mark.parametrize("route", ROUTES)
def test_each_attempt_of_a_wrapper_sees_the_keywords_the_caller_wrote(wrapper: str, inner: str, route: str,
                                                                      tmp_path: Path) -> None:
    route_to(route, tmp_path, types=("predict", "chain_of_thought", "best_of_n", "refine"))
    recorded = []
    for ns in (dspy, dspex):
        module = getattr(ns, wrapper)(module=getattr(ns, inner)("question -> answer"), N=2,
                                      reward_fn=lambda args, pred: 0.0, threshold=1.0)
        callback = Events(module)
        with dspy.context(lm=DummyLM([ATTEMPT_ANSWERS] * 6), callbacks=[callback]):
            module(question="hi")
        if ns is dspex:
            _shadow_compared(route, 1)
        recorded.append([e[0::2] if e[0] == "module_start" else e[:1] for e in callback.events])
    assert recorded[1] == recorded[0]
    assert ("module_start", "['question']") in recorded[0]


@pytest.mark.parametrize("kind", ["Predict", "ChainOfThought"])
@pytest.mark.parametrize("lm_from", ["the module", "the call"])
def test_a_module_with_its_own_lm_or_a_call_s_lm_is_seen_with_the_caller_s_keywords(kind: str, lm_from: str,
                                                                                     route: str) -> None:
    recorded = []
    for ns in (dspy, dspex):
        lm = FieldLM()
        module = getattr(ns, kind)("question -> answer")
        callback = Events(module, lm=lm)
        with dspy.context(callbacks=[callback]):
            if lm_from == "the module":
                module.set_lm(lm)
                module(question="hi")
            else:
                module(question="hi", lm=lm)
        if ns is dspex:
            _shadow_compared(route, 1)
        recorded.append((callback.events, lm.calls))
    assert recorded[1] == recorded[0]


class AnyFormatLM(FieldLM):
    """FieldLM, answering XMLAdapter's prompts too (``<field>value</field>``)."""

    def _answer(self, seed: str, i: int) -> str:
        if "wrapped in XML tags" in seed:
            names = [n for n in seed.rsplit("wrapped in XML tags", 1)[1].split("`") if n.startswith("<")]
            return "\n".join(f"{n}\nvalue of {n[1:-1]}\n</{n[1:]}" for n in names)
        return super()._answer(seed, i)


ADAPTERS = {"xml": lambda: dspy.XMLAdapter(), "json": lambda: dspy.JSONAdapter(), "chat": lambda: dspy.ChatAdapter(),
            "two_step": lambda: dspy.TwoStepAdapter(FieldLM())}


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_adapter_callbacks_see_the_adapter_the_program_configured(adapter: str, route: str, events: Any) -> None:
    seen = events("dspex.router.route")
    recorded = []
    for ns in (dspy, dspex):
        configured, lm = ADAPTERS[adapter](), AnyFormatLM()
        module = ns.Predict("question -> answer, score: int")
        callback = Events(module, adapter=configured)
        with dspy.context(lm=lm, adapter=configured, callbacks=[callback]):
            module(question="hi")
        if ns is dspex:
            _shadow_compared(route, 1)
        recorded.append((callback.events, lm.calls))
    assert recorded[1] == recorded[0]
    assert ("format_start", "configured") in recorded[0][0] and ("parse_start", "configured") in recorded[0][0]
    if route in ("native", "dspy", "shadow"):   # XMLAdapter and TwoStepAdapter are served natively (docs/inside-dspy.md)
        assert seen[-1][2]["implementation"] == route
