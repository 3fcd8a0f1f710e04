"""DSPy's optimizers compile P and P' (dspex modules on every route) to the same program.

Same LM, same data, same seeds: the same demos and instructions per predictor name, the same LM requests during
compilation and after it, the same saved JSON, and states that load across P and P' both ways.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Callable

import dspy
import numpy as np
import pytest

import dspex
from program_support import (FieldLM, KINDS, build, demos_of, instructions_of, label_of, metric, saved_state,
                             trainset)


def _embed(texts: list[str]) -> Any:
    import hashlib

    return np.array([[int(hashlib.sha256(f"{t}|{i}".encode()).hexdigest(), 16) % 1000 / 1000 for i in range(8)]
                     for t in texts])


OPTIMIZERS: dict[str, Callable[[str], tuple[Any, dict[str, Any]]]] = {
    "labeled": lambda kind: (dspy.LabeledFewShot(k=3), {"trainset": trainset(kind)}),
    "bootstrap": lambda kind: (dspy.BootstrapFewShot(metric=metric, max_bootstrapped_demos=2, max_labeled_demos=2),
                               {"trainset": trainset(kind)}),
    "random_search": lambda kind: (dspy.BootstrapFewShotWithRandomSearch(
        metric=metric, max_bootstrapped_demos=2, max_labeled_demos=2, num_candidate_programs=2, num_threads=1),
        {"trainset": trainset(kind)}),
    "knn": lambda kind: (dspy.KNNFewShot(k=2, trainset=trainset(kind), vectorizer=dspy.Embedder(_embed)), {}),
    "copro": lambda kind: (dspy.COPRO(metric=metric, breadth=2, depth=1, init_temperature=1.0),
                           {"trainset": trainset(kind), "eval_kwargs": {"num_threads": 1, "display_progress": False}}),
    "mipro": lambda kind: (dspy.MIPROv2(metric=metric, auto="light", num_threads=1, seed=9, verbose=False),
                           {"trainset": trainset(kind), "valset": trainset(kind)}),
}


def _compile(kind: str, ns: Any, optimizer: str) -> tuple[Any, FieldLM]:
    random.seed(0)
    np.random.seed(0)
    program = build(kind, ns)
    lm = FieldLM()
    opt, kwargs = OPTIMIZERS[optimizer](kind)
    with dspy.context(lm=lm):
        compiled = opt.compile(program, **kwargs)
    return compiled, lm


def _check_same(kind: str, optimizer: str, tmp_path: Path) -> None:
    p, p_lm = _compile(kind, dspy, optimizer)
    q, q_lm = _compile(kind, dspex, optimizer)
    assert [n for n, _ in q.named_predictors()] == [n for n, _ in p.named_predictors()]
    assert [n for n, _ in q.named_sub_modules()] == [n for n, _ in p.named_sub_modules()]
    assert all(isinstance(m, dspex.router.RoutedModule) for m in vars(q).values() if isinstance(m, dspy.Module))
    assert demos_of(q) == demos_of(p)
    assert instructions_of(q) == instructions_of(p)
    assert q_lm.calls == p_lm.calls                      # the same requests while compiling
    assert saved_state(q, tmp_path / "q.json") == saved_state(p, tmp_path / "p.json")

    # After compiling: the same requests and answers on inputs neither saw.
    for example in trainset(kind)[:3]:
        p_run, q_run = FieldLM(), FieldLM()
        with dspy.context(lm=p_run):
            expected = p(**example.inputs())
        with dspy.context(lm=q_run):
            got = q(**example.inputs())
        assert isinstance(got, dspy.Prediction)
        assert q_run.calls == p_run.calls
        assert got.toDict() == expected.toDict() and type(got[label_of(kind)]) is type(expected[label_of(kind)])

    # States load across both ways, into fresh programs, and give back what was compiled.
    fresh_p, fresh_q = build(kind, dspy), build(kind, dspex)
    fresh_q.load(str(tmp_path / "p.json"))
    fresh_p.load(str(tmp_path / "q.json"))
    assert demos_of(fresh_q) == demos_of(fresh_p) == demos_of(p)
    assert instructions_of(fresh_q) == instructions_of(p)


@pytest.mark.parametrize("optimizer", ["labeled", "bootstrap"])
@pytest.mark.parametrize("kind", KINDS)
def test_few_shot_optimizers_compile_the_same_program(kind: str, optimizer: str, route: str, tmp_path: Path) -> None:
    _check_same(kind, optimizer, tmp_path)


@pytest.mark.parametrize("optimizer", ["random_search", "knn", "copro", "mipro"])
@pytest.mark.parametrize("kind", ["classifier", "two_hop"])
def test_search_and_instruction_optimizers_compile_the_same_program(kind: str, optimizer: str, route: str,
                                                                    tmp_path: Path) -> None:
    _check_same(kind, optimizer, tmp_path)


@pytest.mark.parametrize("fresh", [False, True], ids=["warm", "fresh-process"])
def test_bootstrap_sees_the_native_route_s_trace(fresh: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BootstrapFewShot collects demos from DSPy's trace: the native route records it for the module DSPy knows.

    ``fresh-process``: dspy is imported but no dspex call has loaded the bridge yet, as when this program's first
    call is the optimizer's first example (that call once left the trace empty and lost a demo)."""
    from program_support import route_to

    from dspex import hooks

    route_to("native", tmp_path)
    if fresh:
        monkeypatch.setattr(hooks, "bridge", None)
    program = build("two_hop", dspex)
    with dspy.context(trace=[]):
        program(question="Capital of France?")
        trace = dspy.settings.trace
    assert [entry[0] for entry in trace] == [program.hop.predict, program.answer]
    assert all(isinstance(entry[2], dspy.Prediction) for entry in trace)
    assert set(trace[1][1]) == {"context", "question"}


