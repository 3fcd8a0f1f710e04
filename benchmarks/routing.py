"""Routing overhead, measured in one run: a routed call vs calling the native module directly.

Two flag shapes on a real flagd FILE provider: a static variant (resolved once per flag-file version, cached)
and a 30/70 fractional rollout (evaluated per call, sticky per targeting key). The LM is an instant in-process
function, so the numbers are the routing cost itself. Run: ``.venv/bin/python benchmarks/routing.py``.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import dspex
import dspex.native

REPLY = ["[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\n42\n\n[[ ## completed ## ]]"]


def instant_lm(messages: Any = None, **kwargs: Any) -> list[str]:
    return REPLY


def per_call_us(fn: Callable[[], Any], n: int, repeats: int = 7) -> float:
    """Median over ``repeats`` batches of ``n`` calls (interleaving keeps machine noise out of the ratio)."""
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(samples)


def flag_file(folder: Path) -> str:
    flags = {
        "$schema": "https://flagd.dev/schema/v0/flags.json",
        "flags": {
            "dspex.predict": {"state": "ENABLED", "variants": {"native": "native", "dspy": "dspy"},
                              "defaultVariant": "native"},
            "dspex.chain_of_thought": {
                "state": "ENABLED", "variants": {"native": "native", "dspy": "dspy"}, "defaultVariant": "native",
                # both buckets native, so the measured cost is the per-call fractional evaluation, not DSPy
                "targeting": {"fractional": [["native", 30], ["native", 70]]},
            },
        },
    }
    path = folder / "bench.flagd.json"
    path.write_text(json.dumps(flags))
    return str(path)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    with tempfile.TemporaryDirectory() as tmp:
        dspex.configure(lm=instant_lm, flags=flag_file(Path(tmp)), implementation_preference="native_first")
        direct = dspex.native.Predict("question -> answer")
        routed = dspex.Predict("question -> answer")
        routed_frac = dspex.ChainOfThought("question -> answer")
        direct_cot = dspex.native.ChainOfThought("question -> answer")
        # warm up: build instances, fill the flag cache
        for _ in range(200):
            direct(question="q", lm=instant_lm), routed(question="q"), routed_frac(question="q")
            direct_cot(question="q", lm=instant_lm)
        rows = []
        for label, base, fn in (
            ("static flag (cached)", lambda: direct(question="q", lm=instant_lm), lambda: routed(question="q")),
            ("fractional 30/70", lambda: direct_cot(question="q", lm=instant_lm), lambda: routed_frac(question="q")),
        ):
            b, r = [], []
            for _ in range(3):   # interleave base and routed batches
                b.append(per_call_us(base, n, 3))
                r.append(per_call_us(fn, n, 3))
            base_us, routed_us = statistics.median(b), statistics.median(r)
            rows.append((label, base_us, routed_us))
        dspex.shutdown()
    print(f"{'flag shape':<24}{'native direct':>16}{'routed':>12}{'overhead':>12}{'ratio':>8}")
    for label, base_us, routed_us in rows:
        print(f"{label:<24}{base_us:>13.1f} us{routed_us:>9.1f} us{routed_us - base_us:>9.1f} us{routed_us / base_us:>8.3f}")


if __name__ == "__main__":
    main()
