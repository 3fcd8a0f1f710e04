"""dspex.metrics: per module type, name and implementation, from real routed calls over a loopback LM."""

from __future__ import annotations

from typing import Any

import pytest

import dspex
import dspex.metrics
from telemetry_support import write_flags


def _row(snap: dict[str, Any], impl: str, name: str | None = None) -> dict[str, Any]:
    rows = [r for r in snap["modules"] if r["implementation"] == impl and r["module_name"] == name]
    assert len(rows) == 1, snap["modules"]
    return rows[0]


def test_nothing_is_counted_until_enabled(lm: Any) -> None:
    dspex.configure(lm=lm)
    dspex.Predict("question -> answer", implementation="native")(question="q")
    assert dspex.metrics.snapshot()["modules"] == [] and not dspex.metrics.enabled()


def test_per_implementation_counts_latency_split_tokens_and_cost(server: Any) -> None:
    lm = dspex.LM("openai/test", api_base=server.api_base, api_key="k", cache=False,
                  pricing={"input": 1_000_000.0, "output": 2_000_000.0})   # $1 / $2 a token: easy to check
    dspex.configure(lm=lm)
    dspex.metrics.enable()
    native = dspex.Predict("question -> answer", implementation="native", name="qa")
    via_dspy = dspex.Predict("question -> answer", implementation="dspy", name="qa")
    for i in range(4):
        assert native(question=f"n{i}").answer == f"A:n{i}"
    for i in range(3):
        assert via_dspy(question=f"d{i}").answer == f"A:d{i}"
    snap = dspex.metrics.snapshot()
    n, d = _row(snap, "native", "qa"), _row(snap, "dspy", "qa")
    assert (n["calls"], n["errors"], n["fallbacks"], n["lm_calls"]) == (4, 0, 0, 4)
    assert (d["calls"], d["lm_calls"]) == (3, 3)
    assert n["tokens"] == {"input": 4, "output": 4, "total": 8} and n["cost_usd"] == pytest.approx(12.0)
    for row in (n, d):
        lat = row["latency_ms"]
        assert lat["total"]["p50"] >= lat["lm_wait"]["p50"] > 0 and lat["own"]["p50"] >= 0
        assert lat["total"]["p50"] <= lat["total"]["p95"] <= lat["total"]["p99"]
    assert snap["lm"]["openai/test"]["calls"] == 7 and snap["lm"]["openai/test"]["total_tokens"] == 14
    dspex.metrics.reset()
    assert dspex.metrics.snapshot()["modules"] == []


def test_errors_and_fallbacks_are_counted(lm: Any) -> None:
    class Broken:
        def __init__(self, *a: Any, **k: Any) -> None: ...

        def __call__(self, **kw: Any) -> Any:
            raise RuntimeError("native bug")

    import dspy

    class DSPyEcho(dspy.Module):
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__()

        def forward(self, **kw: Any) -> Any:
            return dspy.Prediction(answer="dspy")

    Mod = dspex.register("metrics_flaky", native=Broken, dspy=DSPyEcho)
    dspex.configure(lm=lm, module_overrides={"metrics_flaky": "native"})
    dspex.metrics.enable()
    m = Mod()
    assert m().answer == "dspy"                         # fallback: DSPy answered
    with pytest.raises(RuntimeError):
        Mod(implementation="native")()                  # forced: the error reaches the caller
    snap = dspex.metrics.snapshot()
    fell = _row(snap, "dspy")
    assert (fell["calls"], fell["fallbacks"], fell["errors"]) == (1, 1, 0)
    failed = _row(snap, "native")
    assert (failed["calls"], failed["errors"]) == (1, 1)


