"""Composite modules, native vs DSPy 3.4.1, in one process run: MultiChainComparison, BestOfN, Refine, Parallel,
majority.

Each run calls the module once against an instant scripted LM (a ``dspy.BaseLM`` whose ``__call__`` returns the
next scripted answer; ``BaseLM.copy`` is shallow, so BestOfN's and Refine's LM copies share the script; DSPy's
cache is off), so what is measured is each implementation's own overhead: formatting, parsing, the LM copies,
deep copies of the wrapped module, traces, Refine's feedback prompt, the thread pool. The workloads:

* MultiChainComparison over 3 attempts (1 LM call);
* BestOfN, N=3 around a ChainOfThought, no attempt reaching the threshold (3 LM calls);
* Refine, N=3 around a ChainOfThought, advice after the first two attempts (5 LM calls);
* Parallel over 8 Predict pairs on 4 threads (8 LM calls);
* majority over 5 completions (no LM call).

Runs of the two implementations are interleaved round by round, so machine noise hits both alike; the ratio is
of the medians. Target: native at least 25x less overhead per run (the Predict target).

Where the target is out of reach, the floor is work parity obliges native to do: BestOfN and Refine run their
wrapped ChainOfThought 3 times (and Refine's feedback Predict twice, logging DSPy's three type-mismatch warnings,
for ``target_threshold``, ``reward_value`` and ``module_names``, per feedback call: Python's logging is about a
fifth of native Refine's time under cProfile), so they cannot beat the Predict ratio, and each rollout calls
DSPy's own ``BaseLM.copy`` on the user's LM (printed under those rows). In instructions (callgrind, DSPy loaded):
a DSPy BestOfN run here is about 5.8M, so 25x would leave native 233k, while DSPy's three ``BaseLM.copy`` calls
(about 31k each) and the three traced ChainOfThought calls (about 72k each) already take about 310k; the deep copy,
``set_lm`` and trace of each attempt (about 55k) are DSPy's steps too. Parallel hands each item to a worker thread
and back (tens of microseconds per item on 2 cores, whatever the pool); majority is a few microseconds of DSPy's
work (normalising 5 strings), so per-call constant costs dominate its ratio.

Run from the repository root: ``python benchmarks/composite.py`` (``--quick`` for a short run, ``--json PATH`` to
write the numbers). No timing assertion lives in the tests: this is the report.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_RATIO = 25.0
_COT = "[[ ## reasoning ## ]]\nThinking about {q}.\n\n[[ ## answer ## ]]\n{a}\n\n[[ ## completed ## ]]"
_ADVICE = ('[[ ## discussion ## ]]\nThe answer was too long.\n\n[[ ## advice ## ]]\n{"predict": "Answer in one '
           'word."}\n\n[[ ## completed ## ]]')


def one_word(args: dict[str, Any], pred: Any) -> float:
    return 1.0 if len(str(pred.answer).split()) == 1 else 0.0


def _scripted_lm(script: list[str]) -> Any:
    import dspy

    class ScriptedLM(dspy.BaseLM):
        """Answers call i of a run with script[i] (copies share ``state``; a call asking for ``n`` completions gets
        the next ``n``); ``rewind()`` starts the next run."""

        def __init__(self) -> None:
            super().__init__(model="bench/scripted", cache=False)
            self.state = {"i": 0, "script": script}

        def rewind(self) -> None:
            self.state["i"] = 0

        def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:  # type: ignore[override]
            state, n = self.state, kwargs.get("n") or 1   # n completions: the next n answers
            state["i"] += n
            return [state["script"][(state["i"] - n + k) % len(state["script"])] for k in range(n)]

    return ScriptedLM()


def _workload(lib: Any, kind: str) -> tuple[Callable[[], Any], Any]:
    """``(run, lm)``: one call of the module, with its LM set as the library's default for the call."""
    if kind == "multi_chain_comparison":
        lm = _scripted_lm(["[[ ## rationale ## ]]\nAll agree.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"])
        module = lib.MultiChainComparison("question -> answer", M=3)
        attempts = [{"reasoning": f"Attempt {i} reasons.", "answer": "Paris"} for i in range(3)]
        return (lambda: module(completions=attempts, question="Capital of France?")), lm
    if kind in ("best_of_n", "refine"):
        long = _COT.format(q="France", a="It is Paris, of course")
        script = [long, long, long] if kind == "best_of_n" else [long, _ADVICE, long, _ADVICE, long]
        lm = _scripted_lm(script)
        cls = lib.BestOfN if kind == "best_of_n" else lib.Refine
        module = cls(lib.ChainOfThought("question -> answer"), N=3, reward_fn=one_word, threshold=1.0)
        return (lambda: module(question="Capital of France?")), lm
    if kind == "parallel":
        lm = _scripted_lm(["[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"])
        predict = lib.Predict("question -> answer")
        parallel = lib.Parallel(num_threads=4, disable_progress_bar=True)
        pairs = [(predict, {"question": f"Question {i}?"}) for i in range(8)]
        return (lambda: parallel(pairs)), lm
    lm = _scripted_lm([_COT.format(q="x", a=a) for a in ("Paris", "paris.", "Rome", "The Paris", "Lyon")])
    votes = lib.ChainOfThought("question -> answer", n=5)(question="q", lm=lm)
    return (lambda: lib.majority(votes)), lm


