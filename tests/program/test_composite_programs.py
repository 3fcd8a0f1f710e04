"""Composite modules inside a DSPy program: dspex.Parallel (a plain class in DSPy, not a dspy.Module) fanning out to
routed predictors, on every route, answers as dspy.Parallel does; an LM call under it records history only on
the modules DSPy records it on (found by DSPy's own test_parallel.py pointed at dspex)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dspy
import pytest
from dspy.utils.dummies import DummyLM

import dspex


def _program(ns: Any) -> Any:
    class FanOut(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = ns.Predict("input -> output")
            self.second = ns.Predict("input -> output")
            self.parallel = ns.Parallel(num_threads=2)

        def forward(self, input: str) -> Any:
            example = dspy.Example(input=input).with_inputs("input")
            return self.parallel([(self.first, example), (self.second, example), (self.first, example)])

    return FanOut()


@pytest.mark.parametrize("route", ["native", "dspy", "shadow"])
def test_parallel_of_routed_predictors_answers_like_dspy(route: str, tmp_path: Path) -> None:
    dspex.configure(module_overrides={t: route for t in ("predict", "parallel")},
                    shadow={"log_path": str(tmp_path / "shadow")})
    answers = [{"output": f"out {i}"} for i in range(3)]
    with dspy.context(lm=DummyLM(list(answers))):
        want = _program(dspy)(input="x")
    lm = DummyLM(list(answers))
    with dspy.context(lm=lm):
        got = _program(dspex)(input="x")
    assert None not in got, "a branch failed (dspex.Parallel logs and returns None for it)"
    assert sorted(r.output for r in got) == sorted(r.output for r in want) == ["out 0", "out 1", "out 2"]
    assert all(isinstance(r, dspy.Prediction) for r in got)
    assert len(lm.history) == 3


@pytest.mark.parametrize("wrapper", ["BestOfN", "Refine"])
def test_best_of_n_and_refine_in_shadow_answer_as_dspy_and_compare_without_divergence(wrapper: str,
                                                                                      tmp_path: Path) -> None:
    """Each attempt copies the LM (``lm.copy(rollout_id=i, temperature=1.0)``): shadow's recorder and replayer
    copy as DSPy's LMs do, onto the same transcript. They had no ``copy`` of their own, so DSPy's ``BaseLM.copy``
    failed on their read-only ``kwargs`` and both modules raised on the shadow route."""
    dspex.configure(module_overrides={t: "shadow" for t in ("predict", "best_of_n", "refine")},
                    shadow={"log_path": str(tmp_path / "shadow")})

    def build(ns: Any) -> Any:
        return getattr(ns, wrapper)(module=ns.Predict("q -> a"), N=2, reward_fn=lambda args, pred: 0.0,
                                    threshold=0.5)

    answers = [{"a": "first"}, {"a": "second"}]
    outcome = []
    for ns in (dspy, dspex):
        lm = DummyLM([*answers, *answers] if wrapper == "BestOfN" else answers * 3)
        with dspy.context(lm=lm):
            outcome.append((repr(build(ns)(q="hi")), [entry["kwargs"] for entry in lm.history]))
    dspex.shutdown(timeout=10)
    assert outcome[1] == outcome[0]
    stats = dspex.shadow.stats()
    assert stats["compared"] >= 1 and stats["diverged"] == 0, stats


def test_a_shadow_call_s_module_callbacks_see_the_keywords_the_caller_wrote(tmp_path: Path) -> None:
    """Shadow records the control's LM calls through a stand-in LM; it went in as ``lm=`` among the call's
    keywords, so ``on_module_start`` saw an ``lm`` the caller never wrote. It is the default LM now."""
    from dspy.utils.callback import BaseCallback

    class Seen(BaseCallback):
        def __init__(self) -> None:
            self.keywords: list[list[str]] = []

        def on_module_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
            self.keywords.append(sorted(inputs.get("kwargs", {})))

    dspex.configure(module_overrides={"predict": "shadow"}, shadow={"log_path": str(tmp_path / "shadow")})
    seen = []
    for ns in (dspy, dspex):
        callback = Seen()
        with dspy.context(lm=DummyLM([{"a": "x"}]), callbacks=[callback]):
            ns.Predict("q -> a")(q="hi")
        seen.append(callback.keywords)
    dspex.shutdown(timeout=10)
    assert seen[1] == seen[0] == [["q"]]
    assert dspex.shadow.stats()["diverged"] == 0


@pytest.mark.parametrize("route", ["native", "dspy"])
def test_a_routed_module_warns_at_construction_as_dspy_and_not_again_at_its_first_call(route: str) -> None:
    """MultiChainComparison's fields carry a ``prefix``, which DSPy deprecates: building it warns three times, on
    both sides. The other side's engine is built at the first call, and its constructor warned the same three
    again then (a DSPy program saw warnings DSPy never gives at a call)."""
    import warnings

    counts = []
    for ns, extra in ((dspy, {}), (dspex, {"implementation": route})):
        with warnings.catch_warnings(record=True) as built:
            warnings.simplefilter("always")
            module = ns.MultiChainComparison("q -> a", M=2, **extra)
        completions = [dspy.Prediction(reasoning="r1", a="x"), dspy.Prediction(reasoning="r2", a="y")]
        with warnings.catch_warnings(record=True) as called, dspy.context(lm=DummyLM([{"rationale": "r", "a": "x"}])):
            warnings.simplefilter("always")
            module(completions=completions, q="hi")
        counts.append((len([w for w in built if w.category is DeprecationWarning]),
                       len([w for w in called if w.category is DeprecationWarning])))
    assert counts[1] == counts[0] == (3, 0)


@pytest.mark.parametrize("route", ["native", "dspy", "shadow"])
@pytest.mark.parametrize("wrapper", ["BestOfN", "Refine", "MultiChainComparison"])
def test_acall_on_a_module_without_aforward_raises_dspys_error(wrapper: str, route: str, tmp_path: Path) -> None:
    """DSPy 3.4.1 gives BestOfN, Refine and MultiChainComparison no ``aforward``: ``acall`` raises
    ``AttributeError("'BestOfN' object has no attribute 'aforward'")``. The dspy route used to say "type object
    'BestOfN' has no attribute 'aforward'" (it read the attribute off the class)."""
    import asyncio

    dspex.configure(module_overrides={t: route for t in ("predict", "best_of_n", "refine", "multi_chain_comparison")},
                    shadow={"log_path": str(tmp_path / "shadow")})

    def build(ns: Any) -> Any:
        if wrapper == "MultiChainComparison":
            return ns.MultiChainComparison("q -> a", M=1)
        return getattr(ns, wrapper)(module=ns.Predict("q -> a"), N=1, reward_fn=lambda args, pred: 0.0, threshold=0.5)

    errors = []
    for ns in (dspy, dspex):
        with pytest.raises(AttributeError) as caught:
            asyncio.run(build(ns).acall(q="x"))
        errors.append((str(caught.value), caught.value.name))
    assert errors[1] == errors[0] == (f"'{wrapper}' object has no attribute 'aforward'", "aforward")


@pytest.mark.parametrize("wrapper", ["BestOfN", "Refine"])
def test_a_shadow_candidate_prints_nothing(wrapper: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A failed attempt is printed (DSPy prints, it does not log). On the shadow route DSPy's control prints it;
    the candidate, replaying off the request path, printed it again, from a worker thread."""
    def failing(args: Any, pred: Any) -> float:
        raise ValueError("no reward")

    def build(ns: Any) -> Any:
        return getattr(ns, wrapper)(module=ns.Predict("q -> a"), N=2, reward_fn=failing, threshold=0.5, fail_count=5)

    answers = [{"a": "x"}, {"a": "y"}] * 4
    with dspy.context(lm=DummyLM(list(answers))):
        build(dspy)(q="q")
    want = capsys.readouterr().out
    assert "failed" in want
    dspex.configure(module_overrides={t: "shadow" for t in ("predict", "best_of_n", "refine")},
                    shadow={"log_path": str(tmp_path / "shadow")})
    with dspy.context(lm=DummyLM(list(answers))):
        build(dspex)(q="q")
    dspex.shutdown(timeout=10)
    assert capsys.readouterr().out == want
    assert dspex.shadow.stats()["compared"] >= 1
