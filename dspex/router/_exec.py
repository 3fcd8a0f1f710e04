"""Running a decided call: native (with fallback to DSPy), DSPy, or shadow (handed to ``dspex.shadow``).

Fallback policy (documented in docs/migration/flags.md): when native was chosen by an override, a flag or the
preference, ``allow_fallback`` is on and DSPy can run, *any* ``Exception`` from native (building or calling it)
makes DSPy answer the call and emits ``dspex.router.fallback``. Parse errors are included on purpose: DSPy may
parse what native could not (its JSON retry), and if DSPy fails too the caller gets DSPy's error, chained to
native's. A forced ``implementation='native'`` never falls back: that is how native is tested.
"""

from __future__ import annotations

import copy
import importlib
import logging
import uuid
from typing import Any

from dspex import telemetry
from dspex.errors import DspexError

from ._context import current_request
from ._runtime import STATE
from ._decision import Decision

__all__ = ["Execution", "ShadowUnavailableError"]

_log = logging.getLogger("dspex.router")
_FALLBACK = "dspex.router.fallback"
_CALL_OPTS = frozenset({"config", "demos", "signature"})


def _candidate_copy(args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """The shadow candidate's own copy of the call's inputs, made on the worker, off the request path.

    The candidate runs after the caller has its answer and may still be using its inputs: a candidate that
    mutates an input must never reach the caller's objects. Values that cannot be deep-copied are shared.
    """
    return tuple(_copy(a) for a in args), {k: v if k in _CALL_OPTS else _copy(v) for k, v in kwargs.items()}


def _copy(value: Any) -> Any:
    if type(value) in _IMMUTABLE:
        return value
    try:
        return copy.deepcopy(value)
    except Exception:  # a lock, a generator, a client: the candidate gets the object itself, as before
        return value


_IMMUTABLE = (str, int, float, bool, bytes, type(None))


class ShadowUnavailableError(DspexError, NotImplementedError):
    """A call was routed to shadow but ``dspex.shadow`` offers no runner."""


class Execution:
    def __init__(self, module: Any) -> None:
        self.m = module

    # --- helpers ---------------------------------------------------------------------------------------------
    def _can_fall_back(self, d: Decision, settings: Any) -> bool:
        spec = self.m._spec
        if d.forced or not settings.allow_fallback or spec.dspy is None:
            return False
        return not (isinstance(spec.dspy, str) and spec.dspy.startswith("dspy:")) or STATE.dspy_installed

    def _fell_back(self, d: Decision, exc: BaseException, info: dict[str, Any] | None) -> None:
        circuit = STATE.circuit
        if circuit is not None:
            circuit.record_failure(self.m.module_type)
        _log.debug("dspex.%s: native raised %r; DSPy answers (fallback)", self.m.module_type, exc)
        if info is not None:
            info["implementation"] = "dspy"
            info["reason"] = f"{d.reason}; native raised {type(exc).__name__} -> dspy fallback"
        if telemetry.has_listeners(_FALLBACK):
            telemetry.emit(_FALLBACK, {}, {
                "module_type": self.m.module_type, "module_name": self.m.name, "reason": d.reason,
                "error_type": type(exc).__name__, "error": str(exc), "flag_key": d.flag_key, "variant": d.variant,
            })

    def _succeeded(self) -> None:
        circuit = STATE.circuit
        if circuit is not None:
            circuit.record_success(self.m.module_type)

    # --- sync ------------------------------------------------------------------------------------------------
    def run(self, d: Decision, settings: Any, lm: Any, args: tuple, kwargs: dict[str, Any], keybox: list[str],
            info: dict[str, Any] | None = None) -> Any:
        try:
            impl = d.implementation
            if impl == "native":
                try:
                    result = self.m._native.execute(self.m._instance("native"), kwargs, lm, args)
                except Exception as exc:
                    if not self._can_fall_back(d, settings):
                        raise
                    self._fell_back(d, exc, info)
                    return self.m._adapter("dspy").execute(self.m._instance("dspy"), kwargs, lm, args)
                if STATE.circuit is not None:
                    self._succeeded()
                return result
            if impl == "dspy":
                return self.m._adapter("dspy").execute(self.m._instance("dspy"), kwargs, lm, args)
            return self._runner("run_shadow")(self._shadow_call(d, lm, args, kwargs, keybox))
        except BaseException as exc:
            if info is not None:
                info["error"] = type(exc).__name__
            raise

    # --- async -----------------------------------------------------------------------------------------------
    async def arun(self, d: Decision, settings: Any, lm: Any, args: tuple, kwargs: dict[str, Any],
                   keybox: list[str], info: dict[str, Any] | None = None) -> Any:
        try:
            impl = d.implementation
            if impl == "native":
                try:
                    result = await self.m._native.aexecute(self.m._instance("native"), kwargs, lm, args)
                except Exception as exc:
                    if not self._can_fall_back(d, settings):
                        raise
                    self._fell_back(d, exc, info)
                    return await self.m._adapter("dspy").aexecute(self.m._instance("dspy"), kwargs, lm, args)
                self._succeeded()
                return result
            if impl == "dspy":
                return await self.m._adapter("dspy").aexecute(self.m._instance("dspy"), kwargs, lm, args)
            return await self._runner("arun_shadow")(self._shadow_call(d, lm, args, kwargs, keybox))
        except BaseException as exc:
            if info is not None:
                info["error"] = type(exc).__name__
            raise

    # --- shadow ----------------------------------------------------------------------------------------------
    @staticmethod
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

    def _shadow_call(self, d: Decision, lm: Any, args: tuple, kwargs: dict[str, Any], keybox: list[str]) -> Any:
        from dspex.shadow._call import ShadowCall

        m = self.m
        req = current_request()
        key = keybox[0] if keybox else (req.targeting_key if req is not None and req.targeting_key else uuid.uuid4().hex)
        dspy_side, native_side = m._adapter("dspy"), m._native

        def control(lm_: Any) -> Any:
            return dspy_side.execute(m._instance("dspy"), kwargs, lm_, args)

        def candidate(lm_: Any) -> Any:
            c_args, c_kwargs = _candidate_copy(args, kwargs)
            return native_side.execute(m._instance("native"), c_kwargs, lm_, c_args)

        async def acontrol(lm_: Any) -> Any:
            return await dspy_side.aexecute(m._instance("dspy"), kwargs, lm_, args)

        async def acandidate(lm_: Any) -> Any:
            c_args, c_kwargs = _candidate_copy(args, kwargs)
            return await native_side.aexecute(m._instance("native"), c_kwargs, lm_, c_args)

        native_inst = m._instance("native")
        predictor = getattr(native_inst, "predict", native_inst)  # ChainOfThought keeps its config on .predict
        return ShadowCall(
            module_type=m.module_type, module_name=m.name,
            inputs={k: v for k, v in kwargs.items() if k not in _CALL_OPTS},
            demos=kwargs.get("demos", getattr(predictor, "demos", None)),
            config={**(getattr(predictor, "config", None) or {}), **(kwargs.get("config") or {})},
            lm=lm, control=control, candidate=candidate, acontrol=acontrol, acandidate=acandidate,
            signature=m._sig.native if m._sig is not None else None,
            variant=d.variant, reason=d.reason, targeting_key=key, flag_key=d.flag_key,
            attributes=dict(req.attributes) if req is not None else {},
        )