def test_shadow_counters_appear(lm: Any, tmp_path: Any) -> None:
    dspex.configure(lm=lm, shadow={"log_path": str(tmp_path / "logs"), "sample_rate": 1.0})
    dspex.metrics.enable()
    p = dspex.Predict("question -> answer", implementation="shadow", name="sh")
    for i in range(3):
        p(question=f"s{i}")
    dspex.shutdown(timeout=10)
    snap = dspex.metrics.snapshot()
    assert _row(snap, "shadow", "sh")["calls"] == 3
    shadow = snap["shadow"]
    assert shadow["compared"] == 3 and shadow["diverged"] == 0 and shadow["dropped"] == 0
    assert set(shadow["skipped"]) == {"sampled_out", "no_lm"}


def _failing_native(state: dict[str, Any]) -> Any:
    import time

    class Native:
        def __init__(self, *a: Any, **k: Any) -> None: ...

        def __call__(self, **kw: Any) -> Any:
            if state.get("sleep"):
                time.sleep(state["sleep"])
            if state["fail"](kw["i"]):
                raise RuntimeError("flaky native")
            return "native"

    return Native


def test_adaptive_error_rate_opens_the_circuit_and_held_out_calls_go_to_dspy() -> None:
    state = {"fail": lambda i: i % 3 == 0}     # a third of native calls fail, never three in a row
    Mod = dspex.register("metrics_rate", native=_failing_native(state), dspy=lambda *a, **k: (lambda **kw: "dspy"))
    dspex.configure(module_overrides={"metrics_rate": "native"},
                    adaptive={"enabled": True, "failure_threshold": 50, "window": 30, "min_calls": 30,
                              "max_error_rate": 0.25, "reset_after_s": 60})
    seen: list[Any] = []
    detach = dspex.telemetry.attach("dspex.router.route", lambda e, m, md: seen.append(dict(md)))
    try:
        m = Mod()
        for i in range(30):
            m(i=i)
        held_out = [m(i=1000 + i) for i in range(20)]    # calls made after the window closed: none go native
    finally:
        detach()
    assert held_out == ["dspy"] * 20
    assert "error_rate: 10 of the last 30 native calls failed (33% >= 25%)" in seen[-1]["reason"]
    assert dspex.router.metrics()["metrics_rate"]["opened_by"].startswith("error_rate")


def test_adaptive_latency_slo_opens_the_circuit() -> None:
    state = {"fail": lambda i: False, "sleep": 0.02}
    Mod = dspex.register("metrics_slow", native=_failing_native(state), dspy=lambda *a, **k: (lambda **kw: "dspy"))
    dspex.configure(module_overrides={"metrics_slow": "native"},
                    adaptive={"enabled": True, "window": 10, "min_calls": 10, "latency_slo_ms": 5,
                              "latency_quantile": 0.9, "reset_after_s": 60})
    m = Mod()
    first = [m(i=i) for i in range(10)]
    held_out = [m(i=100 + i) for i in range(5)]
    assert first == ["native"] * 10 and held_out == ["dspy"] * 5
    why = dspex.router.metrics()["metrics_slow"]["opened_by"]
    assert why.startswith("latency_slo: p90 ") and why.endswith("over the last 10 native calls > 5 ms")


def test_flags_file_routes_are_counted_per_variant(lm: Any, tmp_path: Any) -> None:
    flags = write_flags(tmp_path / "f.flagd.json", {"dspex.predict": {
        "state": "ENABLED", "variants": {"native": "native", "dspy": "dspy"}, "defaultVariant": "dspy",
        "targeting": {"fractional": [["native", 50], ["dspy", 50]]}}})
    dspex.configure(lm=lm, flags=flags)
    dspex.metrics.enable()
    p = dspex.Predict("question -> answer")
    for i in range(40):
        with dspex.request(targeting_key=f"user-{i}"):
            p(question=f"q{i}")
    rows = {r["implementation"]: r["calls"] for r in dspex.metrics.snapshot()["modules"]}
    assert sum(rows.values()) == 40 and rows.get("native", 0) > 5 and rows.get("dspy", 0) > 5
