"""The native half of ``run.py`` in a process that never imports DSPy (``dspy`` is blocked in ``sys.modules``).

``run.py`` starts it once and, round by round interleaved with its own DSPy batches, sends ``<case> <n>`` lines on
stdin; each answer is the mean seconds per call of ``n`` native calls of that case. ``routed <case> <n>`` times
the routed ``dspex.Predict`` / ``dspex.ChainOfThought`` on the native route instead of the module itself, and
``floor <n>`` the hand-written floor (``run.make_floor``) on the "question -> answer" case's inputs and LM.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.modules["dspy"] = None  # type: ignore[assignment]  # any import of dspy now fails: the pure native path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dspex  # noqa: E402
import dspex.native as native  # noqa: E402
from benchmarks.run import FLOOR_CASE, make_floor  # noqa: E402


def main() -> None:
    cases = json.loads(sys.argv[1])
    modules = {}
    for name, (kind, signature, inputs, answer) in cases.items():
        lm = (lambda reply: (lambda messages, **kw: [reply]))(answer)
        mod = (native.Predict if kind == "predict" else native.ChainOfThought)(signature)
        routed = (dspex.Predict if kind == "predict" else dspex.ChainOfThought)(signature, implementation="native")
        modules[name] = (mod, routed, inputs, lm)
        mod(lm=lm, **inputs), routed(lm=lm, **inputs)
    _, _, inputs, lm = modules[FLOOR_CASE]
    modules["floor"] = (make_floor(), None, inputs, lm)
    print("ready", flush=True)
    for line in sys.stdin:
        parts = line.rstrip("\n").rsplit(" ", 1)
        label, n = parts[0], int(parts[1])
        mod, routed, inputs, lm = modules[label.removeprefix("routed ")]
        target = routed if label.startswith("routed ") else mod
        start = time.perf_counter()
        for _ in range(n):
            target(lm=lm, **inputs)
        print((time.perf_counter() - start) / n, flush=True)


if __name__ == "__main__":
    main()
