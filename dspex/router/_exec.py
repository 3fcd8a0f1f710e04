"""One routed call, start to end: decide, check native can serve it, run the side, fall back, report.

Fallback policy (documented in docs/migration/flags.md): when native was chosen by an override, a flag or the
preference, ``allow_fallback`` is on and DSPy can run, *any* ``Exception`` from native (building or calling it)
makes DSPy answer the call and emits ``dspex.router.fallback``. Parse errors are included on purpose: DSPy may
parse what native could not (its JSON retry), and if DSPy fails too the caller gets DSPy's error, chained to
native's. A forced ``implementation='native'`` never falls back: that is how native is tested. An exception the
LM itself raised (``dspex.errors.raised_by_lm``: a rate limit, a timeout) is the caller's as it is: DSPy would
call the same LM again, doubling the cost, the history and the callbacks for the same failure. It does not count
against native in the adaptive circuit either.
"""

from __future__ import annotations

import importlib
import logging
import time
from typing import Any

from dspex import telemetry
from dspex.errors import CallTimeoutError, DspexError, raised_by_lm

from . import _carry, _runtime
from ._decision import Decision, unavailable
from ._engine import own_attr
from ._routed import _check_impl
from ._context import current_request
from ._runtime import STATE
from ._shadow import shadow_call
from ._sides import adspy_call, anative_call, dspy_call, native_call, settle_failed

__all__ = ["call", "acall", "route", "ShadowUnavailableError"]

_log = logging.getLogger("dspex.router")
_FALLBACK = "dspex.router.fallback"
_KEYED_MAX = 10_000   # sticky decisions kept per module and flags version (past it, start again)
_now = telemetry.clock   # the route event's own clock: its ``end`` subtracts the token from it


class ShadowUnavailableError(DspexError, NotImplementedError):
    """A call was routed to shadow but ``dspex.shadow`` offers no runner."""


# --- deciding ------------------------------------------------------------------------------------------------
def route(module: Any, kwargs: dict[str, Any]) -> tuple[Any, Decision, list[str]]:
    """The settings and the decision for one call (``implementation=`` is consumed from ``kwargs``)."""
    r = own_attr(module, "_dspex")
    mt = type(module).module_type
    settings = STATE.settings or _runtime.load()
    keybox: list[str] = []
    if "implementation" in kwargs and not _takes_input(r, "implementation"):
        forced = _check_impl(kwargs.pop("implementation"), "call")
        if forced is not None:
            return settings, _checked(module, r.decide(mt, settings, forced, "call", keybox), settings), keybox
    # Fast path: a decision that cannot change until the settings or the flag-file version change.
    flags = STATE.flags
    gen = flags._gen if flags is not None else -1
    fast = r.fast
    if fast is not None and fast[0] is settings and fast[1] == gen:
        return settings, _checked(module, fast[2], settings), keybox
    req = current_request()
    sticky = None if req is None or req.targeting_key is None else (req.targeting_key, req.attributes_key)
    keyed = r.keyed
    if sticky is not None and keyed is not None and keyed[0] is settings and keyed[1] == gen:
        kept = keyed[2].get(sticky)
        if kept is not None:
            keybox.append(sticky[0])
            return settings, _checked(module, kept, settings), keybox
    decision = r.decide(mt, settings, r.implementation, "constructor", keybox)
    if STATE.circuit is None:
        _keep(r, settings, gen, flags, decision, sticky)
    return settings, _checked(module, decision, settings), keybox


def _keep(r: Any, settings: Any, gen: int, flags: Any, decision: Decision, sticky: tuple[str, Any] | None) -> None:
    """Keep a decision that cannot change until the settings or the flags do: one for every call (no flag, a
    static flag), or one per targeting key and attributes (a sticky flag that flagd's evaluator answers as a
    pure function of them, see ``FlagSource.keyable``). An adaptive circuit decides per call: nothing is kept."""
    if decision.source != "flag" and (decision.flag_key is None or flags is None) or (
        flags is not None and flags.cached(r.spec.flag_key) is not None
    ):
        r.fast = (settings, gen, decision)
    elif (decision.source == "flag" and sticky is not None and sticky[1] is not None and flags is not None
          and flags._gen == gen and flags.keyable(r.spec.flag_key)):
        keyed = r.keyed
        if keyed is None or keyed[0] is not settings or keyed[1] != gen or len(keyed[2]) >= _KEYED_MAX:
            keyed = r.keyed = (settings, gen, {})
        keyed[2][sticky] = decision


