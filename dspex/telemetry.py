"""In-process telemetry: ``attach(event, handler)`` and ``emit(event, measurements, metadata)``; route watchers.

Why a tiny module of our own: the router emits an event on every call, so the cost when nobody listens must be
one global read (:data:`watching` is None), and a handler that raises must never break the call that emitted the
event. Shadow mode emits its events through the same module.

Events: ``dspex.router.route``, ``dspex.router.fallback``, ``dspex.router.flags`` (flag source trouble, once per
episode), ``dspex.router.circuit``, ``dspex.shadow.divergence``, ``dspex.shadow.dropped``. ``"*"`` subscribes to
every event. Handlers are called ``handler(event, measurements, metadata)``; ``metadata`` is read-only (the same
mapping may be handed to many calls).

Watchers see each routed call start and end (``dspex.metrics``, the OpenTelemetry instrumentation, and the
``dspex.router.route`` event itself); :data:`watching` holds them, or None. :func:`instrument` turns on
OpenTelemetry (the ``dspex[otel]`` extra): a span per routed call, LM child spans, metric instruments.
"""

from __future__ import annotations

import logging
import threading
import time
from types import MappingProxyType
from typing import Any, Callable, Mapping, Protocol

__all__ = ["attach", "emit", "has_listeners", "bridge_opentelemetry", "instrument", "Handler", "Watcher",
           "add_watcher", "remove_watcher", "watching", "route_event", "clock"]

Handler = Callable[[str, Mapping[str, float], Mapping[str, Any]], None]

_log = logging.getLogger("dspex.telemetry")
_lock = threading.Lock()
# Read without the lock on the hot path: the dicts are replaced wholesale on every change (copy-on-write).
_handlers: dict[str, tuple[Handler, ...]] = {}
_targets: dict[str, tuple[Handler, ...]] = {}    # event -> its handlers and the "*" handlers, precomputed
_route_handlers: tuple[Handler, ...] = ()         # _targets' entry for dspex.router.route, read on every routed call
_reported: set[int] = set()
_ROUTE = "dspex.router.route"
_now = time.perf_counter
clock = _now   # the clock of route-event tokens: the router reads it itself when the route event is the only watcher


class Watcher(Protocol):
    """Sees every routed call: ``start`` before the routing decision, ``end`` after the call (or its error)."""

    def start(self, module: Any, operation: str) -> Any: ...

    def end(self, token: Any, module: Any, operation: str, decision: Any, info: Mapping[str, Any],
            error: BaseException | None) -> None: ...


_watchers: tuple[Watcher, ...] = ()
watching: Watcher | None = None   # what the router calls; None when no watcher and no route listener


def _republish() -> None:
    """Recompute :data:`_targets` and :data:`watching` after any change (under the lock)."""
    global _targets, watching, _route_handlers
    star = _handlers.get("*", ())
    _targets = {event: handlers + (star if event != "*" else ()) for event, handlers in _handlers.items()}
    _route_handlers = _targets.get(_ROUTE, star)
    active = _watchers + ((_ROUTE_EVENT,) if (_ROUTE in _handlers or star) else ())
    watching = None if not active else active[0] if len(active) == 1 else _Fanout(active)


def attach(event: str, handler: Handler) -> Callable[[], None]:
    """Subscribe ``handler`` to ``event`` (or ``"*"``); returns a function that detaches it (idempotent)."""
    global _handlers
    if not callable(handler):
        raise TypeError(f"A telemetry handler must be callable as handler(event, measurements, metadata); got {handler!r}.")
    with _lock:
        new = dict(_handlers)
        new[event] = new.get(event, ()) + (handler,)
        _handlers = new
        _republish()

    def detach() -> None:
        global _handlers
        with _lock:
            current = _handlers.get(event, ())
            if handler not in current:
                return
            idx = current.index(handler)
            new = dict(_handlers)
            remaining = current[:idx] + current[idx + 1 :]
            if remaining:
                new[event] = remaining
            else:
                new.pop(event, None)
            _handlers = new
            _republish()

    return detach


def add_watcher(watcher: Watcher) -> None:
    global _watchers
    with _lock:
        if watcher not in _watchers:
            _watchers = _watchers + (watcher,)
            _republish()


def remove_watcher(watcher: Watcher) -> None:
    global _watchers
    with _lock:
        _watchers = tuple(w for w in _watchers if w is not watcher)
        _republish()


def has_listeners(event: str) -> bool:
    """True when someone listens to ``event`` (or to everything): build metadata only then."""
    h = _handlers
    return event in h or "*" in h


