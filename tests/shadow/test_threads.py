"""A user's module shadowed from 8 threads: wrong, raising and hanging candidates never touch the caller."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import dspy

import dspex.shadow as shadow
from shadow_support import ScriptedLM, divergence_lines, read_lines

N = 200
WRONG = {x for x in range(N) if x % 10 == 3}
RAISES = {x for x in range(N) if x % 10 == 7}
HANGS = {11, 55, 99}
LM_DELAY = 0.005
TIMEOUT_S = 2.0


def test_bad_candidates_from_eight_threads(log_path):
    shadow.configure(timeout_s=TIMEOUT_S, workers=2, max_queue=1000)
    lm = ScriptedLM(delay_s=LM_DELAY, answer=lambda q: f"answer to {q}")
    control_module = dspy.Predict("question -> answer")
    native_module = dspy.Predict("question -> answer")
    release = threading.Event()
    finished = {x: threading.Event() for x in HANGS}
    on_caller_thread: list[int] = []
    caller = threading.local()

    def candidate(l, x):
        if getattr(caller, "is_caller", False):
            on_caller_thread.append(x)
        pred = native_module(question=f"q{x}", lm=l)
        if x in HANGS:
            release.wait(60)
            finished[x].set()
        if x in RAISES:
            raise ValueError(f"native cannot handle q{x}")
        if x in WRONG:
            return dspy.Prediction(answer=f"WRONG {x}")
        return pred

    def one(x):
        call = shadow.ShadowCall(
            module_type="my_rag", module_name="rag", inputs={"question": f"q{x}"}, lm=lm,
            control=lambda l: control_module(question=f"q{x}", lm=l),
            candidate=lambda l: candidate(l, x), signature=control_module.signature,
            variant="shadow", reason="flag variant", targeting_key=f"user-{x}", flag_key="dspex.my_rag",
        )
        caller.is_caller = True
        t0 = time.perf_counter()
        result = shadow.run_shadow(call)
        seconds = time.perf_counter() - t0
        # The caller got its answer while its own candidate was still hanging: it never waited for it.
        still_hanging = x in HANGS and not finished[x].is_set()
        return x, result, still_hanging, seconds

    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(N)))
        assert shadow.shutdown(timeout=20)
    finally:
        release.set()

    # The caller saw only the control's answers, never a candidate's answer or error.
    for x, result, _, _ in results:
        assert isinstance(result, dspy.Prediction) and result.answer == f"answer to q{x}"
    # No call was held up by a hanging candidate: each returned while its candidate still hung,
    # and no candidate ever ran on a caller's thread.
    assert sorted(x for x, _, still_hanging, _ in results if still_hanging) == sorted(HANGS)
    assert on_caller_thread == []
    # ... nor waited out the candidate timeout (a generous bound: one call takes ~LM_DELAY).
    assert max(seconds for _, _, _, seconds in results) < TIMEOUT_S / 2
    assert lm.calls == N

    lines = divergence_lines(log_path)       # read_lines raises on a torn line
    by_kind: dict[str, list[int]] = {}
    for r in lines:
        by_kind.setdefault(r["kind"], []).append(int(r["inputs"]["question"][1:]))
    assert sorted(by_kind["divergence"]) == sorted(WRONG)            # each wrong answer exactly once
    assert sorted(by_kind["candidate_error"]) == sorted(RAISES)      # each error exactly once
    assert sorted(by_kind["timeout"]) == sorted(HANGS)
    assert set(by_kind) == {"divergence", "candidate_error", "timeout"}   # matches never logged
    wrong = next(r for r in lines if r["kind"] == "divergence")
    assert wrong["differences"]["answer"]["candidate"].startswith("WRONG")
    assert wrong["module_name"] == "rag" and wrong["variant"] == "shadow" and wrong["reason"] == "flag variant"
    err = next(r for r in lines if r["kind"] == "candidate_error")
    assert err["candidate"]["error"]["type"] == "ValueError" and "native cannot handle" in err["candidate"]["error"]["message"]

    s = shadow.stats()
    assert s["timeouts"] == len(HANGS)
    assert s["candidate_errors"] == len(RAISES) and s["diverged"] == len(WRONG)
    assert s["compared"] == N - len(HANGS)
    assert s["matched"] == N - len(HANGS) - len(RAISES) - len(WRONG)
    assert s["dropped"] == 0
    assert all(r["kind"] for r in read_lines(log_path))
