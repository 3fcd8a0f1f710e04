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


def test_bad_candidates_from_eight_threads(log_path):
    shadow.configure(timeout_s=0.3, workers=2, max_queue=1000)
    lm = ScriptedLM(delay_s=LM_DELAY, answer=lambda q: f"answer to {q}")
    control_module = dspy.Predict("question -> answer")
    native_module = dspy.Predict("question -> answer")
    release = threading.Event()

    def candidate(l, x):
        pred = native_module(question=f"q{x}", lm=l)
        if x in HANGS:
            release.wait(60)
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
        t0 = time.perf_counter()
        result = shadow.run_shadow(call)
        return x, result, time.perf_counter() - t0

    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(N)))
        assert shadow.shutdown(timeout=20)
    finally:
        release.set()

    # The caller saw only the control's answers, never a candidate's answer or error.
    for x, result, _ in results:
        assert isinstance(result, dspy.Prediction) and result.answer == f"answer to q{x}"
    # No call was slowed by a hanging candidate (they hang far longer than any call took).
    assert max(seconds for _, _, seconds in results) < 0.25
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
