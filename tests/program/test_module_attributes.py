"""DSPy's modules read attributes of their own at call time, and a program may set them after construction: ReAct's
``max_iters`` and ``tools``, MultiChainComparison's ``M``, BestOfN's and Refine's ``N``, ``threshold``,
``reward_fn``, ``fail_count`` (which a failed attempt spends, on the module) and ``module``, Parallel's settings.
A routed module's native engine was built from the constructor's arguments and kept their values: only
predictor state reached it. Each scenario here runs with dspy modules and with dspex modules on the native and
shadow routes; dspex must make the LM calls DSPy makes, answer as it does and leave the module as it does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import dspy
import pytest

import dspex
from program_support import FieldLM

TYPES = ("predict", "chain_of_thought", "react", "react_v2", "multi_chain_comparison", "best_of_n", "refine",
         "parallel")


@pytest.fixture(params=["native", "shadow"])
def route(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # No fallback: a native error reaches the caller, rather than DSPy answering the call again.
    dspex.configure(module_overrides={t: request.param for t in TYPES}, allow_fallback=False,
                    shadow={"log_path": str(tmp_path / "shadow")})
    return request.param


class ScriptLM(FieldLM):
    """FieldLM, whose copies (BestOfN's and Refine's rollouts) record into the same list; an agent's step always
    calls ``lookup``, so ``max_iters`` decides how long it runs."""

    def __init__(self, calls: list[Any] | None = None) -> None:
        super().__init__()
        if calls is not None:
            self.calls = calls

    def copy(self, **kwargs: Any) -> "ScriptLM":
        new = ScriptLM(self.calls)
        new.kwargs = {**self.kwargs, **kwargs}
        return new

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        last = messages[-1]["content"] if messages else ""
        if isinstance(last, str) and "`[[ ## next_tool_name ## ]]`" in last:
            self.calls.append({"messages": [dict(m) for m in messages], "kwargs": dict(kwargs)})
            return ['[[ ## next_thought ## ]]\nlook\n\n[[ ## next_tool_name ## ]]\nlookup\n\n'
                    '[[ ## next_tool_args ## ]]\n{"q": "x"}\n\n[[ ## completed ## ]]']
        if isinstance(last, str) and "`[[ ## advice ## ]]`" in last:   # Refine's feedback: advice per predictor
            self.calls.append({"messages": [dict(m) for m in messages], "kwargs": dict(kwargs)})
            return ['[[ ## discussion ## ]]\nfine\n\n[[ ## advice ## ]]\n{"predict": "be brief"}\n\n'
                    '[[ ## completed ## ]]']
        if isinstance(last, str) and "`[[ ## tool_calls ## ]]`" in last:
            self.calls.append({"messages": [dict(m) for m in messages], "kwargs": dict(kwargs)})
            calls = json.dumps({"tool_calls": [{"name": "lookup", "args": {"q": "x"}}]})
            return [f"[[ ## next_thought ## ]]\nlook\n\n[[ ## tool_calls ## ]]\n{calls}\n\n[[ ## completed ## ]]"]
        return super().__call__(prompt, messages, **kwargs)


def lookup(q: str) -> str:
    """Look something up."""
    return f"found {q}"


def replacement(q: str) -> str:
    """Look something up."""
    return f"replaced {q}"


def _flaky(args: Any, pred: Any) -> float:
    raise RuntimeError("no reward today")


# Each scenario: (build(ns), what to change after the first call, how to call). Called three times: before and
# after the change, and once more.
def _react(ns: Any) -> Any:
    return ns.ReAct("question -> answer", tools=[lookup], max_iters=4)


def _react_v2(ns: Any) -> Any:
    return ns.ReActV2("question -> answer", tools=[lookup], max_iters=3)


def _wrapper(kind: str, **kw: Any) -> Callable[[Any], Any]:
    def build(ns: Any) -> Any:
        args = {"N": 2, "reward_fn": lambda a, p: 0.0, "threshold": 1.0, **kw}
        module = getattr(ns, kind)(module=ns.ChainOfThought("question -> answer"), **args)
        if kind == "Refine":   # the wrapped class's source, which differs (docs/parity.md): the same on both
            module.module_code = "class Answerer: ..."
        return module
    return build


def _set(**values: Any) -> Callable[[Any, Any], None]:
    def change(module: Any, ns: Any) -> None:
        for name, value in values.items():
            setattr(module, name, value)
    return change


def _set_tool(tool: Callable[[Any], Any]) -> Callable[[Any, Any], None]:
    def change(module: Any, ns: Any) -> None:
        module.tools["lookup"] = tool(ns)
    return change


def _best_of_react(ns: Any) -> Any:
    return ns.BestOfN(module=_react(ns), N=2, reward_fn=lambda a, p: 0.0, threshold=1.0)


QUESTION = {"question": "Capital of France?"}
SCENARIOS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], None]]] = {
    "react max_iters": (_react, _set(max_iters=2)),
    "react tool replaced by a dspy.Tool": (_react, _set_tool(lambda ns: dspy.Tool(replacement, name="lookup"))),
    "react tool replaced by a function": (_react, _set_tool(lambda ns: replacement)),
    "react_v2 max_iters": (_react_v2, _set(max_iters=1)),
    "react_v2 tool replaced": (_react_v2, _set_tool(lambda ns: dspy.Tool(replacement, name="lookup"))),
    "best_of_n N": (_wrapper("BestOfN"), _set(N=4)),
    "best_of_n threshold": (_wrapper("BestOfN"), _set(threshold=0.0)),
    "best_of_n reward_fn": (_wrapper("BestOfN"), _set(reward_fn=lambda a, p: 1.0)),
    "best_of_n fail_count": (_wrapper("BestOfN", N=3, reward_fn=_flaky, fail_count=6), _set(fail_count=4)),
    "best_of_n wrapping a react whose max_iters changes": (_best_of_react,
                                                           lambda m, ns: setattr(m.module, "max_iters", 1)),
    "best_of_n module": (_wrapper("BestOfN"), lambda m, ns: setattr(m, "module", ns.Predict("question -> answer"))),
    "refine module": (_wrapper("Refine"), lambda m, ns: setattr(m, "module", ns.Predict("question -> answer"))),
    "refine N": (_wrapper("Refine"), _set(N=3)),
    "refine threshold": (_wrapper("Refine"), _set(threshold=0.0)),
    "refine fail_count": (_wrapper("Refine", N=3, reward_fn=_flaky, fail_count=6), _set(fail_count=4)),
    "refine module_code": (_wrapper("Refine"), _set(module_code="class Answer: ...")),
}


def _run(ns: Any, scenario: str) -> tuple[list[Any], list[Any]]:
    build, change = SCENARIOS[scenario]
    module, lm, seen = build(ns), ScriptLM(), []
    with dspy.context(lm=lm):
        for step in range(3):
            if step == 1:
                change(module, ns)
            try:
                pred = module(**QUESTION)
                seen.append(pred.toDict() if pred is not None else None)
            except Exception as exc:  # noqa: BLE001 - BestOfN re-raises an attempt's error past fail_count
                seen.append(f"{type(exc).__name__}: {exc}")
            seen.append({name: getattr(module, name) for name in ("fail_count", "max_iters", "N")
                         if hasattr(module, name)})
    return lm.calls, seen


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_an_attribute_set_after_construction_is_the_one_the_call_uses(scenario: str, route: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    want_calls, want = _run(dspy, scenario)
    want_printed = capsys.readouterr().out
    got_calls, got = _run(dspex, scenario)
    assert got == want
    assert got_calls == want_calls
    if route == "native":   # BestOfN's and Refine's failed attempts, printed (a shadow candidate prints too)
        assert capsys.readouterr().out == want_printed
    if route == "shadow":
        dspex.shutdown(timeout=10)
        stats = dspex.shadow.stats()
        diverged = {t: s["diverged"] for t, s in stats["by_module"].items() if s["diverged"]}
        assert stats["compared"] >= 3 and not diverged, stats


def test_a_set_before_the_first_call_counts_too(events: Any) -> None:
    """The engine is built at the first native call, from the constructor's arguments: what the program set
    before that call must win over them too, and native (not a fallback) must be what served it."""
    dspex.configure(module_overrides={t: "native" for t in TYPES})
    seen = events("dspex.router.route")
    runs = []
    for ns in (dspy, dspex):
        agent, lm = ns.ReAct("question -> answer", tools=[lookup], max_iters=5), ScriptLM()
        agent.max_iters = 1
        agent.tools["lookup"] = dspy.Tool(replacement, name="lookup")
        with dspy.context(lm=lm):
            runs.append((agent(**QUESTION).toDict(), lm.calls))
    assert runs[1] == runs[0]
    assert runs[1][0]["trajectory"]["observation_0"] == "replaced x" and len(runs[1][1]) == 2
    assert [md["implementation"] for _, _, md in seen] == ["native"]


def test_multi_chain_comparison_reads_m_and_last_key_when_called(route: str) -> None:
    completions = [dspy.Prediction(reasoning=f"r{i}", answer=f"a{i}", note=f"n{i}") for i in range(3)]
    runs = []
    for ns in (dspy, dspex):
        module, lm, seen = ns.MultiChainComparison("question -> answer, note", M=3), ScriptLM(), []
        with dspy.context(lm=lm):
            seen.append(module(completions=completions, **QUESTION).toDict())
            module.M, module.last_key = 2, "answer"
            seen.append(module(completions=completions[:2], **QUESTION).toDict())
            try:
                module(completions=completions, **QUESTION)
            except AssertionError as exc:
                seen.append(str(exc))
        runs.append((seen, lm.calls))
    assert runs[1] == runs[0]
    assert "doesn't match the expected number M (2)" in runs[0][0][-1]
    assert "prediction is a0" in json.dumps(runs[0][1][1])
    if route == "shadow":
        dspex.shutdown(timeout=10)
        assert dspex.shadow.stats()["diverged"] == 0, dspex.shadow.stats()


def test_parallel_reads_its_settings_and_keeps_its_failures_on_the_module(route: str) -> None:
    """DSPy's Parallel returns ``(results, failed_examples, exceptions)`` once ``return_failed_examples`` is set,
    and those lists are the module's own, growing across calls."""

    def boom(question: str) -> Any:
        raise ValueError(f"cannot answer {question}")

    runs = []
    for ns in (dspy, dspex):
        parallel = ns.Parallel(num_threads=2, max_errors=10, disable_progress_bar=True)
        predict = ns.Predict("question -> answer")
        pairs = [(predict, {"question": "a"}), (boom, {"question": "b"})]
        with dspy.context(lm=ScriptLM()):
            first = parallel(pairs)
            parallel.return_failed_examples = True
            results, failed, errors = parallel(pairs)
            again = parallel(pairs)
        runs.append(([r and r.toDict() for r in first], [r and r.toDict() for r in results], failed,
                     [repr(e) for e in errors], failed is parallel.failed_examples, len(again[1]),
                     parallel.failed_examples))
    assert runs[1] == runs[0]
    assert runs[0][2] == [{"question": "b"}] * 2 and runs[0][4] is True and runs[0][5] == 2   # (a list that grows)


