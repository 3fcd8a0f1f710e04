"""``dspex.metrics``: what each module and implementation costs, from the calls this process made.

    dspex.metrics.enable()            # dspex.telemetry.instrument() (OpenTelemetry) turns it on too
    ...
    dspex.metrics.snapshot()          # plain dicts: per module type, name and implementation
    dspex.metrics.reset()

Per (module type, module name, implementation): calls, errors, fallbacks, latency p50/p95/p99 split into own
compute and LM wait (dspex.LM requests made during the call), LM calls, tokens and cost from the LM's usage; per
model: the dspex.LM requests themselves; shadow counters (compared, diverged, skipped with reasons, dropped,
timeouts) when shadow mode ran; the adaptive circuit's state when it is on. Off until enabled: a routed call
then pays one global read for all of it.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from ._collector import Collector, percentiles
from ._watch import LMMetrics, RouteMetrics, current

__all__ = ["enable", "disable", "enabled", "snapshot", "reset", "percentiles", "current_call", "route_watcher"]

_collector = Collector()
_route = RouteMetrics(_collector)
_lm = LMMetrics(_collector)
_lock = threading.Lock()
_users = 0


def enable() -> None:
    """Start collecting (idempotent per caller: each ``enable`` is undone by one ``disable``)."""
    global _users
    from dspex import telemetry
    from dspex.lm import add_observer

    with _lock:
        _users += 1
        telemetry.add_watcher(_route)
        add_observer(_lm)


def disable() -> None:
    """Undo one :func:`enable`; collection stops when the last user disables it (counts are kept)."""
    global _users
    from dspex import telemetry
    from dspex.lm import remove_observer

    with _lock:
        _users = max(0, _users - 1)
        if _users == 0:
            telemetry.remove_watcher(_route)
            remove_observer(_lm)


def enabled() -> bool:
    return _users > 0


def current_call() -> dict[str, Any] | None:
    """The routed call running in this context, so far: LM calls, wait, tokens and cost (None outside one)."""
    acc = current()
    if acc is None:
        return None
    return {"lm_calls": acc[0], "input_tokens": acc[1], "output_tokens": acc[2], "total_tokens": acc[3],
            "cost_usd": acc[4] if acc[5] else None, "lm_wait_s": acc[6]}


def route_watcher() -> Any:
    """The watcher metrics register (a watcher added after it sees its accumulator as :func:`current_call`)."""
    return _route


def reset() -> None:
    """Forget everything counted so far (collection stays on or off as it was)."""
    _collector.reset()


def _shadow() -> dict[str, Any] | None:
    shadow = sys.modules.get("dspex.shadow")
    if shadow is None:
        return None
    snap = shadow.stats()

    def counters(c: dict[str, Any]) -> dict[str, Any]:
        return {"compared": c.get("compared", 0), "matched": c.get("matched", 0), "diverged": c.get("diverged", 0),
                "candidate_errors": c.get("candidate_errors", 0), "timeouts": c.get("timeouts", 0),
                "dropped": c.get("dropped", 0),
                "skipped": {"sampled_out": c.get("sampled_out", 0), "no_lm": c.get("skipped", 0)}}

    return {**counters(snap), "pending": snap.get("pending", 0),
            "by_module": {k: counters(v) for k, v in snap.get("by_module", {}).items()}}


def snapshot() -> dict[str, Any]:
    """Everything counted so far, as plain dicts (JSON-ready)."""
    snap = _collector.snapshot()
    snap["enabled"] = enabled()
    snap["shadow"] = _shadow()
    router = sys.modules.get("dspex.router._runtime")
    circuit = getattr(getattr(router, "STATE", None), "circuit", None)
    snap["circuit"] = circuit.snapshot() if circuit is not None else None
    return snap
