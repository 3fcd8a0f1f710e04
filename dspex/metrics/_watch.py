"""How metrics see a routed call and the LM calls inside it.

The route watcher opens an accumulator (a contextvar, so it follows the call into its coroutine) at the start of
each routed call; the LM observer adds each dspex.LM request to the innermost open accumulator (wait time, tokens,
cost); at the end the call is recorded with its own compute = total - LM wait. A nested routed call hands its LM
totals up to its parent, whose own compute then excludes them too. LMs other than dspex.LM are not observed:
their time counts as the module's own.
"""

from __future__ import annotations

import contextvars
import time
from typing import Any, Mapping

from ._collector import Collector

__all__ = ["RouteMetrics", "LMMetrics", "current"]

# [lm_calls, input_tokens, output_tokens, total_tokens, cost, costed_calls, lm_wait_seconds]
_current: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("dspex_metrics_call", default=None)


def current() -> list[Any] | None:
    return _current.get()


class RouteMetrics:
    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def start(self, module: Any, operation: str) -> Any:
        acc = [0, 0, 0, 0, 0.0, 0, 0.0]
        return time.perf_counter(), acc, _current.set(acc)

    def end(self, token: Any, module: Any, operation: str, decision: Any, info: Mapping[str, Any],
            error: BaseException | None) -> None:
        start, acc, ctx_token = token
        total = time.perf_counter() - start
        try:
            _current.reset(ctx_token)
        except ValueError:   # ended in another context (a generator finished elsewhere): leave it be
            pass
        parent = _current.get()
        if parent is not None:
            for i in range(7):
                parent[i] += acc[i]
        impl = info.get("implementation") or (decision.implementation if decision is not None else "unrouted")
        key = (type(module).module_type, module._dspex.name, impl)
        self.collector.record_call(key, total, acc[6], acc, error is not None, "fallback" in info)


class LMMetrics:
    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def lm_start(self, lm: Any, payload: dict[str, Any], streaming: bool) -> float:
        return time.perf_counter()

    def lm_end(self, token: Any, lm: Any, response: dict[str, Any] | None, usage: dict[str, Any],
               cost: float | None, error: BaseException | None, cached: bool) -> None:
        seconds = time.perf_counter() - token if token is not None else 0.0
        self.collector.record_lm(getattr(lm, "model", "?"), seconds, usage, cost, error is not None, cached)
        acc = _current.get()
        if acc is not None:
            acc[0] += 1
            acc[1] += usage.get("prompt_tokens") or 0
            acc[2] += usage.get("completion_tokens") or 0
            acc[3] += usage.get("total_tokens") or 0
            if cost is not None:
                acc[4] += cost
                acc[5] += 1
            acc[6] += seconds