@pytest.mark.parametrize("kind", ["Predict", "ChainOfThought"])
def test_the_trace_holds_the_prediction_the_call_returns(kind: str, tmp_path: Path) -> None:
    """DSPy's trace entry holds the very Prediction its call returns, so what a program's forward sets on it (a
    cleaned answer, token usage) is what an optimizer later reads from the trace; sync and async, as in DSPy."""
    import asyncio

    from program_support import route_to

    route_to("native", tmp_path)
    reply = "[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\n Paris \n\n[[ ## completed ## ]]"

    class LM(dspy.BaseLM):
        def __init__(self) -> None:
            super().__init__(model="test/fixed", cache=False)

        def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
            return [reply]

        async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
            return [reply]

    seen = {}
    for ns in (dspy, dspex):
        module = getattr(ns, kind)("question -> answer")
        with dspy.context(trace=[], lm=LM()):
            out = module(question="q")
            aout = asyncio.run(module.acall(question="q"))
            out.answer = out.answer.strip() + "!"
            trace = list(dspy.settings.trace)
        seen[ns.__name__] = ([entry[2] is result for entry, result in zip(trace, (out, aout))],
                             trace[0][2].answer, type(trace[0][2]))
    assert seen["dspex"] == seen["dspy"] == ([True, True], "Paris!", dspy.Prediction)


