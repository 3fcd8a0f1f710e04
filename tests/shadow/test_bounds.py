"""Bounds: sticky sampling, a full queue drops (and says so), timeouts never starve the pool, drain on shutdown."""

from __future__ import annotations

import threading
import time

import dspex.shadow as shadow
import dspex.telemetry as telemetry
from shadow_support import divergence_lines


def _call(key, candidate=lambda l: "x", control=lambda l: "x", lm="lm", module_type="predict"):
    return shadow.ShadowCall(module_type, None, {"k": key}, lm, control, candidate, targeting_key=key)


def test_sampling_is_sticky_per_targeting_key(log_path):
    shadow.configure(sample_rate=0.3)
    for key in (f"user-{i}" for i in range(400)):
        shadow.run_shadow(_call(key))
    shadow.shutdown(timeout=5)
    s1 = shadow.stats()
    sampled_once = 400 - s1["sampled_out"]
    assert 80 <= sampled_once <= 160                         # ~30% of 400 keys
    for key in (f"user-{i}" for i in range(400)):             # the same keys again: exactly the same share
        shadow.run_shadow(_call(key))
    shadow.shutdown(timeout=5)
    assert shadow.stats()["sampled_out"] == 2 * s1["sampled_out"]
    assert shadow.stats()["compared"] == 2 * sampled_once


def test_sampled_out_calls_use_the_raw_lm(log_path):
    shadow.configure(sample_rate=0.0)
    seen = []
    shadow.run_shadow(_call("k", control=lambda l: seen.append(l) or "x", lm="THE-LM"))
    assert seen == ["THE-LM"]


def test_full_queue_drops_counts_and_emits(log_path):
    shadow.configure(max_queue=2, workers=1, timeout_s=5)
    gate = threading.Event()
    events = []
    detach = telemetry.attach("dspex.shadow.dropped", lambda e, m, md: events.append((e, md)))
    try:
        results = [shadow.run_shadow(_call(f"k{i}", candidate=lambda l: gate.wait(5) and "x")) for i in range(10)]
        assert results == ["x"] * 10
        s = shadow.stats()
        assert s["dropped"] >= 7                     # one running, two queued, the rest dropped
        assert len(events) == s["dropped"]
        assert events[0][1]["module_type"] == "predict" and events[0][1]["reason"] == "queue_full"
    finally:
        gate.set()
        detach()
    shadow.shutdown(timeout=5)
    assert shadow.stats()["compared"] + shadow.stats()["dropped"] == 10


def test_hung_candidate_never_starves_the_pool(log_path):
    shadow.configure(workers=1, timeout_s=0.2)
    release = threading.Event()
    try:
        shadow.run_shadow(_call("hang", candidate=lambda l: release.wait(30) and "x"))
        for i in range(5):
            shadow.run_shadow(_call(f"ok{i}"))
        t0 = time.monotonic()
        assert shadow.shutdown(timeout=5)
        assert time.monotonic() - t0 < 2.0
        s = shadow.stats()
        assert (s["timeouts"], s["compared"], s["matched"]) == (1, 5, 5)
        (line,) = divergence_lines(log_path)
        assert line["kind"] == "timeout" and line["candidate"]["error"]["type"] == "TimeoutError"
    finally:
        release.set()


def test_shutdown_drains_pending_work(log_path):
    shadow.configure(workers=2)
    for i in range(10):
        shadow.run_shadow(_call(f"k{i}", candidate=lambda l: time.sleep(0.05) or "x"))
    assert shadow.stats()["compared"] < 10
    assert shadow.shutdown(timeout=10) is True
    assert shadow.stats()["compared"] == 10


def test_shutdown_reports_undrained_work(log_path):
    release = threading.Event()
    shadow.configure(workers=1, timeout_s=30)
    try:
        shadow.run_shadow(_call("slow", candidate=lambda l: release.wait(10) and "x"))
        assert shadow.shutdown(timeout=0.1) is False
    finally:
        release.set()


def test_counters_add_up(log_path):
    """Counters add up: every shadowed call is compared, timed out or dropped."""
    shadow.configure(workers=2, timeout_s=0.1)
    for i in range(20):
        shadow.run_shadow(_call(f"k{i}", candidate=(lambda l: time.sleep(0.3) or "x") if i % 5 == 0 else (lambda l: "y")))
    shadow.shutdown(timeout=10)
    s = shadow.stats()
    assert s["compared"] + s["timeouts"] + s["dropped"] == 20
    assert s["timeouts"] == 4 and s["diverged"] == 16
