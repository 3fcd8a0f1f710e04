"""The five composite workloads of ``composite.py``, shared with ``composite_worker.py``.

Both processes build the very same modules, inputs and scripted answers from here (DSPy's side and native with
DSPy loaded in ``composite.py``, native where DSPy cannot be imported in the worker), so their outputs can be
compared before anything is timed and the timings measure the same work. Nothing here imports DSPy at import
time: the worker blocks it, and only ``dspy_scripted_lm`` asks for it.
"""

from __future__ import annotations

import time
from typing import Any, Callable

KINDS = ("multi_chain_comparison", "best_of_n", "refine", "parallel", "majority")
_COT = "[[ ## reasoning ## ]]\nThinking about {q}.\n\n[[ ## answer ## ]]\n{a}\n\n[[ ## completed ## ]]"
_ADVICE = ('[[ ## discussion ## ]]\nThe answer was too long.\n\n[[ ## advice ## ]]\n{"predict": "Answer in one '
           'word."}\n\n[[ ## completed ## ]]')
_LONG = _COT.format(q="France", a="It is Paris, of course")
SCRIPTS: dict[str, list[str]] = {
    "multi_chain_comparison": ["[[ ## rationale ## ]]\nAll agree.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"],
    "best_of_n": [_LONG, _LONG, _LONG],
    "refine": [_LONG, _ADVICE, _LONG, _ADVICE, _LONG],
    "parallel": ["[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"],
    "majority": [_COT.format(q="x", a=a) for a in ("Paris", "paris.", "Rome", "The Paris", "Lyon")],
}


def one_word(args: dict[str, Any], pred: Any) -> float:
    """The reward: 1.0 for a one-word answer. The script's answers are long, so no attempt stops the loop early."""
    return 1.0 if len(str(pred.answer).split()) == 1 else 0.0


def _answer(state: dict[str, Any], kwargs: dict[str, Any]) -> list[str]:
    """The next ``n`` scripted answers (a call asking for ``n`` completions gets ``n``), advancing the shared
    position; the script cycles, so any number of calls is answered."""
    n = kwargs.get("n") or 1
    state["i"] += n
    script = state["script"]
    return [script[(state["i"] - n + k) % len(script)] for k in range(n)]


def dspy_scripted_lm(script: list[str]) -> Any:
    """A ``dspy.BaseLM`` answering from ``script``: the user's LM when DSPy is loaded. ``BaseLM.copy`` is shallow,
    so BestOfN's and Refine's copies share ``state`` (one script position per run); ``rewind()`` restarts it."""
    import dspy

    class ScriptedLM(dspy.BaseLM):
        def __init__(self) -> None:
            super().__init__(model="bench/scripted", cache=False)
            self.state = {"i": 0, "script": script}

        def rewind(self) -> None:
            self.state["i"] = 0

        def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:  # type: ignore[override]
            return _answer(self.state, kwargs)

    return ScriptedLM()


def dspex_scripted_lm(script: list[str]) -> Any:
    """A ``dspex.LM`` answering from ``script`` with no network: the user's LM where DSPy is not loaded. Only the
    call is overridden, so ``copy()`` is dspex.LM's own (``dspex/lm/_state.py``); it copies ``__dict__``
    shallowly, so the copies share ``state`` as the DSPy side's do."""
    import dspex

    class ScriptedDspexLM(dspex.LM):
        def __init__(self) -> None:
            super().__init__("bench/scripted", cache=False)
            self.state = {"i": 0, "script": script}

        def rewind(self) -> None:
            self.state["i"] = 0

        def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
            return _answer(self.state, kwargs)

        async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
            return _answer(self.state, kwargs)

    return ScriptedDspexLM()


def workload(lib: Any, kind: str, make_lm: Callable[[list[str]], Any]) -> tuple[Callable[[], Any], Any]:
    """``(run, lm)``: one call of ``lib``'s module (``dspy`` or ``dspex.native``) and the LM to set as the
    library's default around it.

    * MultiChainComparison over 3 attempts (1 LM call);
    * BestOfN, N=3 around a ChainOfThought, no attempt reaching the threshold (3 LM calls);
    * Refine, N=3 around a ChainOfThought, advice after the first two attempts (5 LM calls);
    * Parallel over 8 Predict pairs on 4 threads (8 LM calls);
    * majority over 5 completions (no LM call; the completions come from one ``n=5`` call at setup).
    """
    lm = make_lm(SCRIPTS[kind])
    if kind == "multi_chain_comparison":
        module = lib.MultiChainComparison("question -> answer", M=3)
        attempts = [{"reasoning": f"Attempt {i} reasons.", "answer": "Paris"} for i in range(3)]
        return (lambda: module(completions=attempts, question="Capital of France?")), lm
    if kind in ("best_of_n", "refine"):
        cls = lib.BestOfN if kind == "best_of_n" else lib.Refine
        wrapper = cls(lib.ChainOfThought("question -> answer"), N=3, reward_fn=one_word, threshold=1.0)
        return (lambda: wrapper(question="Capital of France?")), lm
    if kind == "parallel":
        predict = lib.Predict("question -> answer")
        parallel = lib.Parallel(num_threads=4, disable_progress_bar=True)
        pairs = [(predict, {"question": f"Question {i}?"}) for i in range(8)]
        return (lambda: parallel(pairs)), lm
    votes = lib.ChainOfThought("question -> answer", n=5)(question="q", lm=lm)
    return (lambda: lib.majority(votes)), lm


def snapshot(kind: str, out: Any) -> str:
    """What is compared across implementations and processes: the repr of the output's fields."""
    return repr([dict(p) for p in out] if kind == "parallel" else dict(out))


def time_runs(run: Callable[[], Any], lm: Any, context: Callable[..., Any], n: int) -> float:
    """Mean seconds per run over ``n`` runs, each from the start of the script, with ``lm`` as the default."""
    with context(lm=lm):
        start = time.perf_counter()
        for _ in range(n):
            lm.rewind()
            run()
        return (time.perf_counter() - start) / n


def copy_cost(lm: Any, n: int) -> float:
    """Seconds for the 3 rollout copies of ``lm`` one BestOfN / Refine run makes (``lm.copy(rollout_id=...,
    temperature=1.0)``), averaged over ``n`` runs."""
    start = time.perf_counter()
    for _ in range(n):
        lm.copy(rollout_id=1, temperature=1.0)
    return 3 * (time.perf_counter() - start) / n
