"""In-process telemetry: ``attach(event, handler)`` and ``emit(event, measurements, metadata)``.

Why a tiny module of our own: the router emits an event on every call, so the cost when nobody listens must be
one dict lookup (callers check :func:`has_listeners` before they build metadata), and a handler that raises
must never break the call that emitted the event. Shadow mode emits its events through the same module.

Events: ``dspex.router.route``, ``dspex.router.fallback``, ``dspex.router.flags`` (flag source trouble, once per
episode), ``dspex.shadow.divergence``, ``dspex.shadow.dropped``. ``"*"`` subscribes to every event.
Handlers are called ``handler(event, measurements, metadata)``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Mapping

__all__ = ["attach", "emit", "has_listeners", "bridge_opentelemetry", "Handler"]

Handler = Callable[[str, Mapping[str, float], Mapping[str, Any]], None]

_log = logging.getLogger("dspex.telemetry")
_lock = threading.Lock()
# Read without the lock on the hot path: the dict is replaced wholesale on every change (copy-on-write).
_handlers: dict[str, tuple[Handler, ...]] = {}
_reported: set[int] = set()


def attach(event: str, handler: Handler) -> Callable[[], None]:
    """Subscribe ``handler`` to ``event`` (or ``"*"``); returns a function that detaches it (idempotent)."""
    global _handlers
    if not callable(handler):
        raise TypeError(f"A telemetry handler must be callable as handler(event, measurements, metadata); got {handler!r}.")
    with _lock:
        new = dict(_handlers)
        new[event] = new.get(event, ()) + (handler,)
        _handlers = new

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

    return detach


def has_listeners(event: str) -> bool:
    """True when someone listens to ``event`` (or to everything): build metadata only then."""
    h = _handlers
    return event in h or "*" in h


def emit(event: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
    """Call every handler of ``event`` and of ``"*"``; a raising handler is logged once and otherwise ignored."""
    h = _handlers
    for handler in h.get(event, ()) + h.get("*", ()):
        try:
            handler(event, measurements, metadata)
        except Exception:  # a subscriber's bug must never break the call that emitted the event
            key = id(handler)
            if key not in _reported:
                _reported.add(key)
                _log.exception("dspex telemetry handler %r raised on %s; further errors from it are silenced", handler, event)


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
