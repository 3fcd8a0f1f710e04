"""The router's half of shadow mode: one :class:`~dspex.shadow.ShadowCall` for a call routed to ``shadow``.

The control is the DSPy route, run for the caller. The candidate is the native route without DSPy's books (it
must not add trace entries, history or callbacks to the program), on its own deep copy of the inputs, made on the
worker: a candidate that mutates an input never reaches the caller's objects. Everything about the candidate
happens on the worker; nothing of it can reach the caller. Only the module's state it runs is read in the caller's
thread, before the control (``_snapshot``): it is what the control ran with, though the worker gets to the
candidate later. Candidates run an engine of their own (``Routing.candidate_engine``, built at a module's first
shadowed call), never the one the module's native-route calls run, which may be running on another thread.
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from typing import Any, Iterator

from ._arg_modules import replaying_dspy
from ._context import current_request
from ._decision import Decision
from ._sides import (acall_instance, adspy_call, anative_call, call_instance, default_lm, dspy_call, effective_lm,
                     native_call)

__all__ = ["shadow_call"]

_CALL_OPTS = frozenset({"config", "demos", "signature", "lm"})
_IMMUTABLE = (str, int, float, bool, bytes, type(None))


def _candidate_copy(args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """The candidate's own copy of the call's inputs; values that cannot be deep-copied are shared."""
    return tuple(_copy(a) for a in args), {k: v if k in _CALL_OPTS else _copy(v) for k, v in kwargs.items()}


def _copy(value: Any) -> Any:
    if type(value) in _IMMUTABLE:
        return value
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - a lock, a generator, a client: the candidate gets the object itself
        return value


def _logged_state(module: Any, kwargs: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """Signature (native, for per-field comparison), demos and config of a Predict-shaped module, for the log."""
    from ._engine import native_signature

    predictor = module if hasattr(module, "demos") else getattr(module, "predict", None)
    if predictor is None:
        return None, kwargs.get("demos"), dict(kwargs.get("config") or {})
    signature = native_signature(predictor.signature)[0] if getattr(predictor, "signature", None) is not None else None
    config = {**(getattr(predictor, "config", None) or {}), **(kwargs.get("config") or {})}
    return signature, kwargs.get("demos", getattr(predictor, "demos", None)), config


def _snapshot(module: Any) -> Any:
    """The state the candidate runs (``Engine.snapshot``), taken now, before the control: the worker runs the
    candidate later, when the program may have changed the module (edited a signature in place, set demos) and
    the control spent what it spends (BestOfN's ``fail_count``). None (the candidate syncs on the worker) for a
    native-shaped module, which is its own candidate, or when taking it fails (that failure is the worker's).
    The candidates' own engine is built here on a module's first shadowed call (as the decision built the main
    one): a snapshot is of the engine it is put back on."""
    if type(module)._shape != "dspy":
        return None
    try:
        return module._dspex.candidate_engine(module).snapshot(module)
    except Exception:  # noqa: BLE001 - nothing about the candidate reaches the caller
        return None


_TURN_WAIT = 5.0   # seconds a candidate waits for another candidate of its module to finish (then runs anyway)


@contextlib.contextmanager
def _engine_turn(module: Any) -> Iterator[None]:
    """One candidate at a time on a module's engine. Candidates run on the pool's worker threads (two by default)
    and each puts the state its control began with onto the one engine the module has: two at once would run
    each other's state. A candidate that hangs holds the engine for ``_TURN_WAIT`` of the next one's time at
    most; that one then runs anyway."""
    if type(module)._shape != "dspy":
        yield
        return
    engine = module._dspex.candidate_engine(module)
    got = engine.turn.acquire(timeout=_TURN_WAIT)
    try:
        yield
    finally:
        if got:
            engine.turn.release()


def shadow_call(module: Any, d: Decision, args: tuple, kwargs: dict[str, Any], keybox: list[str]) -> Any:
    from dspex.shadow import ShadowCall  # loaded with the first shadowed call, not with the router

    r = module._dspex
    req = current_request()
    key = keybox[0] if keybox else (req.targeting_key if req is not None and req.targeting_key else uuid.uuid4().hex)

    def control(lm: Any) -> Any:
        return dspy_call(module, args, kwargs, lm)

    async def acontrol(lm: Any) -> Any:
        return await adspy_call(module, args, kwargs, lm)

    state = _snapshot(module)

    def candidate(lm: Any) -> Any:
        c_args, c_kwargs = _candidate_copy(args, kwargs)
        with _engine_turn(module), replaying_dspy(c_args, c_kwargs, lm, default_lm):
            return native_call(module, c_args, c_kwargs, lm, books=False, state=state)

    async def acandidate(lm: Any) -> Any:
        c_args, c_kwargs = _candidate_copy(args, kwargs)
        with _engine_turn(module), replaying_dspy(c_args, c_kwargs, lm, default_lm):
            return await anative_call(module, c_args, c_kwargs, lm, books=False, state=state)

    notes = None
    if type(module).module_type in _shadow_api().AGENT_TYPES:
        control, acontrol, candidate, acandidate, notes = _agent_sides(module, args, kwargs, state)
    signature, demos, config = _logged_state(module, kwargs)
    return ShadowCall(
        module_type=type(module).module_type, module_name=r.name,
        inputs={k: v for k, v in kwargs.items() if k not in _CALL_OPTS},
        demos=demos, config=config, lm=effective_lm(module, kwargs),
        control=control, candidate=candidate, acontrol=acontrol, acandidate=acandidate,
        signature=signature, variant=d.variant, reason=d.reason, targeting_key=key, flag_key=d.flag_key,
        attributes=dict(req.attributes) if req is not None else {}, notes=notes,
    )


def _shadow_api() -> Any:
    import dspex.shadow as shadow

    return shadow


def _agent_sides(module: Any, args: tuple, kwargs: dict[str, Any], state: Any) -> tuple[Any, Any, Any, Any, Any]:
    """An agent's tools act on the world: the candidate never calls them. It replays the control's recorded tool
    results (read from the control's result, or from its frame when it raised) and reports where it parted."""
    shadow = _shadow_api()
    mt = type(module).module_type
    seen: dict[str, Any] = {}

    def tape() -> Any:
        if "tape" not in seen:
            seen["tape"] = (shadow.tape_from_result(mt, seen["result"]) if "result" in seen
                            else shadow.tape_from_error(mt, seen["error"]))
        return seen["tape"]

    def control(lm: Any) -> Any:
        try:
            seen["result"] = dspy_call(module, args, kwargs, lm)
        except BaseException as exc:
            seen["error"] = exc
            raise
        return seen["result"]

    async def acontrol(lm: Any) -> Any:
        try:
            seen["result"] = await adspy_call(module, args, kwargs, lm)
        except BaseException as exc:
            seen["error"] = exc
            raise
        return seen["result"]

    def agent() -> Any:
        if type(module)._shape == "native":
            return shadow.replaying(module, tape())
        engine = module._dspex.candidate_engine(module)
        return shadow.replaying(engine.sync(module) if state is None else engine.restore(state), tape())

    def candidate(lm: Any) -> Any:
        c_args, c_kwargs = _candidate_copy(args, kwargs)
        with _engine_turn(module):
            return call_instance(module, agent(), c_args, c_kwargs, lm)

    async def acandidate(lm: Any) -> Any:
        c_args, c_kwargs = _candidate_copy(args, kwargs)
        with _engine_turn(module):
            return await acall_instance(module, agent(), c_args, c_kwargs, lm)

    def notes(control_result: Any, candidate_result: Any) -> dict[str, Any]:
        recorded = tape()
        out: dict[str, Any] = {
            "tool_replay": {"served": recorded.served, "problems": list(recorded.problems),
                            "unused": [f"{s.name}({s.args!r}) at turn {s.turn}" for s in recorded.unused],
                            "complete": recorded.complete},
        }
        if control_result is not None and candidate_result is not None:
            out["first_divergence"] = shadow.first_divergence(mt, control_result, candidate_result)
        return out

    return control, acontrol, candidate, acandidate, notes