def test_react_v2_reads_its_signature_when_called(route: str) -> None:
    """ReActV2 passes on the inputs its ``signature`` names (not its react predictor's): a signature set after
    construction changes what the first turn gets."""
    runs = []
    for ns in (dspy, dspex):
        agent, lm, seen = ns.ReActV2("question, context -> answer", tools=[lookup], max_iters=1), ScriptLM(), []
        with dspy.context(lm=lm):
            for step in range(2):
                try:
                    seen.append(agent(question="Capital?", context="Europe").toDict())
                except Exception as exc:  # noqa: BLE001 - no submit after max_iters: DSPy's ValueError
                    seen.append(f"{type(exc).__name__}: {exc}")
                agent.signature = dspy.Signature("question -> answer", "Answer well.")
        runs.append((seen, lm.calls))
    assert runs[1] == runs[0]
    assert "Europe" in json.dumps(runs[0][1][0]) and "Europe" not in json.dumps(runs[0][1][2])
    if route == "shadow":
        dspex.shutdown(timeout=10)
        assert dspex.shadow.stats()["diverged"] == 0, dspex.shadow.stats()


def test_an_agent_called_with_acall_reads_its_attributes_too(route: str) -> None:
    import asyncio

    runs = []
    for ns in (dspy, dspex):
        agent, lm = _react(ns), ScriptLM()
        agent.max_iters = 2
        agent.tools["lookup"] = dspy.Tool(replacement, name="lookup")

        async def go() -> Any:
            with dspy.context(lm=lm):
                return (await agent.acall(**QUESTION)).toDict()

        runs.append((asyncio.run(go()), lm.calls))
    assert runs[1] == runs[0] and len(runs[0][1]) == 3
    assert runs[0][0]["trajectory"]["observation_1"] == "replaced x"


