"""DSPy's settings reach every route: lm precedence, adapters, callbacks, usage, history, warnings and errors.

The precedence table (docs/inside-dspy.md), innermost first: the call's ``lm=``, the predictor's own ``lm``
(``set_lm``), ``dspex.native.settings.context(lm=)``, ``dspy.context(lm=)``, ``dspex.configure(lm=)``,
``dspy.configure(lm=)``.
"""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

import dspy
import pytest
from dspy.utils.callback import BaseCallback

import dspex
from program_support import route_to
from program_support import FieldLM, build

ROUTES = ("native", "dspy", "shadow")


def _which(lms: dict[str, FieldLM]) -> list[str]:
    return [name for name, lm in lms.items() if lm.calls]


@pytest.mark.parametrize("route", ROUTES)
def test_the_innermost_lm_wins_on_every_route(route: str, tmp_path: Path) -> None:
    route_to(route, tmp_path)
    lms = {name: FieldLM() for name in ("dspy_configure", "dspex_configure", "dspy_context", "native_context",
                                        "module", "call")}

    def ask(**kw: Any) -> list[str]:
        for lm in lms.values():
            lm.calls.clear()
        program = build("rag", dspex)
        if kw.get("module"):
            program.set_lm(lms["module"])
        program.generate(context=["c"], question="q", **({"lm": lms["call"]} if kw.get("call") else {}))
        return _which(lms)

    dspy.configure(lm=lms["dspy_configure"])
    assert ask() == ["dspy_configure"]                       # dspy.configure alone reaches every route
    dspex.configure(lm=lms["dspex_configure"])
    assert ask() == ["dspex_configure"]                      # dspex.configure beats dspy.configure
    with dspy.context(lm=lms["dspy_context"]):
        assert ask() == ["dspy_context"]                     # a dspy.context inside beats dspex.configure
        with dspex.native.settings.context(lm=lms["native_context"]):
            assert ask() == ["native_context"]
            assert ask(module=True) == ["module"]            # program.set_lm beats every context
            assert ask(module=True, call=True) == ["call"]   # and the call's lm= beats it


@pytest.mark.parametrize("route", ROUTES)
def test_dspy_configure_alone_reaches_native_and_shadow_compares(route: str, tmp_path: Path) -> None:
    route_to(route, tmp_path)
    program = build("two_hop", dspex)
    expected = build("two_hop", dspy)(question="Capital of France?")
    assert program(question="Capital of France?").toDict() == expected.toDict()
    dspex.shutdown(timeout=10)
    stats = dspex.shadow.stats()
    assert stats["compared"] == (2 if route == "shadow" else 0) and stats["diverged"] == 0


@pytest.mark.parametrize("adapter", [dspy.JSONAdapter(), dspy.ChatAdapter(use_json_adapter_fallback=False)])
@pytest.mark.parametrize("route", ROUTES)
def test_a_configured_adapter_is_honoured_by_its_native_twin(adapter: Any, route: str, tmp_path: Path, events: Any) -> None:
    route_to(route, tmp_path)
    seen = events("dspex.router.route")
    p_lm, q_lm = FieldLM(), FieldLM()
    with dspy.context(adapter=adapter, lm=p_lm):
        want = build("extractor", dspy)(text="Ann is 31.")
    with dspy.context(adapter=adapter, lm=q_lm):
        got = build("extractor", dspex)(text="Ann is 31.")
    assert q_lm.calls == p_lm.calls and got.toDict() == want.toDict()
    assert seen[-1][2]["implementation"] == route


@pytest.mark.parametrize("route", ["native", "shadow"])
def test_an_adapter_without_a_native_twin_sends_the_call_to_dspy_with_the_reason(route: str, tmp_path: Path,
                                                                               events: Any) -> None:
    route_to(route, tmp_path)
    seen = events("dspex.router.route")
    p_lm, q_lm = FieldLM(), FieldLM()
    with dspy.context(adapter=ShoutingAdapter(), lm=p_lm):
        want = dspy.Predict("question -> answer")(question="q")
    with dspy.context(adapter=ShoutingAdapter(), lm=q_lm):
        got = dspex.Predict("question -> answer")(question="q")
    assert q_lm.calls == p_lm.calls and got.toDict() == want.toDict()     # never a different prompt
    assert "QUESTION" in str(q_lm.calls[0])                                # the user's own formatting ran
    assert seen[-1][2]["implementation"] == "dspy"
    assert "ShoutingAdapter has no parity-proven native twin" in seen[-1][2]["reason"]


