"""``Predict``'s instance callbacks: ``on_module_start`` / ``on_module_end`` around a call, as DSPy's
``Module.__call__`` / ``acall`` wrap theirs.

Callbacks see DSPy's bound arguments, ``{"args": (), "kwargs": {...}}``; a failing callback is logged with
DSPy's texts, then ignored. ``Predict`` takes :func:`with_callbacks` / :func:`awith_callbacks` as its
``_with_callbacks`` / ``_awith_callbacks`` methods; a call without callbacks never comes here.

Two kinds of call run without them. A routed module's native engine predictor (one with a ``_dspex_twin``) was
built with the module's constructor arguments, callbacks included; its DSPy twin's callbacks are the ones that fire
(the bridge keeps DSPy's books for the twin), so its own copy would fire every event twice. And a shadow candidate
runs under :data:`MUTED`: the program never made that call, and no callback of the caller may see it.
"""

from __future__ import annotations

import contextvars
import os
from typing import Any

from ._inputs import _logger

__all__ = ["with_callbacks", "awith_callbacks", "MUTED"]

CALLBACK_LOGGER = "dspex.native.callbacks"
# Set (by the router) while a shadow candidate runs: instance callbacks stay silent, and so do BestOfN's and
# Refine's printed attempt failures (_rollouts.report_failure).
MUTED: contextvars.ContextVar[bool] = contextvars.ContextVar("dspex_callbacks_muted", default=False)


def _silent(module: Any) -> bool:
    return module._dspex_twin is not None or MUTED.get()


def with_callbacks(self: Any, kwargs: dict[str, Any]) -> Any:
    """``Predict._with_callbacks``: the call (its own ``forward`` if the class has one) between the callbacks."""
    if _silent(self):
        return self.forward(**kwargs) if self._own_forward else self._run(kwargs)
    call_id = _start(self, kwargs)
    try:
        result = self.forward(**kwargs) if self._own_forward else self._run(kwargs)
    except BaseException as exc:
        _end(self, call_id, None, exc, "__call__")
        raise
    _end(self, call_id, result, None, "__call__")
    return result


async def awith_callbacks(self: Any, kwargs: dict[str, Any]) -> Any:
    """``Predict._awith_callbacks``: the async twin of :func:`with_callbacks`."""
    if _silent(self):
        return await (self.aforward(**kwargs) if self._own_aforward else self._arun(kwargs))
    call_id = _start(self, kwargs)
    try:
        result = await (self.aforward(**kwargs) if self._own_aforward else self._arun(kwargs))
    except BaseException as exc:
        _end(self, call_id, None, exc, "acall")
        raise
    _end(self, call_id, result, None, "acall")
    return result


def _start(module: Any, kwargs: dict[str, Any]) -> str:
    call_id = os.urandom(16).hex()
    inputs = {"args": (), "kwargs": dict(kwargs)}
    for cb in module.callbacks:
        try:
            cb.on_module_start(call_id=call_id, instance=module, inputs=inputs)
        except Exception as e:  # a broken callback must not break the call (DSPy logs and goes on too)
            _logger(CALLBACK_LOGGER).warning(f"Error when calling callback {cb}: {e}")
    return call_id


def _end(module: Any, call_id: str, outputs: Any, exception: BaseException | None, fn_name: str) -> None:
    for cb in module.callbacks:
        try:
            cb.on_module_end(call_id=call_id, outputs=outputs, exception=exception)
        except Exception as e:
            _logger(CALLBACK_LOGGER).warning(
                f"Error when applying callback {cb}'s end handler on function {fn_name}: {e}."
            )
