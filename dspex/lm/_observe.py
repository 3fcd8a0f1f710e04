"""The one seam through which metrics and OpenTelemetry see dspex.LM calls.

``observer`` is None unless ``dspex.metrics`` or the OpenTelemetry bridge is on; an LM call then pays one global
read. When set, it is told when a request starts and how it ended (usage, cost, error), and its ``start`` value
comes back to it (a span, a start time).
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["LMObserver", "observer", "install", "uninstall"]


class LMObserver(Protocol):
    def lm_start(self, lm: Any, payload: dict[str, Any], streaming: bool) -> Any:
        """A request is about to go out; the value returned is passed to :meth:`lm_end`."""

    def lm_end(self, token: Any, lm: Any, response: dict[str, Any] | None, usage: dict[str, Any],
               cost: float | None, error: BaseException | None, cached: bool) -> None:
        """The request ended (``response`` None on error)."""


observer: LMObserver | None = None
_installed: list[LMObserver] = []


class _Fanout:
    def __init__(self, observers: list[LMObserver]) -> None:
        self.observers = list(observers)

    def lm_start(self, lm: Any, payload: dict[str, Any], streaming: bool) -> Any:
        return [o.lm_start(lm, payload, streaming) for o in self.observers]

    def lm_end(self, token: Any, lm: Any, response: dict[str, Any] | None, usage: dict[str, Any],
               cost: float | None, error: BaseException | None, cached: bool) -> None:
        for o, t in zip(self.observers, token):
            o.lm_end(t, lm, response, usage, cost, error, cached)


def _publish() -> None:
    global observer
    observer = None if not _installed else _installed[0] if len(_installed) == 1 else _Fanout(_installed)


def install(obs: LMObserver) -> None:
    if obs not in _installed:
        _installed.append(obs)
        _publish()


def uninstall(obs: LMObserver) -> None:
    if obs in _installed:
        _installed.remove(obs)
        _publish()