def test_a_wrapped_module_swapped_for_a_plain_dspy_one_is_served_by_dspy(events: Any) -> None:
    """Native BestOfN runs a native module; a plain DSPy module put in its place leaves native unavailable (DSPy
    serves, and says why) while it is there, and native serves again once a dspex module is back."""
    dspex.configure(module_overrides={t: "native" for t in TYPES})
    seen = events("dspex.router.route")
    best = _wrapper("BestOfN")(dspex)
    with dspy.context(lm=ScriptLM()):
        best(**QUESTION)
        best.module = dspy.Predict("question -> answer")
        best(**QUESTION)
        best.module = dspex.Predict("question -> answer")
        best(**QUESTION)
    routes = [md for _, _, md in seen if md["module_type"] == "best_of_n"]
    assert [md["implementation"] for md in routes] == ["native", "dspy", "native"]
    assert "now wraps dspy.predict.predict.Predict, which has no native engine" in routes[1]["reason"]


@pytest.mark.parametrize("kind", ["BestOfN", "Refine"])
def test_a_wrapper_built_around_a_plain_dspy_module_follows_the_module_it_holds(kind: str, route: str, events: Any,
                                                                                tmp_path: Path) -> None:
    """Built around a plain DSPy module, a routed BestOfN or Refine is served by DSPy (native would run DSPy's code
    under a native loop); once the program sets a dspex module in its place, the route is the flag's again, and a
    plain module put back sends it to DSPy again. Native availability was decided once, when the engine was built,
    and stayed: the wrapper ran on DSPy for ever. Answers and LM calls are DSPy's throughout."""
    dspex.configure(module_overrides={t: route for t in TYPES}, allow_fallback=True,   # (DSPy serves: not an error)
                    shadow={"log_path": str(tmp_path / "shadow")})
    seen = events("dspex.router.route")
    runs = []
    for ns in (dspy, dspex):
        module = getattr(ns, kind)(module=dspy.ChainOfThought("question -> answer"), N=2,
                                   reward_fn=lambda a, p: 0.0, threshold=1.0)
        lm, answers = ScriptLM(), []
        with dspy.context(lm=lm):
            for step in range(3):
                if step:
                    module.module = (ns.ChainOfThought if step == 1 else dspy.ChainOfThought)("question -> answer")
                if kind == "Refine":   # the wrapped class's source, which differs (docs/parity.md): the same on both
                    module.module_code = "class Answerer: ..."
                answers.append(module(**QUESTION).toDict())
        runs.append((answers, lm.calls))
    assert runs[1] == runs[0]
    routes = [md for _, _, md in seen if md["module_type"] == kind.lower().replace("bestofn", "best_of_n")]
    assert [md["implementation"] for md in routes] == ["dspy", route, "dspy"]
    assert "wraps dspy.predict.chain_of_thought.ChainOfThought, which has no native engine" in routes[0]["reason"]
    assert "now wraps dspy.predict.chain_of_thought.ChainOfThought" in routes[2]["reason"]
    if route == "shadow":
        dspex.shutdown(timeout=10)
        stats = dspex.shadow.stats()
        assert stats["by_module"][routes[1]["module_type"]]["compared"] == 1 and stats["diverged"] == 0, stats
