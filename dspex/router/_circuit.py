"""Adaptive routing: a per-module circuit that sends traffic to DSPy after N consecutive native failures.

Off by default (``adaptive.enabled``). When open, routing decisions that would go native go to DSPy with reason
``circuit open``; after ``reset_after_s`` one call is let through to native (half-open): success closes the
circuit, failure re-opens it. Forced implementations (``implementation=``) bypass the circuit.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from dspex import telemetry

__all__ = ["Circuit", "ModuleMetrics"]


@dataclass
class ModuleMetrics:
    calls: int = 0
    native_failures: int = 0
    consecutive_failures: int = 0
    fallbacks: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False


class Circuit:
    def __init__(self, failure_threshold: int = 5, reset_after_s: float = 60.0) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._metrics: dict[str, ModuleMetrics] = {}
        self._lock = threading.Lock()

    def _m(self, key: str) -> ModuleMetrics:
        m = self._metrics.get(key)
        if m is None:
            m = self._metrics.setdefault(key, ModuleMetrics())
        return m

    def allows_native(self, key: str) -> bool:
        m = self._metrics.get(key)
        if m is None or m.opened_at is None:
            return True
        with self._lock:
            if time.monotonic() - m.opened_at >= self.reset_after_s and not m.trial_in_flight:
                m.trial_in_flight = True   # half-open: exactly one trial call goes native
                return True
            return False

    def record_success(self, key: str) -> None:
        m = self._metrics.get(key)
        if m is not None and (m.consecutive_failures or m.opened_at is not None):
            with self._lock:
                was_open = m.opened_at is not None
                m.consecutive_failures, m.opened_at, m.trial_in_flight = 0, None, False
            if was_open and telemetry.has_listeners("dspex.router.circuit"):
                telemetry.emit("dspex.router.circuit", {}, {"module": key, "state": "closed"})

    def record_failure(self, key: str) -> None:
        with self._lock:
            m = self._m(key)
            m.native_failures += 1
            m.consecutive_failures += 1
            opened = m.consecutive_failures >= self.failure_threshold and (m.opened_at is None or m.trial_in_flight)
            if opened:
                m.opened_at, m.trial_in_flight = time.monotonic(), False
        if opened and telemetry.has_listeners("dspex.router.circuit"):
            telemetry.emit("dspex.router.circuit", {"consecutive_failures": float(m.consecutive_failures)},
                           {"module": key, "state": "open"})

    def snapshot(self) -> dict[str, dict[str, object]]:
        with self._lock:
            return {k: dict(vars(m)) for k, m in self._metrics.items()}
