"""Native vs DSPy 3.4.1, measured in one process run: per-call time, import time, and the floor.

* Per call: ``dspy.Predict`` / ``dspy.ChainOfThought`` vs ``dspex.native.Predict`` / ``ChainOfThought`` on the same
  signature with the same instant LM (a ``dspy.BaseLM`` whose ``__call__`` returns a fixed answer, so DSPy's cache
  and LM layer are out of the picture; DSPy's cache is also switched off). Native is measured four ways: the module
  and the routed ``dspex`` class in a process where DSPy cannot be imported (``native_worker.py``), and in this
  process with DSPy loaded: the module (DSPy's settings bridged) and the routed module inside a ``dspy.Module``
  program on the native route (DSPy's books kept). Batches are interleaved round by round, so machine noise hits
  all alike; each ratio is of the medians. This process and its worker run on one CPU (``_pin.py``: the two cores
  of these machines differ, and the worker would land on either).
* Import: ``import dspex.native`` vs ``import dspy``, each in fresh subprocesses, interleaved, median of N.
* Floor: the same prompt from one prebuilt template (``str.format``) and one compiled regex to parse: what a
  hand-written call for "question -> answer" costs. It runs in the native worker, called like the modules, in the
  same rounds as native, so native's distance from it is its own overhead.

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run as a script: the repository root

from benchmarks._pin import describe, pin_to_one_cpu  # noqa: E402

# Per call: native (no DSPy) >= 60x DSPy for Predict and ChainOfThought, and within 2x of the floor (issue 14).
TARGET_CALL_RATIO, AIM_CALL_RATIO = 60.0, 80.0
TARGET_FLOOR_RATIO = 2.0
FLOOR_CASE = "Predict  q -> a"   # the case the floor is written for (make_floor)
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


class NativeWorker:
    """``native_worker.py``: the native modules in a process where DSPy cannot be imported."""

    def __init__(self) -> None:
        cases = {k: list(v) for k, v in CASES.items()}
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("native_worker.py")),
                                      json.dumps(cases)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":  # type: ignore[union-attr]
            raise SystemExit("the native worker did not start")

    def time(self, label: str, n: int) -> float:
        self.proc.stdin.write(f"{label} {n}\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return float(self.proc.stdout.readline())  # type: ignore[union-attr]

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=30)


def _program(ns: Any, kind: str, signature: str) -> Any:
    """A one-module DSPy program holding ``ns``'s module (``dspex``'s, routed native: what a migrating team runs)."""
    import dspy

    import dspex

    extra = {"implementation": "native"} if ns is dspex else {}

    class Program(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.step = (ns.Predict if kind == "predict" else ns.ChainOfThought)(signature, **extra)

        def forward(self, **kwargs: Any) -> Any:
            return self.step(**kwargs)

    return Program()


def measure_calls(rounds: int, batch: int) -> list[dict[str, Any]]:
    """Per call, interleaved round by round: DSPy; native where DSPy is not loaded (a separate process), as the
    module and routed; and, in this process with DSPy loaded, native with DSPy's settings bridged and a routed
    module on the native route inside a DSPy program (DSPy's books kept: trace, callbacks, history, usage)."""
    import dspy

    import dspex
    import dspex.native as native

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    worker = NativeWorker()
    rows = []
    try:
        for name, (kind, signature, inputs, answer) in CASES.items():
            lm = _instant_lm(answer)
            d_mod = (dspy.Predict if kind == "predict" else dspy.ChainOfThought)(signature)
            n_mod = (native.Predict if kind == "predict" else native.ChainOfThought)(signature)
            program, d_program = _program(dspex, kind, signature), _program(dspy, kind, signature)
            d_pred, n_pred, p_pred = d_mod(lm=lm, **inputs), n_mod(lm=lm, **inputs), program(lm=lm, **inputs)
            if not dict(d_pred.items()) == dict(n_pred.items()) == dict(p_pred.items()):
                raise SystemExit(f"{name}: native and DSPy disagree ({d_pred!r} vs {n_pred!r}); fix parity first")
            times: dict[str, list[float]] = {k: [] for k in ("dspy", "native", "routed", "bridged", "in_program",
                                                             "dspy_program", "floor")}
            for _ in range(rounds):
                times["dspy"].append(_time_batch(lambda: d_mod(lm=lm, **inputs), batch))
                times["dspy_program"].append(_time_batch(lambda: d_program(lm=lm, **inputs), batch))
                times["native"].append(worker.time(name, batch * 10))
                times["routed"].append(worker.time(f"routed {name}", batch * 10))
                times["bridged"].append(_time_batch(lambda: n_mod(lm=lm, **inputs), batch * 10))
                times["in_program"].append(_time_batch(lambda: program(lm=lm, **inputs), batch * 5))
                if name == FLOOR_CASE:   # the floor, in the native worker's process and rounds
                    times["floor"].append(worker.time("floor", batch * 10))
            row: dict[str, Any] = {"case": name, **{f"{k}_us": statistics.median(v) * 1e6 for k, v in times.items() if v}}
            for k in ("native", "routed", "bridged"):
                row[f"{k}_ratio"] = row["dspy_us"] / row[f"{k}_us"]
            row["in_program_ratio"] = row["dspy_program_us"] / row["in_program_us"]   # program vs program
            row["native_us"], row["ratio"] = row["native_us"], row["native_ratio"]
            if "floor_us" in row:
                row["floor_ratio"] = row["native_us"] / row["floor_us"]
            rows.append(row)
    finally:
        worker.close()
    return rows


def make_floor() -> Callable[..., dict[str, str]]:
    """One prebuilt template and one compiled regex: the least any implementation of "q -> a" could do. Called
    like the modules (``floor(lm=lm, question=...)``), so the calling convention costs both sides alike."""
    template = "[[ ## question ## ]]\n{question}\n\nRespond with the corresponding output fields, starting with " \
               "the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`."
    system = "<the fixed system message, built once>"
    pattern = re.compile(r"\[\[ ## answer ## \]\]\n(.*?)\s*(?:\[\[ ## completed ## \]\]|$)", re.S)

    def floor(lm: Callable[..., list[str]], question: str) -> dict[str, str]:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": template.format(question=question)}]
        text = lm(messages=messages)[0]
        return {"answer": pattern.search(text).group(1).strip()}  # type: ignore[union-attr]

    return floor


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


def render(calls: list[dict[str, Any]], imports: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dspex native vs DSPy 3.4.1 per call (instant LM, DSPy cache off, interleaved, medians)")
    cols = ("case", "DSPy", "native, no DSPy", "ratio", "routed, no DSPy", "ratio", "native, DSPy loaded", "ratio",
            "routed in a DSPy program (vs DSPy's)", "ratio", "native / floor", "verdict")
    for col in cols:
        table.add_column(col, justify="left" if col == "case" else "right")
    for row in calls:
        over_floor = f"{row['floor_ratio']:.2f}x" if "floor_ratio" in row else ""
        cells = [row["case"], f"{row['dspy_us']:.0f} us"]
        for k in ("native", "routed", "bridged", "in_program"):
            cells += [f"{row[f'{k}_us']:.1f} us", f"{row[f'{k}_ratio']:.1f}x"]
        table.add_row(*cells, over_floor, _call_verdict(row))
    for row in calls:
        if "floor_us" in row:
            table.add_row("floor  q -> a", "", f"{row['floor_us']:.2f} us", *[""] * 7, "1.0x", "template + regex")
    table.add_row("import", f"{imports['dspy_ms']:.0f} ms", f"{imports['native_ms']:.1f} ms",
                  f"{imports['ratio']:.1f}x", *[""] * 7, _verdict(imports["ratio"], TARGET_IMPORT_RATIO, AIM_IMPORT_RATIO))
    console = Console(width=max(Console().width, 170))
    console.print(table)
    console.print(f"targets: per call >= {TARGET_CALL_RATIO:.0f}x (aim {AIM_CALL_RATIO:.0f}x) for native with DSPy not "
                  f"loaded, and native within {TARGET_FLOOR_RATIO:.0f}x of the floor (the verdict column); import >= "
                  f"{TARGET_IMPORT_RATIO:.0f}x (aim {AIM_IMPORT_RATIO:.0f}x); import medians of {imports['repeats']} "
                  "fresh subprocesses each")


def _call_verdict(row: dict[str, Any]) -> str:
    verdict = _verdict(row["ratio"], TARGET_CALL_RATIO, AIM_CALL_RATIO)
    if row.get("floor_ratio", 0.0) > TARGET_FLOOR_RATIO:
        verdict = "OVER 2x FLOOR" if verdict != "BELOW TARGET" else verdict + ", OVER 2x FLOOR"
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the measurements to this JSON file")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per case (default 15)")
    parser.add_argument("--batch", type=int, default=40, help="DSPy calls per batch; native runs 10x as many")
    parser.add_argument("--imports", type=int, default=7, help="fresh-subprocess imports per library")
    parser.add_argument("--quick", action="store_true", help="a short run (5 rounds, 3 imports)")
    parser.add_argument("--no-pin", action="store_true", help="let the OS place this process and its workers "
                        "(by default all run on one CPU: benchmarks/_pin.py says why)")
    args = parser.parse_args(argv)
    cpu = pin_to_one_cpu(not args.no_pin)
    if args.quick:
        args.rounds, args.imports, args.batch = 5, 3, 20
    imports = measure_imports(args.imports)  # first, before this process has imported either library
    calls = measure_calls(args.rounds, args.batch)
    render(calls, imports)
    print(describe(cpu))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"python": sys.version.split()[0], "calls": calls, "imports": imports,
                   "targets": {"call": TARGET_CALL_RATIO, "floor": TARGET_FLOOR_RATIO, "import": TARGET_IMPORT_RATIO},
                   "pinned_cpu": cpu}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
