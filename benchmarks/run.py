"""Native vs DSPy 3.4.1, measured in one process run: per-call time, import time, and the floor.

* Per call: ``dspy.Predict`` / ``dspy.ChainOfThought`` vs ``dspex.native.Predict`` / ``ChainOfThought`` on the same
  signature with the same instant LM (a ``dspy.BaseLM`` whose ``__call__`` returns a fixed answer, so DSPy's cache
  and LM layer are out of the picture; DSPy's cache is also switched off). Batches of the two implementations are
  interleaved round by round, so machine noise hits both alike; the ratio is of the medians.
* Import: ``import dspex.native`` vs ``import dspy``, each in fresh subprocesses, interleaved, median of N.
* Floor: the same prompt from one prebuilt template (``str.format``) and one compiled regex plus ``int()`` to
  parse: what a hand-written call for this one signature costs. Native's distance from it is its own overhead.

Run from the repository root: ``python -m benchmarks.run`` (or ``python benchmarks/run.py``); ``--json PATH``
also writes the numbers; ``--quick`` for a short run. No timing assertion lives in the tests: this is the report.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

TARGET_CALL_RATIO, AIM_CALL_RATIO = 25.0, 40.0
TARGET_IMPORT_RATIO, AIM_IMPORT_RATIO = 15.0, 30.0

CASES: dict[str, tuple[str, str, dict[str, Any], str]] = {
    # name: (module, signature, inputs, the LM's answer)
    "Predict  q -> a": ("predict", "question -> answer", {"question": "What is the capital of France?"},
                        "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"),
    "Predict  typed": ("predict", "question, context: list[str] -> answer: int, confident: bool",
                       {"question": "6 x 7?", "context": ["times tables", "arithmetic"]},
                       "[[ ## answer ## ]]\n42\n\n[[ ## confident ## ]]\nTrue\n\n[[ ## completed ## ]]"),
    "ChainOfThought": ("cot", "question -> answer", {"question": "What is the capital of France?"},
                       "[[ ## reasoning ## ]]\nIt is Paris.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"),
}


def _instant_lm(answer: str) -> Any:
    import dspy

    class InstantLM(dspy.BaseLM):
        """Returns the fixed answer at once; an overridden __call__ bypasses DSPy's LM layer and cache."""

        def __init__(self) -> None:
            super().__init__(model="bench/instant", cache=False)
            self.reply = [answer]

        def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:  # type: ignore[override]
            return list(self.reply)

    return InstantLM()