class ShoutingAdapter(dspy.ChatAdapter):
    """A team's own adapter (DSPy's built-in ones have native twins): only DSPy can run it."""

    def format_user_message_content(self, *args: Any, **kwargs: Any) -> str:
        return super().format_user_message_content(*args, **kwargs).upper()


class Recorder(BaseCallback):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def _add(self, kind: str, instance: Any = None) -> None:
        self.events.append((kind, type(instance).__name__ if instance is not None else ""))

    def on_module_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        self._add("module_start", instance)
        self.events.append(("module_inputs", repr(sorted(inputs))))

    def on_module_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        self._add("module_end")
        self.events.append(("module_outputs", repr(outputs)))

    def on_adapter_format_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        self._add("format_start", instance)

    def on_adapter_format_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        self._add("format_end")
        self.events.append(("messages", repr(outputs)))

    def on_adapter_parse_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        self._add("parse_start", instance)

    def on_adapter_parse_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        self._add("parse_end")
        self.events.append(("parsed", repr(outputs)))

    def on_lm_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        self._add("lm_start", instance)

    def on_lm_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        self._add("lm_end")


@pytest.mark.parametrize("kind", ["classifier", "rag", "two_hop"])
@pytest.mark.parametrize("route", ROUTES)
def test_callbacks_see_the_same_events_on_every_route(kind: str, route: str, tmp_path: Path) -> None:
    route_to(route, tmp_path)
    recorded = []
    for ns in (dspy, dspex):
        cb = Recorder()
        program = build(kind, ns)
        with dspy.context(callbacks=[cb]):
            program(**{"classifier": {"sentence": "I love it"}}.get(kind, {"question": "Capital of France?"}))
        recorded.append(cb.events)
    assert recorded[1] == recorded[0]
    assert ("format_start", "ChatAdapter") in recorded[0] and ("module_start", "Predict") in recorded[0]


@pytest.mark.parametrize("route", ROUTES)
def test_usage_is_tracked_and_history_is_kept_on_every_route(route: str, tmp_path: Path) -> None:
    from dspex.lm.testing import OpenAICompatServer

    from program_support import FieldLM as Answers

    answers = Answers()
    route_to(route, tmp_path)
    with OpenAICompatServer(lambda request: answers._answer(request["messages"][-1]["content"], 0)) as server:
        results = []
        for ns in (dspy, dspex):
            lm = dspy.LM("openai/test-model", api_base=server.api_base, api_key="k", cache=False)
            program = build("two_hop", ns)
            with dspy.context(lm=lm, track_usage=True):
                pred = program(question="Capital of France?")
            results.append((pred.toDict(), pred.get_lm_usage(), len(program.history), len(program.hop.history),
                            len(program.hop.predict.history), len(lm.history)))
    assert results[1] == results[0]
    assert results[0][1]["openai/test-model"]["total_tokens"] == 4      # two LM calls, 2 tokens each
    assert results[0][2:] == (2, 1, 1, 2)


@pytest.mark.parametrize("route", ROUTES)
def test_parallel_workers_track_usage_on_their_own_copies_as_in_dspy(route: str, tmp_path: Path) -> None:
    """DSPy's ParallelExecutor gives each worker a deep copy of the caller's usage tracker, so a program's
    ``get_lm_usage()`` leaves out what its Parallel's items used (found by an independent fuzz run: native Parallel
    shared the caller's tracker). The sequential path (one thread) shares it, as DSPy's does."""
    from dspex.lm.testing import OpenAICompatServer

    from program_support import FieldLM as Answers

    answers = Answers()
    route_to(route, tmp_path)

    class Fan(dspy.Module):
        def __init__(self, ns: Any, parallel: Any, threads: int) -> None:
            super().__init__()
            self.ask = ns.Predict("question -> answer")
            self.parallel, self.threads = parallel, threads

        def forward(self, questions: list[str]) -> Any:
            pairs = [(self.ask, {"question": q}) for q in questions]
            done = self.parallel(num_threads=self.threads, disable_progress_bar=True)(pairs)
            return dspy.Prediction(answers=[p.answer for p in done])

    with OpenAICompatServer(lambda request: answers._answer(request["messages"][-1]["content"], 0)) as server:
        lm = dspy.LM("openai/test-model", api_base=server.api_base, api_key="k", cache=False)
        for threads in (3, 1):
            seen = []
            for ns, parallel in ((dspy, dspy.Parallel), (dspex, dspex.Parallel), (dspy, dspex.native.Parallel)):
                with dspy.context(lm=lm, track_usage=True):
                    pred = Fan(ns, parallel, threads)(questions=["Capital of France?", "Capital of Peru?", "2+2?"])
                seen.append((pred.answers, pred.get_lm_usage()))
            assert seen[1] == seen[0] and seen[2] == seen[0], threads
            assert (seen[0][1] == {}) == (threads > 1)


