"""Held-out composite runs: MultiChainComparison fed by a real ChainOfThought(n=M), BestOfN and Refine around
modules and a user program of this file, Parallel over mixed examples, majority over real completions; DSPy
3.4.1 against dspex.native with this folder's own generator and LM. LM requests (with the LM copies' own
kwargs), outputs, errors, warnings and printed lines identical."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import dspy
import pytest
from composite_diff_support import assert_same
from diff_support import Boom, chat, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dspex.native as native

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), max_examples=examples(30, 200))
SIGNATURES = ["question -> answer", "question, context: list[str] -> answer, score: int", "text -> label: bool"]
WORDS = st.sampled_from(["Paris", "paris.", "The Rome", "42", "yes", "no", "  spaced\nlines", "", "«x»", "an ant"])


def _fields(signature: str) -> tuple[list[str], dict[str, Any]]:
    ins, outs = (part.split(",") for part in signature.split("->"))
    names = [p.split(":")[0].strip() for p in ins]
    defaults = {"answer": "Paris", "score": 3, "label": True}
    return names, {p.split(":")[0].strip(): defaults[p.split(":")[0].strip()] for p in outs}


def _inputs(names: list[str]) -> dict[str, Any]:
    return {n: (["a", "b"] if n == "context" else f"value of {n}") for n in names}


def _answer(outputs: dict[str, Any], word: str, cot: bool, broken: bool) -> list[str]:
    fields = {"reasoning": f"because {word}"} if cot else {}
    fields.update({k: (word if isinstance(v, str) else json.dumps(v)) for k, v in outputs.items()})
    text = chat(**fields)
    return [text[: len(text) // 2] if broken else text]


# --- MultiChainComparison after ChainOfThought(n=M) ----------------------------------------------------------------
@settings(**SETTINGS)
@given(st.sampled_from(SIGNATURES), st.integers(1, 3), st.lists(WORDS, min_size=4, max_size=4), st.booleans(),
       st.sampled_from([None, 0.0, 0.9]))
def test_mcc_compares_real_completions(signature, m, words, short, temperature):
    names, outputs = _fields(signature)
    first = [_answer(outputs, w, cot=True, broken=False)[0] for w in words[:m]]
    final = chat(rationale=f"on reflection {words[-1]}", **{k: json.dumps(v) if not isinstance(v, str) else words[-1]
                                                              for k, v in outputs.items()})
    kwargs = {} if temperature is None else {"temperature": temperature}

    def build(ns: Any) -> Any:
        return ns.MultiChainComparison(signature, M=m + (1 if short else 0), **kwargs)

    def call(module: Any, ns: Any) -> Any:
        attempts = ns.ChainOfThought(signature, n=m)(**_inputs(names)).completions
        return module(completions=attempts, **_inputs(names))

    assert_same(build, call, [first, [final]])


# --- BestOfN / Refine -------------------------------------------------------------------------------------------------
def score_by_length(args, pred):
    return len(str(pred.answer)) if "answer" in pred else float(bool(pred.get("label")))


def picky(args, pred):
    if str(pred.get("answer", "")).startswith("The"):
        raise ValueError("reward refuses articles")
    return 1.0 if pred.get("answer") == "Paris" else math.nan if pred.get("answer") == "" else 0.0


REWARDS = {"length": score_by_length, "picky": picky, "lambda": lambda args, pred: 0.5}


def _program(ns: Any, signature: str) -> Any:
    class TwoStep(ns.Module):
        def __init__(self):
            super().__init__()
            self.first = ns.Predict(signature)
            self.second = ns.ChainOfThought(signature)

        def forward(self, **kwargs):
            self.first(**kwargs)
            return self.second(**kwargs)

    return TwoStep()


def _advice(names: list[str], word: str) -> list[str]:
    return [chat(discussion=f"blame {word}", advice=json.dumps({n: f"try {word}" for n in names}))]


@settings(**SETTINGS)
@given(st.sampled_from(["BestOfN", "Refine"]), st.sampled_from(SIGNATURES[:2]),
       st.sampled_from(["predict", "cot", "program"]), st.integers(1, 3), st.sampled_from(sorted(REWARDS)),
       st.sampled_from([1.0, 4.0, 100.0, None]), st.sampled_from([None, 1, 3]),
       st.lists(st.tuples(WORDS, st.integers(0, 6)), min_size=1, max_size=8),
       st.sampled_from([None, {"rollout_id": 5}, {"temperature": 0.3}]), st.booleans())
def test_best_of_n_and_refine(cls, signature, inner, n, reward, threshold, fail_count, turns, lm_kwargs, twice):
    names, outputs = _fields(signature)
    script: list[Any] = []
    for word, flaw in turns:
        if flaw == 0:
            script.append(Boom(RuntimeError, "provider down"))
        elif flaw == 1 and cls == "Refine":
            script.append(_advice(["self", "predict", "first", "second.predict"], word))
        else:
            script.append(_answer(outputs, word, cot=inner != "predict" and flaw % 2 == 0, broken=flaw == 2))

    def build(ns: Any) -> Any:
        module = {"predict": lambda: ns.Predict(signature), "cot": lambda: ns.ChainOfThought(signature),
                  "program": lambda: _program(ns, signature)}[inner]()
        return getattr(ns, cls)(module, N=n, reward_fn=REWARDS[reward], threshold=threshold, fail_count=fail_count)

    def call(module: Any, ns: Any) -> Any:
        first = module(**_inputs(names))
        return [first, module(**_inputs(names))] if twice else first

    assert_same(build, call, script, lm_kwargs)


def test_async_calls_fail_as_in_dspy():
    def build(ns: Any) -> Any:
        return ns.BestOfN(ns.Predict("q -> a"), N=2, reward_fn=score_by_length, threshold=1.0)

    _, native_run = assert_same(build, lambda m, ns: None, [], mode="async")
    assert native_run.error == ("AttributeError", "'BestOfN' object has no attribute 'aforward'")


# --- Parallel and majority --------------------------------------------------------------------------------------------
@settings(**SETTINGS)
@given(st.lists(st.sampled_from(["dict", "example", "bare_example", "tuple", "int"]), min_size=1, max_size=5),
       st.sampled_from([1, 3]), st.sampled_from([None, 1, 50]), st.booleans(), st.lists(WORDS, min_size=5, max_size=5))
def test_parallel(kinds, threads, max_errors, failed, words):
    script = [[chat(answer=w)] for w in words]

    def example(kind: str, i: int) -> Any:
        return {"dict": {"question": f"q{i}"}, "example": dspy.Example(question=f"q{i}").with_inputs("question"),
                "bare_example": dspy.Example(question=f"q{i}"), "tuple": (f"q{i}",), "int": i}[kind]

    def build(ns: Any) -> Any:
        return ns.Parallel(num_threads=threads, max_errors=50 if threads > 1 else max_errors,
                           return_failed_examples=failed, disable_progress_bar=True)

    def call(module: Any, ns: Any) -> Any:
        predict = ns.Predict("question -> answer")
        return module([(predict, example(k, i)) for i, k in enumerate(kinds)])

    if threads == 1:
        assert_same(build, call, script, redact=_no_module_repr)
    else:   # the LM answers in call order: with threads only the requests (as a set) and errors are comparable
        assert_same(build, lambda m, ns: call(m, ns) and None, script * 2, sort=True, redact=_no_module_repr)


@pytest.mark.parametrize("threads", [-1, 0, 2.5, "2", True, None])
def test_parallel_thread_counts_are_checked_as_dspy_s_thread_pool_checks_them(threads: Any) -> None:
    """``ThreadPoolExecutor(max_workers=...)``'s own checks: not above 0 is its ValueError (-1 hung native before),
    "2" the comparison's TypeError, a fraction runs (native failed on ``range(2.5)``); 0 and None take the default."""
    def call(module: Any, ns: Any) -> Any:
        return module([(ns.Predict("question -> answer"), {"question": "q"})])

    assert_same(lambda ns: ns.Parallel(num_threads=threads, disable_progress_bar=True), call, [[chat(answer="A")]])


