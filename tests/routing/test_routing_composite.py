"""The composite modules routed: BestOfN / Refine around a routed module on every route, Parallel, majority,
shadow, and the DSPy-only rows (every built-in either native or DSPy-only with a reason, none unimportable)."""

from __future__ import annotations

import contextlib
import io
import logging
import threading

import dspy
import pytest

import dspex
from dspex import registry
from dspex.parity._composite_lm import TapeLM
from routing_helpers import flag

_ADVICE = ['[[ ## discussion ## ]]\nd\n\n[[ ## advice ## ]]\n{"predict": "say yes"}\n\n[[ ## completed ## ]]']


def _answer(text: str) -> list[str]:
    return [f"[[ ## reasoning ## ]]\nthink\n\n[[ ## answer ## ]]\n{text}\n\n[[ ## completed ## ]]"]


def reward_yes(args, pred):
    return 1.0 if pred.answer == "yes" else 0.0


def _run(make, impl: str, script: list, **call):
    lm = TapeLM(script)
    out = io.StringIO()
    with dspy.context(lm=lm), contextlib.redirect_stdout(out):
        module = make()
        result = module(implementation=impl, **call)
    return result, lm.calls, out.getvalue()


def _calls(calls):
    return [(c.messages, c.kwargs) for c in calls]