def test_dspex_lm_calls_appear_in_dspy_history_and_usage(tmp_path: Path) -> None:
    from dspex.lm.testing import OpenAICompatServer
    from dspy.clients.base_lm import GLOBAL_HISTORY

    from program_support import FieldLM as Answers

    answers = Answers()
    route_to("native", tmp_path)
    with OpenAICompatServer(lambda request: answers._answer(request["messages"][-1]["content"], 0)) as server:
        lm = dspex.LM("openai/test-model", api_base=server.api_base, api_key="k", cache=False)
        program = build("two_hop", dspex)
        before = len(GLOBAL_HISTORY)
        with dspy.context(lm=lm, track_usage=True):
            pred = program(question="Capital of France?")
    assert len(GLOBAL_HISTORY) == before + 2 and len(program.history) == 2 and len(program.hop.predict.history) == 1
    assert GLOBAL_HISTORY[-1]["messages"][-1]["content"] == lm.history[-1]["messages"][-1]["content"]
    assert pred.get_lm_usage()["openai/test-model"]["total_tokens"] == 4


@pytest.mark.parametrize("route", ROUTES)
def test_a_dspy_lm_is_called_without_warnings_dspy_does_not_show(route: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from dspex import hooks
    from dspex.lm.testing import OpenAICompatServer

    from program_support import FieldLM as Answers

    answers = Answers()
    route_to(route, tmp_path)
    # as in a fresh process: dspy is imported, but no dspex call has loaded the bridge yet (shadow's recorder
    # once took its no-bridge branch there and called the dspy.LM with messages=, which DSPy warns about)
    monkeypatch.setattr(hooks, "bridge", None)
    with OpenAICompatServer(lambda request: answers._answer(request["messages"][-1]["content"], 0)) as server:
        lm = dspy.LM("openai/test-model", api_base=server.api_base, api_key="k", cache=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with dspy.context(lm=lm):
                build("rag", dspex)(question="Capital of France?")


@pytest.mark.parametrize("route", ["native", "dspy"])
def test_parse_errors_are_caught_by_dspy_s_except(route: str, tmp_path: Path) -> None:
    from dspy.utils.exceptions import AdapterParseError

    route_to(route, tmp_path)
    dspex.configure(allow_fallback=False)

    class Garbage(dspy.BaseLM):
        def __init__(self) -> None:
            super().__init__(model="garbage")

        def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
            return ["no fields here"]

    errors = []
    for ns in (dspy, dspex):
        with dspy.context(lm=Garbage()):
            with pytest.raises(AdapterParseError) as info:
                ns.Predict("question -> answer: int")(question="q")
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[1] == errors[0]
    # native's error is dspex's class too (both except clauses match); DSPy's own error passes through as is
    assert isinstance(info.value, dspex.errors.AdapterParseError) is (route == "native")


@pytest.mark.parametrize("make_lm", ["dspex.LM", "callable"])
def test_every_documented_lm_kind_works_on_the_dspy_route_and_the_kill_switch(make_lm: str, tmp_path: Path) -> None:
    from dspex.lm.testing import OpenAICompatServer

    from program_support import FieldLM as Answers

    answers = Answers()
    flags = tmp_path / "flags.flagd.json"
    flags.write_text('{"flags": {"dspex.predict": {"state": "DISABLED", "variants": {"native": "native", '
                     '"dspy": "dspy"}, "defaultVariant": "native"}}}')
    with OpenAICompatServer(lambda request: answers._answer(request["messages"][-1]["content"], 0)) as server:
        if make_lm == "dspex.LM":
            lm: Any = dspex.LM("openai/test-model", api_base=server.api_base, api_key="k", cache=False)
        else:
            def lm(messages: list[dict[str, Any]], **kwargs: Any) -> list[str]:
                return [answers._answer(messages[-1]["content"], 0)]
        dspex.configure(lm=lm, flags=str(flags))
        dspy.configure(lm=None)
        for route_kw in ({}, {"implementation": "dspy"}):   # the kill switch (DISABLED -> preference: dspy), forced
            got = dspex.Predict("question -> answer")(question="q", **route_kw)
            want = dspy.Predict("question -> answer")(question="q", lm=FieldLM())
            assert got.toDict() == want.toDict()
        program = build("two_hop", dspex)
        program.set_lm(lm)     # a predictor's own LM of any documented kind, on the DSPy route
        dspex.configure(module_overrides={"chain_of_thought": "dspy", "predict": "dspy"})
        got = program(question="Capital of France?")
        with dspy.context(lm=FieldLM()):
            assert got.toDict() == build("two_hop", dspy)(question="Capital of France?").toDict()


@pytest.mark.parametrize("route", ROUTES)
def test_batch_acall_and_inspect_history_on_every_dspex_module(route: str, tmp_path: Path, capsys: Any) -> None:
    import re

    from dspex.lm.testing import OpenAICompatServer

    from program_support import FieldLM as Answers

    answers = Answers()
    route_to(route, tmp_path)
    stamp = re.compile(r"\[\d{4}-\d\d-\d\dT[\d:.]+\]")
    with OpenAICompatServer(lambda request: answers._answer(request["messages"][-1]["content"], 0)) as server:
        lm = dspy.LM("openai/test-model", api_base=server.api_base, api_key="k", cache=False)
        dspy.configure(lm=lm)
        for make in (lambda ns: ns.Predict("question -> answer"), lambda ns: ns.ChainOfThought("question -> answer")):
            p, q = make(dspy), make(dspex)
            examples = [dspy.Example(question=f"q{i}").with_inputs("question") for i in range(4)]
            got = q.batch(examples, num_threads=2, disable_progress_bar=True)
            assert [r.toDict() for r in got] == [r.toDict() for r in p.batch(examples, num_threads=2, disable_progress_bar=True)]
            assert asyncio.run(q.acall(question="a")).toDict() == asyncio.run(p.acall(question="a")).toDict()
            assert len(q.history) == len(p.history) == 5
            capsys.readouterr()
            p.inspect_history(n=1)   # the acall: the batch ran on two threads, in either order
            want = capsys.readouterr().out
            q.inspect_history(n=1)
            assert stamp.sub("", capsys.readouterr().out) == stamp.sub("", want)
            assert "[[ ## question ## ]]\na" in want and "User message:" in want


def test_dspex_lm_is_accepted_wherever_dspy_accepts_an_lm(tmp_path: Path) -> None:
    """With DSPy loaded a dspex.LM is a dspy.BaseLM: dspy.configure, plain DSPy modules and DSPy-only modules take it,
    its callbacks are DSPy's, and each call is in DSPy's histories once."""
    from dspex.lm.testing import OpenAICompatServer
    from dspy.clients.base_lm import GLOBAL_HISTORY

    from program_support import FieldLM as Answers

    answers = Answers()
    with OpenAICompatServer(lambda request: answers._answer(request["messages"][-1]["content"], 0)) as server:
        lm = dspex.LM("openai/test-model", api_base=server.api_base, api_key="k", cache=False)
        assert isinstance(lm, dspy.BaseLM) and isinstance(lm, dspex.LM)
        dspy.configure(lm=lm)
        cb = Recorder()
        before = len(GLOBAL_HISTORY)
        with dspy.context(callbacks=[cb]):
            program = build("two_hop", dspy)          # pure DSPy modules, no dspex routing at all
            pred = program(question="Capital of France?")
        with dspy.context(lm=FieldLM()):
            assert pred.toDict() == build("two_hop", dspy)(question="Capital of France?").toDict()
        assert len(GLOBAL_HISTORY) == before + 2 and len(lm.history) == 2 and len(program.hop.predict.history) == 1
        assert [e for e in cb.events if e[0] == "lm_start"] == [("lm_start", "LM"), ("lm_start", "LM")]
        copied = lm.copy(temperature=0.9)
        assert isinstance(copied, dspy.BaseLM) and copied.kwargs["temperature"] == 0.9 and copied.history == []
        restored = dspy.BaseLM.load_state(lm.dump_state())      # DSPy restores its own LM from a dspex.LM's state
        assert isinstance(restored, dspy.LM) and restored.model == "openai/test-model"


def test_a_shadow_candidate_does_not_repeat_the_controls_warnings_in_the_log(tmp_path: Path, caplog: Any) -> None:
    import logging

    route_to("shadow", tmp_path)
    module = dspex.Predict("numbers: list[int] -> result")
    with caplog.at_level(logging.WARNING):
        module(numbers=["1", "2"])
        dspex.shutdown(timeout=10)        # the candidate has run by now
    mismatches = [r for r in caplog.records if "Type mismatch" in r.getMessage()]
    assert [r.name for r in mismatches] == ["dspy.predict.predict"]    # the control's, once
    assert dspex.shadow.stats()["compared"] == 1