@pytest.mark.parametrize("runner", ["parallel", "batch"])
@pytest.mark.parametrize("dspy_settings", [{"num_threads": 1, "max_errors": 1}, {"num_threads": 1, "max_errors": 3},
                                           {"num_threads": 1, "provide_traceback": True}])
def test_parallel_and_batch_take_their_defaults_from_dspy_s_settings(runner: str, dspy_settings: dict[str, Any]) -> None:
    """DSPy's Parallel (and ``Module.batch``, which runs one) reads ``num_threads`` and ``max_errors`` from its
    settings when built and ``provide_traceback`` when run; native used DSPy's defaults whatever was configured.
    One thread: the LM answers in call order, so the whole run is comparable."""
    script = [Boom(ValueError, "item failed"), [chat(answer="A")], Boom(ValueError, "again"), [chat(answer="B")]]

    def call(module: Any, ns: Any) -> Any:
        predict = ns.Predict("question -> answer")
        rows = [dspy.Example(question=f"q{i}").with_inputs("question") for i in range(4)]
        if module is None:
            return predict.batch(rows, disable_progress_bar=True, return_failed_examples=True)
        return module([(predict, row) for row in rows])

    def build(ns: Any) -> Any:
        return ns.Parallel(disable_progress_bar=True) if runner == "parallel" else None

    with dspy.context(**dspy_settings):
        assert_same(build, call, script, redact=_no_traceback)