def _takes_input(r: Any, field: str) -> bool:
    native = r.sig.native if r.sig is not None else None
    return native is not None and field in native.input_fields


def _checked(module: Any, d: Decision, settings: Any) -> Decision:
    """Native chosen: can it serve *this* call (the module's current signatures, DSPy's configured adapter)?"""
    if d.implementation == "dspy" or type(module)._shape == "native":
        return d
    ok, why = own_attr(module, "_dspex").native_status(module)
    if ok:
        return d
    return unavailable(d, why, settings, type(module).module_type, module._dspex.name)


# --- running -------------------------------------------------------------------------------------------------
def _can_fall_back(module: Any, d: Decision, settings: Any) -> bool:
    spec = module._dspex.spec
    if d.forced or not settings.allow_fallback or spec.dspy is None:
        return False
    return not (isinstance(spec.dspy, str) and spec.dspy.startswith("dspy:")) or STATE.dspy_installed


def _native_failed(module: Any, d: Decision, start: float) -> None:
    """Native raised and the caller gets the error (fallback off): the adaptive circuit counts it all the same;
    a forced ``implementation='native'`` call is a test of native, outside the circuit."""
    if STATE.circuit is not None and start and not d.forced:
        STATE.circuit.record_failure(type(module).module_type, time.perf_counter() - start)


def _fell_back(module: Any, d: Decision, exc: BaseException, info: dict[str, Any] | None, start: float) -> None:
    mt = type(module).module_type
    if STATE.circuit is not None:
        STATE.circuit.record_failure(mt, time.perf_counter() - start if start else None)
    _log.debug("dspex.%s: native raised %r; DSPy answers (fallback)", mt, exc)
    if info is not None:
        info["implementation"] = "dspy"
        info["reason"] = f"{d.reason}; native raised {type(exc).__name__} -> dspy fallback"
        info["fallback"] = type(exc).__name__
    if telemetry.has_listeners(_FALLBACK):
        telemetry.emit(_FALLBACK, {}, {
            "module_type": mt, "module_name": module._dspex.name, "reason": d.reason,
            "error_type": type(exc).__name__, "error": str(exc), "flag_key": d.flag_key, "variant": d.variant,
        })


def _run(module: Any, d: Decision, settings: Any, args: tuple, kwargs: dict[str, Any], keybox: list[str],
         info: dict[str, Any] | None) -> Any:
    impl = d.implementation
    if impl == "dspy":
        return dspy_call(module, args, kwargs)
    if impl == "shadow":
        return _runner("run_shadow")(shadow_call(module, d, args, kwargs, keybox))
    circuit = STATE.circuit
    start = time.perf_counter() if circuit is not None else 0.0
    try:
        result = native_call(module, args, kwargs)
    except Exception as exc:
        if raised_by_lm(exc):   # the LM's own failure: DSPy would only call it again (see the module docstring)
            settle_failed(module)
            raise
        if not _can_fall_back(module, d, settings):
            settle_failed(module)
            _native_failed(module, d, start)
            raise
        _fell_back(module, d, exc, info, start)
        return dspy_call(module, args, kwargs)
    if circuit is not None:
        circuit.record_success(type(module).module_type, time.perf_counter() - start)
    return result


async def _arun(module: Any, d: Decision, settings: Any, args: tuple, kwargs: dict[str, Any], keybox: list[str],
                info: dict[str, Any] | None) -> Any:
    impl = d.implementation
    if impl == "dspy":
        return await adspy_call(module, args, kwargs)
    if impl == "shadow":
        return await _runner("arun_shadow")(shadow_call(module, d, args, kwargs, keybox))
    circuit = STATE.circuit
    start = time.perf_counter() if circuit is not None else 0.0
    try:
        result = await anative_call(module, args, kwargs)
    except Exception as exc:
        if raised_by_lm(exc):
            settle_failed(module)
            raise
        if not _can_fall_back(module, d, settings):
            settle_failed(module)
            _native_failed(module, d, start)
            raise
        _fell_back(module, d, exc, info, start)
        return await adspy_call(module, args, kwargs)
    if circuit is not None:
        circuit.record_success(type(module).module_type, time.perf_counter() - start)
    return result