@pytest.mark.parametrize("kind", ["best_of_n", "refine"])
def test_a_routed_wrapper_around_a_routed_module_runs_natively_as_dspy_does(kind):
    """The wrapper's native engine wraps the inner module's native engine (built first: no lock is taken twice),
    and the LM sees what the DSPy route sends, Refine's program source included (DSPy's class's: a routed
    class is found where DSPy's is, so ``inspect.getsource`` reads DSPy's); the LM copies carry the same rollout ids and temperatures."""
    cls = dspex.BestOfN if kind == "best_of_n" else dspex.Refine
    script = [_answer("no"), _ADVICE, _answer("yes")] if kind == "refine" else [_answer("no"), _answer("yes")]

    def make():
        return cls(dspex.ChainOfThought("question -> answer"), N=3, reward_fn=reward_yes, threshold=1.0)

    done: dict = {}
    worker = threading.Thread(target=lambda: done.update(native=_run(make, "native", script, question="q")),
                              daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the native route hung building the wrapper's engine"
    via_dspy = _run(make, "dspy", script, question="q")
    native = done["native"]
    assert native[0].answer == via_dspy[0].answer == "yes"
    assert isinstance(native[0], dspy.Prediction)
    assert _calls(native[1]) == _calls(via_dspy[1])
    assert [c.kwargs["lm.kwargs"].get("rollout_id") for c in native[1] if "rollout_id" in c.kwargs["lm.kwargs"]] == [0, 1]
    if kind == "refine":   # the program's source is DSPy's class's, as a program of DSPy's own modules shows
        lm = TapeLM(script)
        with dspy.context(lm=lm), contextlib.redirect_stdout(io.StringIO()):
            plain = dspy.Refine(dspy.ChainOfThought("question -> answer"), N=3, reward_fn=reward_yes, threshold=1.0)
            plain(question="q")
        assert native[1][1].messages == lm.calls[1].messages
        assert "class ChainOfThought(Module):" in native[1][1].messages[1]["content"]


def test_wrapper_copies_keep_the_engine_order_fix():
    best = dspex.BestOfN(dspex.Predict("q -> a"), N=1, reward_fn=reward_yes, threshold=1.0)
    copied = best.deepcopy()
    assert type(copied._dspex).__name__ == "WrappingRouting"
    assert [n for n, _ in copied.named_predictors()] == ["module"] == [n for n, _ in best.named_predictors()]


def test_each_side_of_a_wrapper_gets_that_sides_inner_module(monkeypatch):
    """A routed inner module built before DSPy was loaded is native-shaped; a wrapper built after it is DSPy-shaped,
    and DSPy's BestOfN must then hold the inner module's DSPy engine, not the native-shaped routed module."""
    import sys

    monkeypatch.delitem(sys.modules, "dspy")
    inner = dspex.ChainOfThought("question -> answer")
    monkeypatch.setitem(sys.modules, "dspy", dspy)
    best = dspex.BestOfN(inner, N=1, reward_fn=reward_yes, threshold=1.0)
    assert (type(inner)._shape, type(best)._shape) == ("native", "dspy")
    assert type(best.module) is dspy.ChainOfThought
    assert type(best._dspex).__name__ == "WrappingRouting"


def test_best_of_n_failures_are_printed_and_counted_on_both_routes():
    def make():
        return dspex.BestOfN(dspex.Predict("question -> answer"), N=2, reward_fn=reward_yes, threshold=1.0)

    script = [["garbage"], ["still garbage"], ["[[ ## answer ## ]]\nyes\n\n[[ ## completed ## ]]"]]
    native = _run(make, "native", script, question="q")
    via_dspy = _run(make, "dspy", script, question="q")
    assert native[2] == via_dspy[2] and "BestOfN: Attempt 1 failed with rollout id 0" in native[2]
    assert native[0].answer == via_dspy[0].answer == "yes"


def test_majority_routes_on_its_own_flag(flagfile, events):
    flagfile.write({"dspex.majority": flag("native")})
    dspex.configure(flags=str(flagfile))
    seen = events("dspex.router.route")
    votes = [{"answer": "Paris!"}, {"answer": "rome"}, {"answer": "the paris"}]
    native = dspex.majority(votes)
    assert seen[-1][2]["implementation"] == "native" and seen[-1][2]["flag_key"] == "dspex.majority"
    assert dict(native) == dict(dspy.majority(votes)) == {"answer": "Paris!"}
    assert dict(dspex.majority(votes, implementation="dspy")) == {"answer": "Paris!"}
    assert seen[-1][2]["implementation"] == "dspy"


def test_parallel_routes_and_each_pair_routes_on_its_own_flag(flagfile, lm, events):
    flagfile.write({"dspex.parallel": flag("native"), "dspex.predict": flag("dspy")})
    dspex.configure(lm=lm, flags=str(flagfile))
    seen = events("dspex.router.route")
    predict = dspex.Predict("question -> answer")
    parallel = dspex.Parallel(num_threads=2, disable_progress_bar=True)
    results = parallel([(predict, {"question": "a"}), (predict, dspy.Example(question="b").with_inputs("question"))])
    assert [r.answer for r in results] == ["A:a", "A:b"]
    routes = {(md["module_type"], md["implementation"]) for _, _, md in seen}
    assert routes == {("parallel", "native"), ("predict", "dspy")}


def test_parallel_error_budget_cancels_with_dspys_error(lm, caplog):
    dspex.configure(lm=lm)
    predict = dspex.Predict("question -> answer")
    parallel = dspex.Parallel(num_threads=1, max_errors=1, disable_progress_bar=True)
    with caplog.at_level(logging.ERROR), pytest.raises(Exception, match="Execution cancelled due to errors"):
        parallel([(predict, 42), (predict, {"question": "b"})], implementation="native")
    assert "Invalid example type: <class 'int'>" in caplog.text


def test_every_builtin_is_native_or_dspy_only_with_a_reason():
    for module_type in registry.module_types():
        spec = registry.lookup(module_type)
        native, why = registry.native_class(spec)
        assert native is not None or spec.note, module_type
        assert "not importable" not in why, (module_type, why)
    for dspy_only in ("program_of_thought", "code_act", "rlm", "knn"):
        assert registry.native_class(registry.lookup(dspy_only))[0] is None
        assert registry.implementations(dspy_only)["native"].startswith("DSPy-only")
    for native in ("multi_chain_comparison", "best_of_n", "refine", "parallel", "majority"):
        assert registry.implementations(native)["native"] == "available"


@pytest.mark.parametrize("module_type, name, args", [("code_act", "CodeAct", ("question -> answer", [])),
                                                    ("rlm", "RLM", ("question -> answer",)),
                                                    ("knn", "KNN", None)])
def test_dspy_only_modules_are_dspy_modules_with_the_reason_as_status(module_type, name, args, flagfile):
    flagfile.write({f"dspex.{module_type}": flag("native")})
    dspex.configure(flags=str(flagfile))
    cls = getattr(dspex, name)
    assert cls.module_type == module_type
    if args is None:   # KNN needs an embedder and numpy data: its class is enough here
        from dspex.router._variants import variant

        assert issubclass(variant(cls, "dspy"), dspy.KNN)
        return
    module = cls(*args)
    assert isinstance(module, getattr(dspy, name))
    assert module._dspex.static_status() == (False, registry.lookup(module_type).note)


@pytest.mark.parametrize("impl", ["native", "dspy"])
def test_a_calls_lm_is_the_default_lm_of_a_module_that_takes_no_lm_argument(impl):
    """MultiChainComparison takes no ``lm=``: a call's ``lm=`` becomes the default LM for that call on either
    route; the configured LM is not asked, and the next call without one is back on it."""
    reply = "[[ ## rationale ## ]]\nr\n\n[[ ## answer ## ]]\nfrom-{}\n\n[[ ## completed ## ]]"
    configured, given = TapeLM([[reply.format("configured")]] * 4), TapeLM([[reply.format("given")]] * 4)
    attempts = [{"reasoning": "a", "answer": "x"}, {"reasoning": "b", "answer": "y"}]
    with dspy.context(lm=configured):
        mcc = dspex.MultiChainComparison("question -> answer", M=2)
        once = mcc(completions=attempts, question="q", lm=given, implementation=impl)
        after = mcc(completions=attempts, question="q", implementation=impl)
    assert (once.answer, after.answer) == ("from-given", "from-configured")
    assert (len(given.calls), len(configured.calls)) == (1, 1)


class _DefaultLMNative:
    """Answers with the native default LM's name, sync and async (a module that takes no ``lm=``)."""

    def __call__(self, question: str) -> str:
        return dspex.native.settings.lm.model

    async def acall(self, question: str) -> str:
        return dspex.native.settings.lm.model


class _DefaultLMDSPy:
    def __call__(self, question: str) -> str:
        return dspy.settings.lm.model

    async def acall(self, question: str) -> str:
        return dspy.settings.lm.model


@pytest.mark.parametrize("impl", ["native", "dspy"])
def test_an_async_calls_lm_is_placed_as_the_sync_calls_is(impl):
    import asyncio

    cls = dspex.register("default_lm_probe", native=_DefaultLMNative, dspy=_DefaultLMDSPy)
    configured, given = TapeLM([], model="configured"), TapeLM([], model="given")
    with dspy.context(lm=configured):
        dspex.configure(lm=configured)
        probe = cls()
        seen = (probe(question="q", lm=given, implementation=impl),
                asyncio.run(probe.acall(question="q", lm=given, implementation=impl)),
                probe(question="q", implementation=impl),
                asyncio.run(probe.acall(question="q", implementation=impl)))
    assert seen == ("given", "given", "configured", "configured")


@pytest.mark.parametrize("kind", ["BestOfN", "Refine"])
def test_a_shadow_candidate_runs_an_engine_no_native_call_touches(kind: str) -> None:
    """A shadow candidate runs with the state its control began with. On the module's one native engine, the
    program's next call (after it swapped the wrapped module) swapped it under the running candidate, whose later
    attempts then ran the new module: a false divergence, seen as a flaky shadow test. Candidates now have an
    engine of their own, down to the wrapped module's: a native-route call follows the swap on its engine at once,
    without waiting, and the candidate's is left as it was."""
    wrapper = getattr(dspex, kind)(dspex.ChainOfThought("question -> answer"), N=2, reward_fn=reward_yes,
                                   threshold=1.0)
    routing = wrapper._dspex
    engine, candidates = routing.engine(wrapper), routing.candidate_engine(wrapper)
    assert candidates is not engine and candidates.candidate and not engine.candidate
    engine.sync(wrapper)
    candidates.sync(wrapper)
    running = candidates.instance.module
    assert running is not engine.instance.module                 # the wrapped module's engines are apart too
    assert running.predict is not engine.instance.module.predict
    holding, release = threading.Event(), threading.Event()

    def candidate() -> None:   # what _shadow's _engine_turn does while a candidate runs
        with candidates.turn:
            holding.set()
            release.wait(10)

    threading.Thread(target=candidate, daemon=True).start()
    assert holding.wait(10)
    wrapper.module = dspex.Predict("question -> answer")
    follower = threading.Thread(target=lambda: engine.sync(wrapper), daemon=True)
    follower.start()
    follower.join(5)
    assert not follower.is_alive()                                # the native route does not wait for candidates
    assert type(engine.instance.module).__name__ == "Predict"
    assert candidates.instance.module is running                  # the candidate's run is left alone
    release.set()


def test_a_shadow_candidate_s_older_state_never_reaches_a_native_call_on_another_thread() -> None:
    """A 50/50 split of native and shadow while a program changes its demos: each candidate put the demos its
    control began with onto the engine native calls also ran, and a native call on another thread sometimes ran
    those older demos (about 1 call in 150 here)."""
    import re
    import time

    p = dspex.Predict("question -> answer")
    stale: list[tuple[str, str]] = []
    stop = threading.Event()
    box = [0]

    class Spy(dspy.BaseLM):
        def __init__(self, want: int) -> None:
            super().__init__(model="x/spy", cache=False)
            self.want = want

        def __call__(self, prompt=None, messages=None, **kwargs):
            found = re.findall(r"demo\d+", " ".join(m["content"] for m in messages))
            if box[0] == self.want and found and found[0] != f"demo{self.want}":
                stale.append((f"demo{self.want}", found[0]))
            return ["[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"]

    class Slow(dspy.BaseLM):   # the control's LM: a little wait lets the candidates and native calls interleave
        def __init__(self) -> None:
            super().__init__(model="x/slow", cache=False)

        def __call__(self, prompt=None, messages=None, **kwargs):
            time.sleep(0.0005)
            return ["[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"]

    def native_calls() -> None:
        while not stop.is_set():
            p(question="q", implementation="native", lm=Spy(box[0]))

    caller = threading.Thread(target=native_calls, daemon=True)
    caller.start()
    try:
        with dspy.context(lm=Slow()):
            for i in range(1, 1000):
                p.demos = [dspy.Example(question=f"demo{i}", answer="a")]
                box[0] = i
                p(question="q", implementation="shadow")
    finally:
        stop.set()
        caller.join(10)
        dspex.shutdown(timeout=10)
    assert stale == []
