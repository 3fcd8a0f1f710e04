"""Per (module type, module name, implementation) counters and latency samples, and per-model LM totals.

Latency percentiles come from the last :data:`SAMPLES` calls of each key (a ring, so memory is bounded and the
numbers describe recent traffic). Latency is split in two: *LM wait* (time inside dspex.LM requests made during
the call) and *own compute* (the rest: prompt building, parsing, routing, the module's own code).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import Any

__all__ = ["Collector", "SAMPLES", "percentiles"]

SAMPLES = 2048
Key = tuple[str, str | None, str]


def percentiles(values: Any) -> dict[str, float | None]:
    """p50 / p95 / p99 in milliseconds (nearest rank) of seconds ``values``."""
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p95": None, "p99": None}

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000, 4)

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99)}


class _Stats:
    __slots__ = ("calls", "errors", "fallbacks", "lm_calls", "input_tokens", "output_tokens", "total_tokens",
                 "cost", "costed", "total", "own", "lm")

    def __init__(self) -> None:
        self.calls = self.errors = self.fallbacks = self.lm_calls = 0
        self.input_tokens = self.output_tokens = self.total_tokens = 0
        self.cost, self.costed = 0.0, 0
        self.total: deque[float] = deque(maxlen=SAMPLES)
        self.own: deque[float] = deque(maxlen=SAMPLES)
        self.lm: deque[float] = deque(maxlen=SAMPLES)


class Collector:
    """Thread-safe; :meth:`record_call` is the only method on the request path (one lock, a few appends)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[Key, _Stats] = {}
        self._lm: dict[str, dict[str, Any]] = {}

    def record_call(self, key: Key, total: float, lm_wait: float, usage: list[Any], error: bool,
                    fallback: bool) -> None:
        with self._lock:
            s = self._calls.get(key)
            if s is None:
                s = self._calls[key] = _Stats()
            s.calls += 1
            s.errors += error
            s.fallbacks += fallback
            s.total.append(total)
            s.lm.append(lm_wait)
            s.own.append(max(0.0, total - lm_wait))
            s.lm_calls += usage[0]
            s.input_tokens += usage[1]
            s.output_tokens += usage[2]
            s.total_tokens += usage[3]
            if usage[5]:
                s.cost += usage[4]
                s.costed += usage[5]

    def record_lm(self, model: str, seconds: float, usage: dict[str, Any], cost: float | None, error: bool,
                  cached: bool) -> None:
        with self._lock:
            m = self._lm.get(model)
            if m is None:
                m = self._lm[model] = {"calls": 0, "errors": 0, "cache_hits": 0, "input_tokens": 0,
                                       "output_tokens": 0, "total_tokens": 0, "cost_usd": 0.0,
                                       "latency": deque(maxlen=SAMPLES)}
            m["calls"] += 1
            m["errors"] += error
            m["cache_hits"] += cached
            m["input_tokens"] += usage.get("prompt_tokens") or 0
            m["output_tokens"] += usage.get("completion_tokens") or 0
            m["total_tokens"] += usage.get("total_tokens") or 0
            m["cost_usd"] += cost or 0.0
            if not cached:
                m["latency"].append(seconds)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            modules = []
            for (mtype, name, impl), s in sorted(self._calls.items(), key=lambda kv: (kv[0][0], kv[0][1] or "",
                                                                                       kv[0][2])):
                modules.append({
                    "module_type": mtype, "module_name": name, "implementation": impl,
                    "calls": s.calls, "errors": s.errors, "fallbacks": s.fallbacks,
                    "latency_ms": {"total": percentiles(s.total), "own": percentiles(s.own),
                                   "lm_wait": percentiles(s.lm)},
                    "lm_calls": s.lm_calls,
                    "tokens": {"input": s.input_tokens, "output": s.output_tokens, "total": s.total_tokens},
                    "cost_usd": s.cost if s.costed else None,
                    "per_call": {"lm_calls": s.lm_calls / s.calls, "tokens": s.total_tokens / s.calls,
                                 "own_ms_mean": sum(s.own) / len(s.own) * 1000 if s.own else None},
                })
            lm = {model: {**{k: v for k, v in m.items() if k != "latency"}, "latency_ms": percentiles(m["latency"])}
                  for model, m in sorted(self._lm.items())}
            return {"modules": modules, "lm": lm}

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._lm.clear()