def call(module: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    # Shadow state carried somewhere: in a DSPy worker, that of the call that started it (then nothing is left to
    # restore for the inner call)
    if _carry.extents and (tokens := _carry.restore()):
        try:
            return call(module, args, kwargs)
        finally:
            _carry.reset(tokens)
    watch = telemetry.watching   # None unless a route listener, dspex.metrics or OpenTelemetry is on
    if watch is None:
        settings, d, keybox = route(module, kwargs)
        if settings.call_timeout_s is not None:
            return _deadline(module, settings.call_timeout_s, _run, module, d, settings, args, kwargs, keybox, None)
        return _run(module, d, settings, args, kwargs, keybox, None)
    # before routing: flag evaluations happen inside the watched call; the route event alone needs only a clock
    token = _now() if watch is telemetry.route_event else watch.start(module, "call")
    info: dict[str, Any] = {}
    d = None
    try:
        settings, d, keybox = route(module, kwargs)
        if settings.call_timeout_s is not None:
            result = _deadline(module, settings.call_timeout_s, _run, module, d, settings, args, kwargs, keybox, info)
        else:
            result = _run(module, d, settings, args, kwargs, keybox, info)
    except BaseException as exc:
        watch.end(token, module, "call", d, info, exc)
        raise
    watch.end(token, module, "call", d, info, None)
    return result


async def acall(module: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    if _carry.extents and (tokens := _carry.restore()):
        try:
            return await acall(module, args, kwargs)
        finally:
            _carry.reset(tokens)
    watch = telemetry.watching
    if watch is None:
        settings, d, keybox = route(module, kwargs)
        run = _arun(module, d, settings, args, kwargs, keybox, None)
        return await (run if settings.call_timeout_s is None else _timed(module, settings.call_timeout_s, run))
    token = _now() if watch is telemetry.route_event else watch.start(module, "acall")
    info: dict[str, Any] = {}
    d = None
    try:
        settings, d, keybox = route(module, kwargs)
        run = _arun(module, d, settings, args, kwargs, keybox, info)
        result = await (run if settings.call_timeout_s is None else _timed(module, settings.call_timeout_s, run))
    except BaseException as exc:
        watch.end(token, module, "acall", d, info, exc)
        raise
    watch.end(token, module, "acall", d, info, None)
    return result


async def _timed(module: Any, seconds: float, run: Any) -> Any:
    import asyncio

    try:
        return await asyncio.wait_for(run, seconds)
    except asyncio.TimeoutError:
        raise _timeout_error(module, seconds) from None


def _timeout_error(module: Any, seconds: float) -> CallTimeoutError:
    name = f" {module._dspex.name!r}" if module._dspex.name else ""
    return CallTimeoutError(
        f"dspex.{type(module).module_type}{name} did not answer within call_timeout_s={seconds:g} s (the LM is slow "
        "or hung). Raise call_timeout_s, or set the LM's own timeout; the call goes on in the background."
    )


def _deadline(module: Any, seconds: float, fn: Any, *args: Any) -> Any:
    """``fn(*args)`` on a worker thread (with this context: request, settings, DSPy's overrides); the caller waits
    at most ``seconds``. Python cannot stop a thread: a call past its deadline finishes, unheard, in the background."""
    import concurrent.futures
    import contextvars

    pool = _pool()
    future = pool.submit(contextvars.copy_context().run, fn, *args)
    try:
        return future.result(timeout=seconds)
    except concurrent.futures.TimeoutError:
        future.cancel()   # never started (the pool was busy with hung calls): it will not start now
        raise _timeout_error(module, seconds) from None


_POOL: Any = None


def _pool() -> Any:
    global _POOL
    if _POOL is None:
        import concurrent.futures

        _POOL = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="dspex-call")
    return _POOL


def _runner(name: str) -> Any:
    try:
        shadow = importlib.import_module("dspex.shadow")
    except ImportError as exc:
        raise ShadowUnavailableError(f"A call was routed to shadow, but dspex.shadow cannot be imported ({exc}).") from exc
    runner = getattr(shadow, name, None)
    if runner is None:
        raise ShadowUnavailableError(
            f"A call was routed to shadow, but dspex.shadow has no {name}(); route the module to 'dspy' for now."
        )
    return runner