def _time_batch(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def measure_calls(rounds: int, batch: int) -> list[dict[str, Any]]:
    import dspy

    import dspex.native as native

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    rows = []
    for name, (kind, signature, inputs, answer) in CASES.items():
        lm = _instant_lm(answer)
        d_mod = (dspy.Predict if kind == "predict" else dspy.ChainOfThought)(signature)
        n_mod = (native.Predict if kind == "predict" else native.ChainOfThought)(signature)
        d_pred, n_pred = d_mod(lm=lm, **inputs), n_mod(lm=lm, **inputs)  # warm up, and check like for like
        if dict(d_pred.items()) != dict(n_pred.items()):
            raise SystemExit(f"{name}: native and DSPy disagree ({d_pred!r} vs {n_pred!r}); fix parity first")
        d_times, n_times = [], []
        for _ in range(rounds):
            d_times.append(_time_batch(lambda: d_mod(lm=lm, **inputs), batch))
            n_times.append(_time_batch(lambda: n_mod(lm=lm, **inputs), batch * 10))
        rows.append({"case": name, "dspy_us": statistics.median(d_times) * 1e6,
                     "native_us": statistics.median(n_times) * 1e6})
        rows[-1]["ratio"] = rows[-1]["dspy_us"] / rows[-1]["native_us"]
    return rows


def measure_floor(rounds: int, batch: int) -> dict[str, Any]:
    """One prebuilt template and one compiled regex: the least any implementation of "q -> a" could do."""
    _, _, inputs, answer = CASES["Predict  q -> a"]
    template = "[[ ## question ## ]]\n{question}\n\nRespond with the corresponding output fields, starting with " \
               "the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`."
    system = "<the fixed system message, built once>"
    pattern = re.compile(r"\[\[ ## answer ## \]\]\n(.*?)\s*(?:\[\[ ## completed ## \]\]|$)", re.S)
    lm = lambda messages, **kw: [answer]  # noqa: E731 - the cheapest possible LM

    def call() -> dict[str, str]:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": template.format(**inputs)}]
        text = lm(messages=messages)[0]
        return {"answer": pattern.search(text).group(1).strip()}  # type: ignore[union-attr]

    assert call() == {"answer": "Paris"}
    return {"case": "floor  q -> a", "floor_us": statistics.median(_time_batch(call, batch * 50) for _ in range(rounds)) * 1e6}


_IMPORT_SNIPPET = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"


def measure_imports(repeats: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {"dspex.native": [], "dspy": []}
    for _ in range(repeats):
        for mod in times:  # interleaved: a slow moment hits both
            out = subprocess.run([sys.executable, "-c", _IMPORT_SNIPPET.format(mod=mod)], capture_output=True,
                                 text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
            times[mod].append(float(out.stdout.strip().splitlines()[-1]))
    native_ms = statistics.median(times["dspex.native"]) * 1e3
    dspy_ms = statistics.median(times["dspy"]) * 1e3
    return {"native_ms": native_ms, "dspy_ms": dspy_ms, "ratio": dspy_ms / native_ms, "repeats": repeats}


def _verdict(ratio: float, target: float, aim: float) -> str:
    return "aim met" if ratio >= aim else ("target met" if ratio >= target else "BELOW TARGET")


def render(calls: list[dict[str, Any]], floor: dict[str, Any], imports: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dspex native vs DSPy 3.4.1 (instant LM, DSPy cache off, interleaved, medians)")
    for col in ("case", "DSPy", "native", "DSPy / native", "native / floor", "verdict"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for row in calls:
        over_floor = f"{row['native_us'] / floor['floor_us']:.1f}x" if row["case"].startswith("Predict  q") else ""
        table.add_row(row["case"], f"{row['dspy_us']:.0f} us", f"{row['native_us']:.1f} us", f"{row['ratio']:.1f}x",
                      over_floor, _verdict(row["ratio"], TARGET_CALL_RATIO, AIM_CALL_RATIO))
    table.add_row(floor["case"], "", f"{floor['floor_us']:.2f} us", "", "1.0x", "template + regex")
    table.add_row("import", f"{imports['dspy_ms']:.0f} ms", f"{imports['native_ms']:.1f} ms",
                  f"{imports['ratio']:.1f}x", "", _verdict(imports["ratio"], TARGET_IMPORT_RATIO, AIM_IMPORT_RATIO))
    console = Console(width=max(Console().width, 110))
    console.print(table)
    console.print(f"targets: per call >= {TARGET_CALL_RATIO:.0f}x (aim {AIM_CALL_RATIO:.0f}x), "
                  f"import >= {TARGET_IMPORT_RATIO:.0f}x (aim {AIM_IMPORT_RATIO:.0f}x); "
                  f"import medians of {imports['repeats']} fresh subprocesses each")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the measurements to this JSON file")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per case (default 15)")
    parser.add_argument("--batch", type=int, default=40, help="DSPy calls per batch; native runs 10x as many")
    parser.add_argument("--imports", type=int, default=7, help="fresh-subprocess imports per library")
    parser.add_argument("--quick", action="store_true", help="a short run (5 rounds, 3 imports)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.imports, args.batch = 5, 3, 20
    imports = measure_imports(args.imports)  # first, before this process has imported either library
    calls = measure_calls(args.rounds, args.batch)
    floor = measure_floor(args.rounds, args.batch)
    render(calls, floor, imports)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"python": sys.version.split()[0], "calls": calls, "floor": floor, "imports": imports,
                   "targets": {"call": TARGET_CALL_RATIO, "import": TARGET_IMPORT_RATIO}}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