@pytest.mark.parametrize("kind", ["Predict", "ChainOfThought"])
def test_the_trace_holds_the_very_objects_of_a_call_with_mutable_values(kind: str, tmp_path: Path) -> None:
    """A ``list[str]`` output and a list / dict input: DSPy's trace holds the Prediction returned (so a program that
    cleans ``pred.tags`` in place bootstraps the cleaned demo) and the caller's own input objects. The native route
    recorded copies of both (found by an independent fuzz run: BootstrapFewShot compiled other demos)."""
    from program_support import route_to

    route_to("native", tmp_path)
    reply = '[[ ## reasoning ## ]]\nr\n\n[[ ## tags ## ]]\n["Paris", "FRANCE"]\n\n[[ ## completed ## ]]'

    class LM(dspy.BaseLM):
        def __init__(self) -> None:
            super().__init__(model="test/fixed", cache=False)

        def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
            return [reply]

    seen = {}
    for ns in (dspy, dspex):
        module = getattr(ns, kind)("text, context: list[str], meta: dict[str, int] -> tags: list[str]")
        context, meta = ["a", "b"], {"k": 1}
        with dspy.context(trace=[], lm=LM()):
            out = module(text="Paris, France", context=context, meta=meta)
            out.tags.append("edited")
            entry = dspy.settings.trace[0]
        seen[ns.__name__] = (entry[2] is out, entry[2].tags, entry[1]["context"] is context,
                             entry[1]["meta"] is meta, out.completions.tags[0] is out.tags)
    assert seen["dspex"] == seen["dspy"] == (True, ["Paris", "FRANCE", "edited"], True, True, True)


def _trace_shape(trace: list[Any], out: Any) -> list[tuple[Any, ...]]:
    return [(type(p).__name__, sorted(p.signature.input_fields), sorted(p.signature.output_fields), dict(i),
             dict(o), o is out) for p, i, o in trace]


@pytest.mark.parametrize("kind", ["best_of_n", "refine"])
@pytest.mark.parametrize("answers", [("first", "second"), ("second", "first")], ids=["best-first", "best-last"])
def test_a_wrappers_trace_is_dspys(kind: str, answers: tuple[str, str], tmp_path: Path) -> None:
    """BestOfN and Refine on the native route leave DSPy's trace as DSPy does: each attempt in a fresh trace and
    only the best one's entries kept (Refine's: with the ``hint_`` input DSPy leaves in them), Refine's feedback
    predictor's entry in the caller's trace, and the returned Prediction is the one the trace holds."""
    import contextlib
    import io

    from dspex.parity._composite_lm import TapeLM

    def reward(args: dict[str, Any], pred: Any) -> float:
        return 0.5 if pred.answer == "first" else 0.0

    advice = ['[[ ## discussion ## ]]\nd\n\n[[ ## advice ## ]]\n{"predict": "say first"}\n\n[[ ## completed ## ]]']
    replies = [[f"[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\n{a}\n\n[[ ## completed ## ]]"] for a in answers]
    script = replies if kind == "best_of_n" else [replies[0], advice, replies[1]]
    seen = {}
    for impl in ("dspy", "native"):   # the same program (Refine shows the wrapped class's source) on each route
        cls = dspex.BestOfN if kind == "best_of_n" else dspex.Refine
        module = cls(dspex.ChainOfThought("question -> answer"), N=2, reward_fn=reward, threshold=1.0)
        with dspy.context(trace=[], lm=TapeLM(script)), contextlib.redirect_stdout(io.StringIO()):
            out = module(question="q", implementation=impl)
            seen[impl] = _trace_shape(list(dspy.settings.trace), out)
    assert seen["native"] == seen["dspy"]
    assert seen["dspy"][-1][-1] is True and len(seen["dspy"]) == (1 if kind == "best_of_n" else 2)