def _time(run: Callable[[], Any], lm: Any, context: Callable[..., Any], n: int) -> float:
    with context(lm=lm):
        start = time.perf_counter()
        for _ in range(n):
            lm.rewind()
            run()
        return (time.perf_counter() - start) / n


KINDS = ("multi_chain_comparison", "best_of_n", "refine", "parallel", "majority")


def interleaved(kind: str, rounds: int, dspy_run: Callable[[], float], native_run: Callable[[], float]
                ) -> dict[str, Any]:
    """One row: ``rounds`` alternating timings of each side (seconds per run), the medians and their ratio."""
    d_times, n_times = [], []
    for _ in range(rounds):
        d_times.append(dspy_run())
        n_times.append(native_run())
    d_s, n_s = statistics.median(d_times), statistics.median(n_times)
    return {"module": kind, "dspy_run_us": d_s * 1e6, "native_run_us": n_s * 1e6, "ratio": d_s / n_s}


def measure(rounds: int, batch: int) -> list[dict[str, Any]]:
    import contextlib
    import io

    import dspy

    import dspex.native as native

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    rows = []
    for kind in KINDS:
        d_run, d_lm = _workload(dspy, kind)
        n_run, n_lm = _workload(native, kind)
        with contextlib.redirect_stdout(io.StringIO()):
            with dspy.context(lm=d_lm):
                d_lm.rewind()
                d_out = d_run()
            with native.settings.context(lm=n_lm):
                n_lm.rewind()
                n_out = n_run()
        if repr(dict(d_out) if kind != "parallel" else [dict(p) for p in d_out]) != \
                repr(dict(n_out) if kind != "parallel" else [dict(p) for p in n_out]):
            raise SystemExit(f"{kind}: native and DSPy disagree ({d_out!r} vs {n_out!r}); fix parity first")
        rows.append(interleaved(kind, rounds, lambda: _time(d_run, d_lm, dspy.context, batch),
                                lambda: _time(n_run, n_lm, native.settings.context, batch * 5)))
        if kind in ("best_of_n", "refine"):
            rows[-1]["lm_copy_us"] = _lm_copy_cost(n_lm, rounds, batch * 5) * 1e6
    return rows


def _lm_copy_cost(lm: Any, rounds: int, n: int) -> float:
    """Seconds per run spent in DSPy's own ``BaseLM.copy`` (3 rollouts, one copy each): parity makes native call
    it on the user's dspy LM, so this part of the native time cannot be removed."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            lm.copy(rollout_id=1, temperature=1.0)
        times.append((time.perf_counter() - start) / n)
    return 3 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    return cli(argv, __doc__, measure, "composite", quick=(3, 3), full=(9, 10))


def cli(argv: list[str] | None, doc: str, measure_fn: Callable[[int, int], list[dict[str, Any]]], name: str,
        quick: tuple[int, int], full: tuple[int, int]) -> int:
    """A benchmark's command line: ``--quick`` for fewer rounds, ``--json PATH`` to write the numbers."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a rough number in a few seconds)")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    report(measure_fn(*(quick if args.quick else full)), name, args.json)
    return 0


def report(rows: list[dict[str, Any]], name: str, json_path: str | None) -> None:
    """Print one line per workload (DSPy and native time per run, their ratio, the verdict); ``json_path`` too."""
    print(f"{'workload':<24}{'DSPy/run':>12}{'native/run':>13}{'ratio':>8}")
    for r in rows:
        verdict = "meets" if r["ratio"] >= TARGET_RATIO else "below"
        print(f"{r['module']:<24}{r['dspy_run_us']:>10.0f}us{r['native_run_us']:>11.0f}us{r['ratio']:>7.1f}x  "
              f"({verdict} the {TARGET_RATIO:.0f}x target)")
        if "lm_copy_us" in r:
            print(f"{'':<24}of native's time, DSPy's own BaseLM.copy (3 copies of the user's LM): "
                  f"{r['lm_copy_us']:.0f}us ({100 * r['lm_copy_us'] / r['native_run_us']:.0f}%)")
    if json_path:
        Path(json_path).write_text(json.dumps({name: rows, "target_ratio": TARGET_RATIO}, indent=2))


if __name__ == "__main__":
    raise SystemExit(main())
