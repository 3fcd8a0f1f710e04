"""Shadow mode's cost to the caller: median latency with shadow on vs off, at a 20 ms LM, in one run.

The control is a real ``dspy.Predict``; the candidate is ``dspex.native.Predict`` run on the shadow pool against
the control's recorded transcript. On and off calls alternate (ABAB...) so drift on a shared machine hits both
alike. The claim checked: the median caller latency with shadow on is within 2% of shadow off.

    .venv/bin/python benchmarks/shadow.py [--calls 60] [--lm-ms 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60, help="calls per condition")
    parser.add_argument("--lm-ms", type=float, default=20.0)
    parser.add_argument("--max-overhead", type=float, default=0.02)
    args = parser.parse_args(argv)

    import dspy

    import dspex.native
    import dspex.shadow as shadow

    delay = args.lm_ms / 1000

    class SleepyLM(dspy.BaseLM):
        def __init__(self) -> None:
            super().__init__(model="bench/sleepy")
            self.calls = 0

        def __call__(self, prompt=None, messages=None, **kwargs):
            self.calls += 1
            time.sleep(delay)
            return ["[[ ## answer ## ]]\n42\n\n[[ ## completed ## ]]"]

    lm = SleepyLM()
    control = dspy.Predict("question -> answer")
    candidate = dspex.native.Predict("question -> answer")
    log_dir = Path(tempfile.mkdtemp(prefix="dspex-shadow-bench-"))
    shadow.reset(shadow.ShadowSettings(log_path=str(log_dir / "divergences.jsonl")))

    def off(q: str) -> float:
        t0 = time.perf_counter()
        control(question=q, lm=lm)
        return time.perf_counter() - t0

    def on(q: str) -> float:
        call = shadow.ShadowCall("predict", None, {"question": q}, lm,
                                 lambda l: control(question=q, lm=l), lambda l: candidate(question=q, lm=l),
                                 signature=control.signature)
        t0 = time.perf_counter()
        shadow.run_shadow(call)
        return time.perf_counter() - t0

    for i in range(5):                     # warm up both paths (imports, caches, the pool's threads)
        off(f"w{i}"), on(f"w{i}")
    shadow.shutdown(timeout=10)
    shadow.reset(shadow.ShadowSettings(log_path=str(log_dir / "divergences.jsonl")))
    t_off: list[float] = []
    t_on: list[float] = []
    for i in range(args.calls):
        first, second = (on, off) if i % 2 else (off, on)
        a, b = first(f"q{i}"), second(f"q{i}")
        (t_on if first is on else t_off).append(a)
        (t_off if first is on else t_on).append(b)
    drained = shadow.shutdown(timeout=30)
    stats = shadow.stats()
    med_off, med_on = statistics.median(t_off) * 1000, statistics.median(t_on) * 1000
    overhead = (med_on - med_off) / med_off
    result = {
        "lm_ms": args.lm_ms, "calls_per_condition": args.calls,
        "median_ms_off": round(med_off, 3), "median_ms_on": round(med_on, 3),
        "overhead": round(overhead, 5), "max_overhead": args.max_overhead,
        "compared": stats["compared"], "matched": stats["matched"], "dropped": stats["dropped"], "drained": drained,
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "shadow.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = overhead < args.max_overhead and stats["compared"] == args.calls and stats["matched"] == args.calls
    print(("PASS" if ok else "FAIL") + f": median caller latency shadow on vs off: {overhead:+.2%} "
          f"(limit {args.max_overhead:.0%}); {stats['matched']}/{args.calls} candidates matched DSPy")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
