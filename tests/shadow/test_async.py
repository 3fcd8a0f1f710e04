"""arun_shadow: the control is awaited, the candidate never blocks the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import dspy

import dspex.shadow as shadow
from shadow_support import divergence_lines


def test_async_control_awaited_and_candidate_off_the_loop(log_path, lm):
    control_module = dspy.Predict("question -> answer")

    on_loop_thread: list[str] = []

    async def main():
        ticks = 0
        stop = False
        loop_thread = threading.get_ident()

        async def ticker():
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0.005)

        def slow_candidate(l, q):
            if threading.get_ident() == loop_thread:
                on_loop_thread.append(q)
            time.sleep(0.1)                         # blocking: would freeze the loop if it ran there
            return control_module(question=q, lm=l)

        tick_task = asyncio.create_task(ticker())
        calls = [shadow.ShadowCall("predict", None, {"question": f"q{i}"}, lm,
                                   control=lambda l, i=i: control_module(question=f"q{i}", lm=l),
                                   candidate=lambda l, i=i: slow_candidate(l, f"q{i}"),
                                   acontrol=lambda l, i=i: control_module.acall(question=f"q{i}", lm=l),
                                   signature=control_module.signature) for i in range(10)]
        t0 = time.perf_counter()
        results = await asyncio.gather(*(shadow.arun_shadow(c) for c in calls))
        elapsed = time.perf_counter() - t0
        await asyncio.sleep(0.02)
        stop = True
        await tick_task
        return results, elapsed, ticks

    results, elapsed, ticks = asyncio.run(main())
    assert [r.answer for r in results] == [f"echo q{i}" for i in range(10)]
    assert on_loop_thread == []                     # no candidate ran on the event loop's thread
    assert elapsed < 0.8                            # ten 100 ms candidates (1 s in series) were not awaited
    assert ticks >= 3
    assert shadow.shutdown(timeout=10)
    assert shadow.stats()["matched"] == 10 and lm.calls == 10
    assert divergence_lines(log_path) == []


def test_async_control_exception_reraised_unchanged(log_path, lm):
    boom = RuntimeError("control failed")

    async def acontrol(l):
        raise boom

    call = shadow.ShadowCall("predict", None, {}, lm, control=lambda l: None, candidate=lambda l: "x",
                             acontrol=acontrol)

    async def main():
        try:
            await shadow.arun_shadow(call)
        except RuntimeError as exc:
            return exc

    assert asyncio.run(main()) is boom
    shadow.shutdown(timeout=5)
    (line,) = divergence_lines(log_path)
    assert line["control"]["error"]["message"] == "control failed"


def test_async_candidate_only(log_path, lm):
    async def acandidate(l):
        await asyncio.sleep(0)
        return "same"

    call = shadow.ShadowCall("predict", None, {}, lm, control=lambda l: "same", candidate=None,
                             acandidate=acandidate)
    assert shadow.run_shadow(call) == "same"
    shadow.shutdown(timeout=5)
    assert shadow.stats()["matched"] == 1
