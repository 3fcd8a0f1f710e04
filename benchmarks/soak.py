"""Soak: 16 threads and 200 asyncio tasks of mixed routes for minutes; RSS over time, crossed answers, lost calls.

Only the public API is used (``dspex.configure``, ``dspex.Predict`` / ``dspex.ChainOfThought``, ``dspex.request``,
flag files on disk), so the test holds whatever the router looks like inside. Routes, in turn per call:

- ``dspex.predict`` flag: a ``fractional`` split native/dspy per targeting key (``dspex.request``); the flag file
  is rewritten every ``--flip-every`` seconds (30% <-> 70% native), so reloads happen under load;
- ``dspex.chain_of_thought`` flag: ``shadow`` (DSPy answers, native compared on the shadow pool);
- ``implementation="native"``, ``"dspy"`` and ``"shadow"`` forced on Predict / ChainOfThought.

The LM (a ``dspy.BaseLM`` both sides call the same way) answers ``A:<question>`` from the prompt, and every
question is unique, so an answer that belongs to another call is a *crossed* answer. A call that neither
returned nor raised by the end is *lost*. RSS is sampled every ``--sample-every`` seconds; *flat* means the RSS
after the warm-up (the first fifth of the run) grows by less than ``max(20 MB, 10%)`` to the end.

    .venv/bin/python benchmarks/soak.py                 # 5 minutes
    .venv/bin/python benchmarks/soak.py --seconds 30    # a short run
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

THREADS, TASKS, USERS = 16, 200, 500
_QUESTION = re.compile(r"\[\[ ## question ## \]\]\n(.*?)(?:\n\n|$)", re.S)


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 1e6


def make_lm() -> Any:
    import dspy

    class EchoLM(dspy.BaseLM):
        """``A:<question>`` from the last user message, with a reasoning field for ChainOfThought."""

        def __init__(self) -> None:
            super().__init__(model="soak/echo", cache=False)

        def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:  # type: ignore[override]
            user = [m for m in messages if m["role"] == "user"][-1]["content"]
            match = _QUESTION.search(user)
            q = match.group(1) if match else "?"
            return [f"[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\nA:{q}\n\n[[ ## completed ## ]]"]

        async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:  # type: ignore[override]
            return self(prompt, messages, **kwargs)

    return EchoLM()


def write_flags(path: Path, native_percent: int) -> None:
    variants = {"native": "native", "dspy": "dspy", "shadow": "shadow"}
    doc = {"flags": {
        "dspex.predict": {"state": "ENABLED", "variants": variants, "defaultVariant": "dspy",
                          "targeting": {"fractional": [["native", native_percent], ["dspy", 100 - native_percent]]}},
        "dspex.chain_of_thought": {"state": "ENABLED", "variants": variants, "defaultVariant": "shadow"},
    }}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.replace(path)   # by rename, as deploy tools do


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = self.ok = self.crossed = self.errors = 0
        self.by_route: dict[str, int] = {}
        self.first_error: str | None = None

    def begin(self) -> None:
        with self.lock:
            self.started += 1

    def end(self, route: str, expected: str, got: Any, error: BaseException | None) -> None:
        with self.lock:
            self.by_route[route] = self.by_route.get(route, 0) + 1
            if error is not None:
                self.errors += 1
                self.first_error = self.first_error or f"{route}: {type(error).__name__}: {error}"
            elif got == expected:
                self.ok += 1
            else:
                self.crossed += 1


def build_modules() -> list[tuple[str, Any]]:
    import dspex

    return [
        ("flag fractional (predict)", dspex.Predict("question -> answer")),
        ("flag shadow (chain_of_thought)", dspex.ChainOfThought("question -> answer")),
        ("native", dspex.Predict("question -> answer", implementation="native")),
        ("dspy", dspex.Predict("question -> answer", implementation="dspy")),
        ("shadow", dspex.Predict("question -> answer", implementation="shadow")),
        ("native cot", dspex.ChainOfThought("question -> answer", implementation="native")),
    ]


def _calls(prefix: str, n: int, modules: list[tuple[str, Any]], deadline: float) -> Any:
    """(route, module, unique question, targeting key) for worker ``n`` until the deadline."""
    rng = random.Random(f"{prefix}{n}")
    for i in itertools.count():
        if time.monotonic() >= deadline:
            return
        route, module = modules[(n + i) % len(modules)]
        yield route, module, f"{prefix}{n}-{i}-{rng.random():.6f}", f"user-{rng.randrange(USERS)}"


def thread_worker(n: int, modules: list[tuple[str, Any]], tally: Tally, deadline: float) -> None:
    import dspex

    for route, module, question, key in _calls("t", n, modules, deadline):
        tally.begin()
        try:
            with dspex.request(targeting_key=key):
                tally.end(route, f"A:{question}", module(question=question).answer, None)
        except Exception as exc:  # noqa: BLE001 - counted, the run goes on
            tally.end(route, f"A:{question}", None, exc)


async def task_worker(n: int, modules: list[tuple[str, Any]], tally: Tally, deadline: float) -> None:
    import dspex

    for route, module, question, key in _calls("a", n, modules, deadline):
        tally.begin()
        try:
            with dspex.request(targeting_key=key):
                got = (await module.acall(question=question)).answer
            tally.end(f"{route} (async)", f"A:{question}", got, None)
        except Exception as exc:  # noqa: BLE001
            tally.end(f"{route} (async)", f"A:{question}", None, exc)
        await asyncio.sleep(0)


def run(seconds: float, sample_every: float, flip_every: float) -> dict[str, Any]:
    import dspex

    with tempfile.TemporaryDirectory(prefix="dspex-soak-") as tmp:
        flags = Path(tmp) / "soak.flagd.json"
        write_flags(flags, 30)
        dspex.configure(lm=make_lm(), flags=str(flags),
                        shadow={"log_path": str(Path(tmp) / "logs"), "max_queue": 2000, "workers": 2})
        modules = build_modules()
        tally = Tally()
        start = time.monotonic()
        deadline = start + seconds
        samples: list[tuple[float, float, int]] = [(0.0, rss_mb(), 0)]
        threads = [threading.Thread(target=thread_worker, args=(n, modules, tally, deadline), daemon=True)
                   for n in range(THREADS)]

        async def tasks() -> None:
            await asyncio.gather(*(task_worker(n, modules, tally, deadline) for n in range(TASKS)))

        loop_thread = threading.Thread(target=lambda: asyncio.run(tasks()), daemon=True)
        for t in (*threads, loop_thread):
            t.start()
        flips = 0
        next_sample, next_flip = start + sample_every, start + flip_every
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = time.monotonic()
            if now >= next_flip:
                flips += 1
                write_flags(flags, 70 if flips % 2 else 30)
                next_flip += flip_every
            if now >= next_sample:
                samples.append((round(now - start, 1), round(rss_mb(), 1), tally.started))
                next_sample += sample_every
        for t in (*threads, loop_thread):
            t.join(timeout=60)
        dspex.shutdown(timeout=60)
        samples.append((round(time.monotonic() - start, 1), round(rss_mb(), 1), tally.started))
        import dspex.shadow

        shadow = dspex.shadow.stats()   # after shutdown: pending is what did not drain in 60 s
    finished = tally.ok + tally.crossed + tally.errors
    warm = next((s for s in samples if s[0] >= seconds / 5), samples[-1])
    growth = max(s[1] for s in samples if s[0] >= warm[0]) - warm[1]
    flat = growth < max(20.0, 0.10 * warm[1])
    return {
        "seconds": seconds, "threads": THREADS, "async_tasks": TASKS, "calls": tally.started,
        "answered": tally.ok, "crossed": tally.crossed, "errors": tally.errors, "lost": tally.started - finished,
        "first_error": tally.first_error, "by_route": dict(sorted(tally.by_route.items())), "flag_rewrites": flips,
        "rss_samples": [{"t": t, "rss_mb": r, "calls": c} for t, r, c in samples],
        "rss_after_warmup_mb": warm[1], "rss_growth_after_warmup_mb": round(growth, 1), "rss_flat": flat,
        "shadow": {k: shadow.get(k) for k in ("compared", "matched", "diverged", "candidate_errors", "timeouts",
                                               "dropped", "pending", "log_errors", "log_losses")},
        "ok": flat and tally.crossed == 0 and tally.started == finished and tally.errors == 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="how long to run (default 300)")
    parser.add_argument("--sample-every", type=float, default=None, help="RSS sample period (default: run/20)")
    parser.add_argument("--flip-every", type=float, default=10.0, help="rewrite the flag file this often")
    parser.add_argument("--json", default=None, help="also write the result here")
    args = parser.parse_args(argv)
    result = run(args.seconds, args.sample_every or max(1.0, args.seconds / 20), args.flip_every)
    print(f"soak: {result['seconds']:g}s, {THREADS} threads + {TASKS} asyncio tasks, {result['calls']} calls "
          f"({result['calls'] / result['seconds']:.0f}/s), {result['flag_rewrites']} flag rewrites")
    for s in result["rss_samples"]:
        print(f"  t={s['t']:>6}s  RSS {s['rss_mb']:>7.1f} MB  calls {s['calls']}")
    print(f"RSS after warm-up {result['rss_after_warmup_mb']} MB, growth since {result['rss_growth_after_warmup_mb']} MB"
          f" -> {'flat' if result['rss_flat'] else 'NOT flat'}")
    print(f"crossed {result['crossed']}, lost {result['lost']}, errors {result['errors']}"
          + (f" (first: {result['first_error']})" if result["first_error"] else ""))
    print(f"by route: {result['by_route']}")
    print(f"shadow (dropped = comparisons skipped at a full queue, by design; the callers were served): "
          f"{result['shadow']}")
    print("OK" if result["ok"] else "FAILED")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
