"""The no-DSPy half of ``composite.py``: the ``dspex.native`` composite modules in a process that never imports
DSPy (``dspy`` is blocked in ``sys.modules``), with the user's LM a ``dspex.LM`` answering from a script.

This is what a team that has migrated runs, and what ``run.py`` judges its per-call target on: no DSPy settings
bridged, no DSPy books kept, and ``lm.copy`` is dspex.LM's own. ``composite.py`` starts it once; it builds the
five workloads (``_composite_workloads``), runs each once and prints one JSON line, ``{"ready": {kind: repr of
the output}}``, so the parent can refuse to time outputs that differ from DSPy's. Then, round by round
interleaved with the parent's DSPy batches, it reads ``<kind> <n>`` lines on stdin and answers the mean seconds
per run of ``n`` runs; ``copy <kind> <n>`` answers the seconds that run's 3 ``dspex.LM.copy`` calls take.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys
from pathlib import Path
from typing import Any

sys.modules["dspy"] = None  # type: ignore[assignment]  # any import of dspy now fails: the pure native path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dspex.native as native  # noqa: E402
from benchmarks._composite_workloads import (KINDS, copy_cost, dspex_scripted_lm, snapshot,  # noqa: E402
                                             time_runs, workload)


def main() -> None:
    runs, outputs = {}, {}
    for kind in KINDS:
        run, lm = workload(native, kind, dspex_scripted_lm)
        with contextlib.redirect_stdout(io.StringIO()), native.settings.context(lm=lm):  # BestOfN prints failures
            lm.rewind()
            outputs[kind] = snapshot(kind, run())
        runs[kind] = (run, lm)
    print(json.dumps({"ready": outputs}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[0] == "copy":
            print(copy_cost(runs[words[1]][1], int(words[2])), flush=True)
            continue
        if words[0] == "free":
            print(free_copies_run(words[1], *runs[words[1]], int(words[2]), outputs[words[1]]), flush=True)
            continue
        run, lm = runs[words[0]]
        print(time_runs(run, lm, native.settings.context, int(words[1])), flush=True)


def free_copies_run(kind: str, run: Any, lm: Any, n: int, expected: str) -> float:
    """Seconds per run of BestOfN or Refine with every attempt's copies (``lm.copy``, the module's deep copy and
    ``set_lm``: ``_rollouts.attempt_module``) made before the clock starts: what is left is the work no
    implementation can skip (the attempts' calls, traces, the reward, Refine's advice), so DSPy's time over this
    is the best ratio any native BestOfN / Refine could reach."""
    owner = importlib.import_module(f"dspex.native.{kind}")
    real = owner.attempt_module
    asked: list[tuple[Any, Any, int]] = []
    try:
        owner.attempt_module = lambda module, lm_, rid: asked.append((module, lm_, rid)) or real(module, lm_, rid)
        with contextlib.redirect_stdout(io.StringIO()), native.settings.context(lm=lm):
            lm.rewind()
            run()   # one run shows the copies a run asks for
        made = iter([real(*args) for _ in range(n) for args in asked])
        owner.attempt_module = lambda module, lm_, rid: next(made)
        with contextlib.redirect_stdout(io.StringIO()), native.settings.context(lm=lm):
            lm.rewind()
            if snapshot(kind, run()) != expected:
                raise SystemExit(f"{kind}: a run on copies made beforehand answered differently")
        return time_runs(run, lm, native.settings.context, n - 1)
    finally:
        owner.attempt_module = real


if __name__ == "__main__":
    main()