_SEVERAL_CALLS = """
import hashlib, pickle, random, sys
from typing import Literal
import dspy, dspex

class Step(dspy.Signature):
    \"\"\"Decide the next step.\"\"\"
    question: str = dspy.InputField()
    step: int = dspy.InputField()
    action: Literal["search", "answer"] = dspy.OutputField()

class StepLM(dspy.BaseLM):
    def __init__(self):
        super().__init__(model="scripted/steps", cache=False)

    def __call__(self, prompt=None, messages=None, **kwargs):
        h = int(hashlib.md5(messages[-1]["content"].encode()).hexdigest(), 16)
        return [f"[[ ## action ## ]]\\n{'search' if h % 4 else 'answer'}\\n\\n[[ ## completed ## ]]"]

def build(ns):
    class Loop(dspy.Module):
        def __init__(self):
            super().__init__()
            self.decide = ns.Predict(Step)

        def forward(self, question):
            return [self.decide(question=question, step=i) for i in range(3)][-1]
    return Loop()

def compiled_demos(ns):
    train = [dspy.Example(question=f"question {i}", action="search").with_inputs("question") for i in range(6)]
    random.seed(0)
    with dspy.context(lm=StepLM()):
        program = dspy.BootstrapFewShot(max_bootstrapped_demos=4, max_labeled_demos=0).compile(build(ns), trainset=train)
    return [(d.question, d.step) for d in program.decide.demos]

def trace_pickle(ns):
    with dspy.context(lm=StepLM(), trace=[]):
        build(ns)(question="question 0")
        demos = tuple(dspy.Example(augmented=True, **i, **o) for _, i, o in dspy.settings.trace)
    return hashlib.sha256(pickle.dumps(demos)).hexdigest()

ns = dspy if sys.argv[1] == "dspy" else dspex
if ns is dspex:
    dspex.configure(module_overrides={"predict": sys.argv[1]}, shadow={"log_path": sys.argv[2]})
print(compiled_demos(ns), trace_pickle(ns))
"""


def test_bootstrap_picks_dspys_demos_for_a_predictor_called_several_times_per_example(tmp_path: Path) -> None:
    """BootstrapFewShot keeps one of a predictor's several trace entries per example, chosen by
    ``random.Random(Hasher.hash(tuple(demos)))``: a hash of the demos' pickle, in which a string object seen
    twice is written once. Native's parse memo handed out one remembered string for a repeated Literal answer
    where DSPy returns each answer's own string, so the hash, and the demo kept, differed (found by an independent
    fuzz run: ReAct under BootstrapFewShotWithRandomSearch compiled other demos on the native route). Run as a
    script in a fresh process, as the fuzz run found it: under pytest the answers' strings were shared on both
    sides (the case could not tell)."""
    import subprocess
    import sys

    script = tmp_path / "several_calls.py"
    script.write_text(_SEVERAL_CALLS)

    def run(which: str) -> str:
        done = subprocess.run([sys.executable, str(script), which, str(tmp_path / "shadow")], capture_output=True,
                              text=True, cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    want = run("dspy")
    assert run("native") == want


@pytest.mark.parametrize("side", ["native", "dspy", "shadow"])
def test_mipros_proposer_sees_dspys_module_source(side: str, tmp_path: Path) -> None:
    """MIPROv2's instruction proposer shows the LM ``inspect.getsource`` of every module class in the program
    (``dspy.propose.utils.get_dspy_source_code``; Refine's feedback prompt does the same). A routed class is found
    where DSPy's class is, so it reads DSPy's source on every route; it read dspex's routed stub
    (``class ReAct(RoutedModule)``), and MIPROv2 sent other proposal prompts (found by an independent fuzz run)."""
    from dspy.propose.utils import get_dspy_source_code

    def lookup(q: str) -> str:
        """Look up a fact."""
        return q

    def build_program(ns: Any) -> Any:
        class Program(dspy.Module):
            def __init__(self) -> None:
                super().__init__()
                self.compare = ns.MultiChainComparison("question -> answer", M=2)
                self.agent = ns.ReAct("question -> answer", tools=[lookup], max_iters=2)
                self.best = ns.BestOfN(ns.ChainOfThought("question -> answer"), N=2, reward_fn=lambda a, p: 1.0,
                                       threshold=1.0)

            def forward(self, question: str) -> Any:
                return self.agent(question=question)

        return Program()

    dspex.configure(module_overrides={t: side for t in ("multi_chain_comparison", "react", "best_of_n",
                                                        "chain_of_thought", "predict")},
                    shadow={"log_path": str(tmp_path / "shadow")})
    want = get_dspy_source_code(build_program(dspy))
    assert "class ReAct(Module):" in want
    assert get_dspy_source_code(build_program(dspex)) == want