def emit(event: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
    """Call every handler of ``event`` and of ``"*"``; a raising handler is logged once and otherwise ignored."""
    targets = _targets.get(event)
    if targets is None:
        targets = _handlers.get("*", ())
    for handler in targets:
        try:
            handler(event, measurements, metadata)
        except Exception:  # a subscriber's bug must never break the call that emitted the event
            key = id(handler)
            if key not in _reported:
                _reported.add(key)
                _log.exception("dspex telemetry handler %r raised on %s; further errors from it are silenced", handler, event)


class _Fanout:
    def __init__(self, watchers: tuple[Watcher, ...]) -> None:
        self.watchers = watchers

    def start(self, module: Any, operation: str) -> Any:
        return [w.start(module, operation) for w in self.watchers]

    def end(self, token: Any, module: Any, operation: str, decision: Any, info: Mapping[str, Any],
            error: BaseException | None) -> None:
        for w, t in zip(reversed(self.watchers), reversed(token)):   # nested like context managers
            w.end(t, module, operation, decision, info, error)


class _RouteEvent:
    """Emits ``dspex.router.route``. A call that routes like the last one of its module (the same cached
    decision and operation, no error, no fallback) reuses that call's metadata mapping, kept on the module's
    routing, and the handlers are called inline: what a subscribed no-op handler adds to a call is measured by
    ``benchmarks/routing.py`` (target: at most a microsecond)."""

    def start(self, module: Any, operation: str) -> float:
        return _now()

    def end(self, token: float, module: Any, operation: str, decision: Any, info: Mapping[str, Any],
            error: BaseException | None) -> None:
        measurements = {"duration": _now() - token}
        r = module._dspex
        hit = r.route_meta
        if hit is None or hit[0] is not decision or hit[1] != operation or info or error is not None:
            if decision is None:
                return   # the routing decision itself raised: nothing routed
            meta = self._metadata(r, module, operation, decision, info, error)
        else:
            meta = hit[2]
        for handler in _route_handlers:
            try:
                handler(_ROUTE, measurements, meta)
            except Exception:  # a subscriber's bug must never break the call that emitted the event
                if id(handler) not in _reported:
                    _reported.add(id(handler))
                    _log.exception("dspex telemetry handler %r raised on %s; further errors from it are silenced",
                                   handler, _ROUTE)

    @staticmethod
    def _metadata(r: Any, module: Any, operation: str, decision: Any, info: Mapping[str, Any],
                  error: BaseException | None) -> Mapping[str, Any]:
        meta = MappingProxyType({
            "operation": operation,
            "implementation": info.get("implementation", decision.implementation),
            "native_available": r.static_status()[0],
            "reason": info.get("reason", decision.reason),
            "variant": decision.variant,
            "flag_key": r.spec.flag_key,
            "module_type": type(module).module_type,
            "module_name": r.name,
            "source": decision.source,
            "error": type(error).__name__ if error is not None else None,
        })
        if not info and error is None:
            r.route_meta = (decision, operation, meta)
        return meta


_ROUTE_EVENT = _RouteEvent()
route_event: Watcher = _ROUTE_EVENT   # the router starts its clock itself when this is the only watcher


def instrument(tracer_provider: Any = None, meter_provider: Any = None, flag_hooks: bool = True) -> Callable[[], None]:
    """OpenTelemetry for dspex (needs the ``dspex[otel]`` extra): a span per routed call, the LM call as a child
    span with GenAI attributes, metric instruments for calls/errors/fallbacks/latency/tokens/cost and shadow
    counters, and OpenFeature's own tracing hook on flag evaluations. Returns the function that turns it off."""
    try:
        from dspex import _otel
    except ImportError as exc:  # optional dependency
        raise ImportError("dspex.telemetry.instrument() needs OpenTelemetry: pip install 'dspex[otel]'") from exc
    return _otel.instrument(tracer_provider, meter_provider, flag_hooks)


def bridge_opentelemetry() -> Callable[[], None]:
    """Forward every dspex event to OpenTelemetry as an event on the current span (when opentelemetry is installed).

    Returns the detach function. Raises ``ImportError`` with an install hint when opentelemetry is missing.
    """
    try:
        from opentelemetry import trace
    except ImportError as exc:  # optional dependency
        raise ImportError("bridge_opentelemetry() needs the opentelemetry-api package: pip install opentelemetry-api") from exc

    def forward(event: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
        attrs: dict[str, Any] = {}
        for k, v in {**metadata, **measurements}.items():
            if isinstance(v, (str, bool, int, float)):
                attrs[k] = v
            elif v is not None:
                attrs[k] = str(v)
        trace.get_current_span().add_event(event, attributes=attrs)

    return attach("*", forward)
