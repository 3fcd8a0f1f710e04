"""Agents, native vs DSPy 3.4.1, in one process run: a 5-step ReAct run and a 5-step ReActV2 run.

Each run is five agent turns (four tool calls, then ``finish`` / ``submit``) against an instant scripted LM
(a ``dspy.BaseLM`` whose ``__call__`` returns the next scripted answer, so DSPy's LM layer and cache are out of
the picture; DSPy's cache is also switched off), with typed tools that do almost nothing, so what is measured
is each implementation's own overhead: prompt formatting, parsing, the trajectory / history, tool argument
validation. The per-step figure is a run's time over its LM calls (ReAct: five turns plus the final extract).
Runs of the two implementations are interleaved round by round, so machine noise hits both alike; the ratio is
of the medians. Target: native at least 25x less overhead per step (the Predict target).

Run from the repository root: ``python benchmarks/agents.py`` (``--quick`` for a short run, ``--json PATH`` to
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

TARGET_STEP_RATIO = 25.0


def search(query: str, limit: int = 3) -> str:
    """Search the web."""
    return f"{limit} results for {query}"


def add(x: int, y: int) -> int:
    """Add two numbers."""
    return x + y


def _react_script() -> list[str]:
    def turn(name: str, args: dict[str, Any]) -> str:
        return (f"[[ ## next_thought ## ]]\nI should use {name}.\n\n[[ ## next_tool_name ## ]]\n{name}\n\n"
                f"[[ ## next_tool_args ## ]]\n{json.dumps(args)}\n\n[[ ## completed ## ]]")

    turns = [turn("search", {"query": "capital of France"}), turn("add", {"x": 2, "y": 3}),
             turn("search", {"query": "Paris population", "limit": 5}), turn("add", {"x": 40, "y": 2}),
             turn("finish", {})]
    return turns + ["[[ ## reasoning ## ]]\nThe tools said so.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"]


def _react_v2_script() -> list[str]:
    def turn(name: str, args: dict[str, Any]) -> str:
        calls = json.dumps({"tool_calls": [{"name": name, "args": args}]})
        return f"[[ ## next_thought ## ]]\nI should use {name}.\n\n[[ ## tool_calls ## ]]\n{calls}\n\n[[ ## completed ## ]]"

    return [turn("search", {"query": "capital of France"}), turn("add", {"x": 2, "y": 3}),
            turn("search", {"query": "Paris population", "limit": 5}), turn("add", {"x": 40, "y": 2}),
            turn("submit", {"answer": "Paris"})]


def _scripted_lm(script: list[str]) -> Any:
    import dspy

    class ScriptedLM(dspy.BaseLM):
        """Answers call i of a run with script[i]; ``rewind()`` starts the next run."""

        def __init__(self) -> None:
            super().__init__(model="bench/scripted", cache=False)
            self.script, self.i = script, 0

        def rewind(self) -> None:
            self.i = 0

        def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:  # type: ignore[override]
            self.i += 1
            return [self.script[self.i - 1]]

    return ScriptedLM()


def _runner(lib: Any, kind: str) -> tuple[Callable[[], Any], int]:
    script = _react_script() if kind == "react" else _react_v2_script()
    lm = _scripted_lm(script)
    if kind == "react":
        module = lib.ReAct("question -> answer", tools=[search, add], max_iters=5)

        def run() -> Any:
            lm.rewind()
            return module(question="What is the capital of France?", lm=lm)
    else:
        module = lib.ReActV2("question -> answer", tools=[search, add], max_iters=5)
        module.set_lm(lm)

        def run() -> Any:
            lm.rewind()
            return module(question="What is the capital of France?")
    return run, len(script)


def _time(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def measure(rounds: int, batch: int) -> list[dict[str, Any]]:
    import dspy

    import dspex.native as native

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    rows = []
    for kind in ("react", "react_v2"):
        d_run, steps = _runner(dspy, kind)
        n_run, _ = _runner(native, kind)
        d_pred, n_pred = d_run(), n_run()  # warm up, and check like for like
        if d_pred.answer != n_pred.answer or d_pred.answer != "Paris":
            raise SystemExit(f"{kind}: native and DSPy disagree ({d_pred!r} vs {n_pred!r}); fix parity first")
        d_times, n_times = [], []
        for _ in range(rounds):
            d_times.append(_time(d_run, batch))
            n_times.append(_time(n_run, batch * 5))
        d_run_s, n_run_s = statistics.median(d_times), statistics.median(n_times)
        rows.append({"agent": kind, "lm_calls": steps, "dspy_run_ms": d_run_s * 1e3, "native_run_ms": n_run_s * 1e3,
                     "dspy_step_us": d_run_s / steps * 1e6, "native_step_us": n_run_s / steps * 1e6,
                     "ratio": d_run_s / n_run_s})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a rough number in a few seconds)")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    rounds, batch = (3, 3) if args.quick else (9, 10)
    rows = measure(rounds, batch)
    print(f"{'agent (5 steps)':<16}{'LM calls':>9}{'DSPy/run':>12}{'native/run':>12}{'DSPy/step':>12}"
          f"{'native/step':>13}{'ratio':>8}")
    for r in rows:
        verdict = "meets" if r["ratio"] >= TARGET_STEP_RATIO else "below"
        print(f"{r['agent']:<16}{r['lm_calls']:>9}{r['dspy_run_ms']:>10.2f}ms{r['native_run_ms']:>10.2f}ms"
              f"{r['dspy_step_us']:>10.0f}us{r['native_step_us']:>11.0f}us{r['ratio']:>7.1f}x  "
              f"({verdict} the {TARGET_STEP_RATIO:.0f}x per-step target)")
    if args.json:
        Path(args.json).write_text(json.dumps({"agents": rows, "target_step_ratio": TARGET_STEP_RATIO}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
