"""The routed module: a thin object that keeps its constructor arguments and routes every call.

Each implementation's instance is built on its first use and cached, so a module whose flag says ``dspy``
never builds the native side and one that says ``native`` never imports dspy. Decisions for flags without
targeting are cached per flag-file version (see ``_flags``), which keeps routing within a few microseconds of
calling the native module directly.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, ClassVar

from dspex import telemetry
from dspex.errors import ConfigError
from dspex.registry import ModuleSpec, lookup

from . import _runtime
from ._context import current_request
from ._decision import Decision, decide
from ._exec import Execution
from ._native import NativeAdapter
from ._sigprep import PreparedSignature, prepare_signature

__all__ = ["RoutedModule", "IMPLEMENTATIONS"]

IMPLEMENTATIONS = ("native", "dspy", "shadow")
_ROUTE = "dspex.router.route"
_STATE = _runtime.STATE


def _check_impl(value: Any, where: str) -> str | None:
    if value is None or value in IMPLEMENTATIONS:
        return value
    raise ConfigError(f"implementation={value!r} ({where}) must be one of {list(IMPLEMENTATIONS)} or None.")


class RoutedModule:
    """Base of ``dspex.Predict``, ``dspex.ChainOfThought``, ... and of every class ``dspex.register`` returns."""

    module_type: ClassVar[str] = ""
    _spec: ClassVar[ModuleSpec]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.module_type:
            cls._spec = lookup(cls.module_type)

    def __init__(self, *args: Any, implementation: str | None = None, name: str | None = None, **kwargs: Any) -> None:
        spec = self._spec
        self.implementation = _check_impl(implementation, "constructor")
        self.name = name
        self._args = args
        self._kwargs = kwargs
        self._instances: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._native_status: tuple[bool, str] | None = None
        self._native = NativeAdapter(spec)
        self._dspy: Any = None
        self._sig: PreparedSignature | None = None
        if spec.signature_arg:
            sig = args[0] if args else kwargs.get("signature")
            if sig is None:
                raise TypeError(f"{type(self).__name__}() missing required argument: 'signature'")
            self._sig = prepare_signature(sig, sys._getframe(1))
        self._exec = Execution(self)
        self._fast: tuple[Any, int, Decision] | None = None
        self._ctx_attrs: dict[str, Any] | None = None

    # --- building each side ----------------------------------------------------------------------------------
    def _side_args(self, side: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args, kwargs = list(self._args), dict(self._kwargs)
        if self._sig is not None and side == "native" and self._sig.native is not None:
            if args:
                args[0] = self._sig.native
            else:
                kwargs["signature"] = self._sig.native
        if self._sig is not None and side == "dspy":
            kwargs["custom_types"] = self._sig.custom_types
        return tuple(args), kwargs

    def _adapter(self, side: str) -> Any:
        if side == "native":
            return self._native
        if self._dspy is None:
            from dspex.dspy_backend import DSPyAdapter

            self._dspy = DSPyAdapter(self._spec)
        return self._dspy

    def _instance(self, side: str) -> Any:
        inst = self._instances.get(side)
        if inst is None:  # first use of this side: build it once, under the lock
            with self._lock:
                inst = self._instances.get(side)
                if inst is None:
                    args, kwargs = self._side_args(side)
                    inst = self._adapter(side).create(*args, **kwargs)
                    self._instances[side] = inst
        return inst

    def native_instance(self) -> Any:
        """The native module behind this routed one (built on first use)."""
        return self._instance("native")

    def dspy_instance(self) -> Any:
        """The real DSPy module behind this routed one (built on first use; imports dspy)."""
        return self._instance("dspy")

    @property
    def signature(self) -> Any:
        """The native Signature when there is one, else what was passed."""
        if self._sig is None:
            return None
        return self._sig.native if self._sig.native is not None else self._sig.original

    def native_status(self) -> tuple[bool, str]:
        """``(available, why not)`` for this instance: a native class registered and its signature supported."""
        st = self._native_status
        if st is None:
            cls, why = self._native.status()
            if cls is None:
                st = (False, why)
            elif self._sig is not None and self._sig.native is None:
                st = (False, self._sig.why_not_native)
            else:
                st = (True, "")
            self._native_status = st
        return st

    # --- routing ---------------------------------------------------------------------------------------------
    def _context(self, targeting_key: list[str]) -> Any:
        from openfeature.evaluation_context import EvaluationContext

        base = self._ctx_attrs
        if base is None:
            from dspex.dspy_backend import dspy_version

            base = self._ctx_attrs = {
                "module_type": self.module_type,
                "module_name": self.name or "",
                "signature": self._sig.text if self._sig is not None else "",
                "native_available": self.native_status()[0],
                "dspy_version": dspy_version(),
                "dspex_version": _runtime.dspex_version(),
            }
        req = current_request()
        if req is None:
            key, attrs = os.urandom(12).hex(), base
        else:
            key = req.targeting_key if req.targeting_key is not None else os.urandom(12).hex()
            attrs = {**req.attributes, **base} if req.attributes else base
        targeting_key.append(key)
        return EvaluationContext(targeting_key=key, attributes=attrs)

    def _decide(self, settings: Any, forced: str | None, where: str, keybox: list[str]) -> Decision:
        flags = _STATE.flags
        evaluate = None
        if flags is not None and flags.provider is not None:
            fk = self._spec.flag_key
            evaluate = lambda: flags.evaluate(fk, lambda: self._context(keybox))  # noqa: E731
        circuit = _STATE.circuit
        return decide(
            forced=forced, where=where, module_type=self.module_type, module_name=self.name, settings=settings,
            flag_key=self._spec.flag_key, evaluate=evaluate, native_status=self.native_status,
            dspy_installed=_STATE.dspy_installed,
            circuit_allows=(lambda: circuit.allows_native(self.module_type)) if circuit is not None else None,
        )

    def _route(self, kwargs: dict[str, Any]) -> tuple[Any, Decision, Any, list[str]]:
        settings = _STATE.settings or _runtime.load()
        lm = kwargs.pop("lm", None)
        if lm is None:
            lm = settings.lm
        keybox: list[str] = []
        if "implementation" in kwargs and not self._takes_input("implementation"):
            forced = _check_impl(kwargs.pop("implementation"), "call")
            if forced is not None:
                return settings, self._decide(settings, forced, "call", keybox), lm, keybox
        # Fast path: a decision that cannot change until the settings or the flag-file version change.
        flags = _STATE.flags
        gen = flags._gen if flags is not None else -1
        fast = self._fast
        if fast is not None and fast[0] is settings and fast[1] == gen:
            return settings, fast[2], lm, keybox
        decision = self._decide(settings, self.implementation, "constructor", keybox)
        if _STATE.circuit is None and (
            decision.source != "flag" and (decision.flag_key is None or flags is None)
            or (flags is not None and flags.cached(self._spec.flag_key) is not None)
        ):
            self._fast = (settings, gen, decision)
        return settings, decision, lm, keybox

    def _takes_input(self, field: str) -> bool:
        native = self._sig.native if self._sig is not None else None
        return native is not None and field in native.input_fields

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        settings, decision, lm, keybox = self._route(kwargs)
        if not telemetry.has_listeners(_ROUTE):
            return self._exec.run(decision, settings, lm, args, kwargs, keybox)
        start = time.perf_counter()
        info: dict[str, Any] = {}
        try:
            return self._exec.run(decision, settings, lm, args, kwargs, keybox, info)
        finally:
            self._emit_route("call", decision, start, info)

    async def acall(self, *args: Any, **kwargs: Any) -> Any:
        settings, decision, lm, keybox = self._route(kwargs)
        if not telemetry.has_listeners(_ROUTE):
            return await self._exec.arun(decision, settings, lm, args, kwargs, keybox)
        start = time.perf_counter()
        info: dict[str, Any] = {}
        try:
            return await self._exec.arun(decision, settings, lm, args, kwargs, keybox, info)
        finally:
            self._emit_route("acall", decision, start, info)

    def _emit_route(self, operation: str, d: Decision, start: float, info: dict[str, Any]) -> None:
        telemetry.emit(
            _ROUTE,
            {"duration": time.perf_counter() - start},
            {
                "operation": operation,
                "implementation": info.get("implementation", d.implementation),
                "native_available": self.native_status()[0],
                "reason": info.get("reason", d.reason),
                "variant": d.variant,
                "flag_key": self._spec.flag_key,
                "module_type": self.module_type,
                "module_name": self.name,
                "source": d.source,
                "error": info.get("error"),
            },
        )

    def __repr__(self) -> str:
        sig = f"{self._sig.text!r}" if self._sig is not None else "..."
        extra = f", name={self.name!r}" if self.name else ""
        extra += f", implementation={self.implementation!r}" if self.implementation else ""
        return f"dspex.{type(self).__name__}({sig}{extra})"

