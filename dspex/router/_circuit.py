"""Adaptive routing: a per-module-type circuit that sends traffic to DSPy while native misbehaves.

Off by default (``adaptive.enabled``). Three rules open it, each named in the routing reason and the
``dspex.router.circuit`` event:

- ``consecutive_failures``: ``failure_threshold`` native failures in a row;
- ``error_rate``: over the last ``window`` native calls (once ``min_calls`` were seen), the share that failed is
  at least ``max_error_rate``;
- ``latency_slo``: over the same window, the ``latency_quantile`` of native call latency exceeds
  ``latency_slo_ms``.

When open, decisions that would go native go to DSPy; after ``reset_after_s`` one call is let through to native
(half-open): success closes the circuit and clears the window, failure (or a breached SLO) re-opens it. Forced
implementations (``implementation=``) bypass the circuit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from dspex import telemetry

__all__ = ["Circuit", "ModuleMetrics", "Denied"]


class Denied:
    """``allows_native``'s no: falsy, and says which rule holds the circuit open."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __bool__(self) -> bool:
        return False


@dataclass
class ModuleMetrics:
    calls: int = 0
    native_failures: int = 0
    consecutive_failures: int = 0
    fallbacks: int = 0
    opened_at: float | None = None
    opened_by: str | None = None
    trial_in_flight: bool = False
    window: deque = field(default_factory=deque)   # (ok, seconds or None) of the last native calls


class Circuit:
    def __init__(self, failure_threshold: int = 5, reset_after_s: float = 60.0, window: int = 100,
                 min_calls: int = 20, max_error_rate: float | None = None, latency_slo_ms: float | None = None,
                 latency_quantile: float = 0.95) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self.window = window
        self.min_calls = min_calls
        self.max_error_rate = max_error_rate
        self.latency_slo_ms = latency_slo_ms
        self.latency_quantile = latency_quantile
        self._metrics: dict[str, ModuleMetrics] = {}
        self._lock = threading.Lock()

    def _m(self, key: str) -> ModuleMetrics:
        m = self._metrics.get(key)
        if m is None:
            m = self._metrics.setdefault(key, ModuleMetrics(window=deque(maxlen=self.window)))
        return m

    def allows_native(self, key: str) -> bool | Denied:
        m = self._metrics.get(key)
        if m is None or m.opened_at is None:
            return True
        with self._lock:
            if time.monotonic() - m.opened_at >= self.reset_after_s and not m.trial_in_flight:
                m.trial_in_flight = True   # half-open: exactly one trial call goes native
                return True
            return Denied(m.opened_by or "open")

    # --- outcomes ---------------------------------------------------------------------------------------------
    def record_success(self, key: str, seconds: float | None = None) -> None:
        closed = False
        with self._lock:
            m = self._m(key)
            m.calls += 1
            m.window.append((True, seconds))
            if m.trial_in_flight:
                breach = self._latency_breach([(True, seconds)], force=True)
                if breach is not None:
                    self._open(m, breach)
                    opened = breach
                else:
                    m.consecutive_failures, m.opened_at, m.opened_by, m.trial_in_flight = 0, None, None, False
                    m.window.clear()
                    opened, closed = None, True
            else:
                m.consecutive_failures = 0
                opened = self._check(m) if m.opened_at is None else None
        self._report(key, m, opened, closed)

    def record_failure(self, key: str, seconds: float | None = None) -> None:
        with self._lock:
            m = self._m(key)
            m.calls += 1
            m.native_failures += 1
            m.consecutive_failures += 1
            m.window.append((False, seconds))
            opened = None
            if m.opened_at is None or m.trial_in_flight:
                opened = self._check(m) or ("trial call failed" if m.trial_in_flight else None)
                if opened is not None:
                    self._open(m, opened)
        self._report(key, m, opened, False)

    # --- rules ------------------------------------------------------------------------------------------------
    def _check(self, m: ModuleMetrics) -> str | None:
        """The first rule that holds, worded for the routing reason; opens the circuit when one does."""
        why = None
        if m.consecutive_failures >= self.failure_threshold:
            why = f"consecutive_failures: {m.consecutive_failures} native failures in a row >= {self.failure_threshold}"
        elif len(m.window) >= self.min_calls and self.max_error_rate is not None:
            failed = sum(1 for ok, _ in m.window if not ok)
            rate = failed / len(m.window)
            if rate >= self.max_error_rate:
                why = (f"error_rate: {failed} of the last {len(m.window)} native calls failed ({rate:.0%} >= "
                       f"{self.max_error_rate:.0%})")
        if why is None and len(m.window) >= self.min_calls:
            why = self._latency_breach(m.window)
        if why is not None:
            self._open(m, why)
        return why

    def _latency_breach(self, window: object, force: bool = False) -> str | None:
        if self.latency_slo_ms is None:
            return None
        times = sorted(s for ok, s in window if ok and s is not None)   # type: ignore[attr-defined]
        if not times:
            return None
        q = times[min(len(times) - 1, max(0, math.ceil(self.latency_quantile * len(times)) - 1))] * 1000
        if q <= self.latency_slo_ms:
            return None
        label = f"p{self.latency_quantile * 100:g}"
        scope = "the trial call" if force else f"the last {len(times)} native calls"
        return f"latency_slo: {label} {q:.1f} ms over {scope} > {self.latency_slo_ms:g} ms"

    @staticmethod
    def _open(m: ModuleMetrics, why: str) -> None:
        m.opened_at, m.opened_by, m.trial_in_flight = time.monotonic(), why, False

    @staticmethod
    def _report(key: str, m: ModuleMetrics, opened: str | None, closed: bool) -> None:
        if (opened or closed) and telemetry.has_listeners("dspex.router.circuit"):
            telemetry.emit("dspex.router.circuit", {"consecutive_failures": float(m.consecutive_failures)},
                           {"module": key, "state": "open" if opened else "closed", "rule": opened})

    def snapshot(self) -> dict[str, dict[str, object]]:
        with self._lock:
            out = {}
            for k, m in self._metrics.items():
                failed = sum(1 for ok, _ in m.window if not ok)
                out[k] = {"calls": m.calls, "native_failures": m.native_failures,
                          "consecutive_failures": m.consecutive_failures, "fallbacks": m.fallbacks,
                          "opened_at": m.opened_at, "opened_by": m.opened_by, "trial_in_flight": m.trial_in_flight,
                          "window_calls": len(m.window), "window_error_rate": failed / len(m.window) if m.window else 0.0}
            return out