@pytest.mark.parametrize("rows, max_errors, failed", [
    ("dicts", None, False), ("bare examples", None, False), ("examples", 2, False), ("examples", 1, True),
    ("examples", None, True),
])
def test_batch_is_dspy_s_parallel_over_the_examples_inputs(rows: str, max_errors: Any, failed: bool) -> None:
    """``Module.batch`` is DSPy's: ``Parallel`` over ``(module, example.inputs())``, so a dict fails on
    ``.inputs()``, an example without ``with_inputs`` with DSPy's ValueError, ``max_errors`` failures cancel the run
    with DSPy's error, and the failed examples returned are their inputs (native had its own loop)."""
    script = [Boom(ValueError, "item failed"), Boom(ValueError, "again"), [chat(answer="A")]]

    def make(i: int, ns: Any) -> Any:
        if rows == "dicts":
            return {"question": f"q{i}", "gold": "g"}
        example = dspy.Example(question=f"q{i}", gold="g")
        return example if rows == "bare examples" else example.with_inputs("question")

    def call(module: Any, ns: Any) -> Any:
        return ns.Predict("question -> answer").batch([make(i, ns) for i in range(3)], num_threads=1,
                                                      max_errors=max_errors, return_failed_examples=failed,
                                                      disable_progress_bar=True)

    assert_same(lambda ns: None, call, script, redact=_no_module_repr)


def _no_traceback(line: str) -> str:
    """A traceback quotes each library's own frames; the line before it is what both must say."""
    return _no_module_repr(line).split("\nTraceback")[0]


def _no_module_repr(line: str) -> str:
    """A failed pair's log line quotes the module's repr, whose signature part is each library's own (documented)."""
    return re.sub(r"Error for \(Predict\(StringSignature\(.*?\n\)\), ", "Error for (<Predict>, ", line, flags=re.S)


@settings(**SETTINGS)
@given(st.lists(WORDS, min_size=1, max_size=6), st.sampled_from(["prediction", "completions", "list"]),
       st.sampled_from([None, "answer", "reasoning"]), st.booleans())
def test_majority_over_real_completions(words, form, field, plain):
    answers = [_answer({"answer": "x"}, w, cot=True, broken=False)[0] for w in words]

    def call(module: Any, ns: Any) -> Any:
        pred = ns.ChainOfThought("question -> answer", n=len(words))(question="q")
        argument = {"prediction": pred, "completions": pred.completions,
                    "list": [dict(c) for c in pred.completions]}[form]
        return ns.majority(argument, **({} if field is None else {"field": field}),
                           **({"normalize": None} if plain else {}))

    assert_same(lambda ns: None, call, [answers])


def test_native_logs_on_the_loggers_dspy_logs_on(caplog: Any) -> None:
    """A program's logging set-up for DSPy (``logging.getLogger("dspy").setLevel(...)``, DSPy's own handler) applies
    to what native logs in DSPy's place: the same logger names (they were ``dspex.native.*``)."""
    import logging

    names = []
    for ns in (dspy, native):
        caplog.clear()
        with caplog.at_level(logging.WARNING), dspy.context(lm=None):
            predict = ns.Predict("question: int -> answer")
            ns.Parallel(num_threads=1, disable_progress_bar=True)([(predict, {"question": "not a number"})])
        names.append(sorted({r.name for r in caplog.records}))
    assert names[1] == names[0] and names[0]
