"""Shadow counters, totals and per module, plus what the report needs that the log does not hold.

Matches are not logged, so the denominators (comparisons per module), per-field noise and a sample of paired
latencies live here and are written to the log as periodic ``stats`` lines.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

__all__ = ["ShadowStats", "COUNTERS"]

COUNTERS = (
    "compared", "matched", "diverged", "candidate_errors", "timeouts", "dropped", "sampled_out", "skipped",
    "noise_runs", "noise_diverged", "log_errors", "internal_errors",
)
_RESERVOIR = 256


class _Module:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.fields: Counter[str] = Counter()          # candidate divergences per field
        self.noise_fields: Counter[str] = Counter()    # control-vs-control divergences per field
        # (control_ms, candidate_ms[, control_lm_ms, candidate_lm_ms, control_lm_calls, candidate_lm_calls,
        #  control_tokens]) reservoir: paired durations and what the LM took of each
        self.latency: list[tuple[Any, ...]] = []
        self.seen = 0


class ShadowStats:
    """Thread-safe counters; ``bump`` is the only call on the request path (drops and sampling)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._modules: dict[tuple[str, str | None], _Module] = {}
        self._rng = random.Random()

    def _module(self, key: tuple[str, str | None]) -> _Module:
        m = self._modules.get(key)
        if m is None:
            m = self._modules[key] = _Module()
        return m

    def bump(self, key: tuple[str, str | None], counter: str, n: int = 1) -> int:
        """Add to a counter; returns the module's new ``compared`` count (for periodic stats lines)."""
        with self._lock:
            m = self._module(key)
            m.counts[counter] += n
            return m.counts["compared"]

    def record_comparison(self, key: tuple[str, str | None], outcome: str, fields: list[str],
                          control_ms: float, candidate_ms: float | None, costs: tuple[Any, ...] = ()) -> int:
        with self._lock:
            m = self._module(key)
            m.counts["compared"] += 1
            m.counts[outcome] += 1
            m.fields.update(fields)
            if candidate_ms is not None:
                m.seen += 1
                pair = (round(control_ms, 3), round(candidate_ms, 3),
                        *(round(c, 3) if isinstance(c, float) else c for c in costs))
                if len(m.latency) < _RESERVOIR:
                    m.latency.append(pair)
                else:
                    j = self._rng.randrange(m.seen)
                    if j < _RESERVOIR:
                        m.latency[j] = pair
            return m.counts["compared"]

    def record_noise(self, key: tuple[str, str | None], fields: list[str]) -> None:
        with self._lock:
            m = self._module(key)
            m.counts["noise_runs"] += 1
            if fields:
                m.counts["noise_diverged"] += 1
            m.noise_fields.update(fields)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            totals: Counter[str] = Counter()
            by_module: dict[str, Any] = {}
            for (mtype, name), m in self._modules.items():
                totals.update(m.counts)
                label = mtype if name is None else f"{mtype}:{name}"
                by_module[label] = {c: m.counts[c] for c in COUNTERS} | {
                    "fields": dict(m.fields), "noise_fields": dict(m.noise_fields)}
            return {c: totals[c] for c in COUNTERS} | {"by_module": by_module}

    def module_lines(self) -> list[dict[str, Any]]:
        """One ``stats`` payload per module (cumulative since this runtime started)."""
        with self._lock:
            return [
                {"module_type": mtype, "module_name": name, "counts": {c: m.counts[c] for c in COUNTERS},
                 "fields": dict(m.fields), "noise_fields": dict(m.noise_fields), "latency_ms": list(m.latency)}
                for (mtype, name), m in self._modules.items()
            ]

    def module_line(self, key: tuple[str, str | None]) -> dict[str, Any]:
        with self._lock:
            m = self._module(key)
            return {"module_type": key[0], "module_name": key[1], "counts": {c: m.counts[c] for c in COUNTERS},
                    "fields": dict(m.fields), "noise_fields": dict(m.noise_fields), "latency_ms": list(m.latency)}
