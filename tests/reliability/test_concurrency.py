"""Load: threads and asyncio tasks together over every route, with the flag file rewritten mid-run; every call is
answered with its own answer (none crossed, none lost). benchmarks/soak.py runs the same mix for minutes."""

from __future__ import annotations

import asyncio
import threading

import dspex
from reliability_support import flag, flag_doc

VARIANTS = {"native": "native", "dspy": "dspy", "shadow": "shadow"}


def _fractional(percent: int) -> dict:
    return {"state": "ENABLED", "variants": dict(VARIANTS), "defaultVariant": "dspy",
            "targeting": {"fractional": [["native", percent], ["dspy", 100 - percent]]}}


def test_threads_and_tasks_over_every_route_never_cross_or_lose_a_call(tmp_path, lm):
    path = tmp_path / "f.flagd.json"
    path.write_text(flag_doc(dspex__predict=_fractional(30), dspex__chain_of_thought=flag("shadow")))
    dspex.configure(lm=lm, flags=str(path), shadow={"log_path": str(tmp_path / "logs")})
    modules = [dspex.Predict("question -> answer"), dspex.ChainOfThought("question -> answer"),
               dspex.Predict("question -> answer", implementation="native"),
               dspex.Predict("question -> answer", implementation="dspy"),
               dspex.Predict("question -> answer", implementation="shadow")]
    results: list[tuple[str, object]] = []
    lock = threading.Lock()

    def record(question: str, answer: object) -> None:
        with lock:
            results.append((question, answer))

    def thread(n: int) -> None:
        for i in range(40):
            q = f"t{n}-{i}"
            with dspex.request(targeting_key=f"user-{(n * 40 + i) % 97}"):
                try:
                    record(q, modules[(n + i) % len(modules)](question=q).answer)
                except Exception as exc:  # noqa: BLE001 - recorded as a wrong answer
                    record(q, exc)
            if n == 0 and i == 20:   # a rollout step under load, by rename
                tmp = path.with_suffix(".tmp")
                tmp.write_text(flag_doc(dspex__predict=_fractional(70), dspex__chain_of_thought=flag("shadow")))
                tmp.replace(path)

    async def task(n: int) -> None:
        for i in range(4):
            q = f"a{n}-{i}"
            with dspex.request(targeting_key=f"user-{n % 97}"):
                try:
                    record(q, (await modules[(n + i) % len(modules)].acall(question=q)).answer)
                except Exception as exc:  # noqa: BLE001
                    record(q, exc)

    async def tasks() -> None:
        await asyncio.gather(*(task(n) for n in range(100)))

    workers = [threading.Thread(target=thread, args=(n,)) for n in range(8)]
    workers.append(threading.Thread(target=lambda: asyncio.run(tasks())))
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    dspex.shutdown(timeout=30)
    assert len(results) == 8 * 40 + 100 * 4                      # none lost
    wrong = [(q, a) for q, a in results if a != f"A:{q}"]
    assert wrong == []                                           # none crossed, none failed
