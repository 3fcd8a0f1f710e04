"""The routed module: a module of one implementation (see ``_variants``) that routes every call.

Its state (signature, demos, lm, config, callbacks, history) is the implementation's own, in DSPy's layout, so
DSPy's optimizers, ``save``/``load``, copies and settings see a routed module exactly as they see the module it
replaces. Everything about routing lives in one attribute, ``_dspex`` (a :class:`Routing`), which DSPy's walks
ignore and copies rebuild without caches. Decisions for flags without targeting are cached per flag-file version
(see ``_flags``), which keeps routing within a few microseconds of calling the native module directly.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
import warnings
from typing import Any, ClassVar

from dspex.environment import dspex_version, dspy_version
from dspex.errors import ConfigError
from dspex.registry import IMPLEMENTATIONS, ModuleSpec, lookup, native_class

from . import _runtime
from ._context import current_request
from ._decision import Decision, decide
from ._backends import backend_for
from ._engine import Engine
from ._sigprep import PreparedSignature, prepare_signature
from ._variants import rebuild, register_public, shape_for, variant

__all__ = ["RoutedModule", "Routing", "IMPLEMENTATIONS"]

_STATE = _runtime.STATE
_build_lock = threading.Lock()


def _check_impl(value: Any, where: str) -> str | None:
    if value is None or value in IMPLEMENTATIONS:
        return value
    raise ConfigError(f"implementation={value!r} ({where}) must be one of {list(IMPLEMENTATIONS)} or None.")


class Routing:
    """What one routed module was asked at construction, and its caches (never part of the module's state)."""

    def __init__(self, spec: ModuleSpec, implementation: str | None, name: str | None,
                 sig: PreparedSignature | None, args: tuple, kwargs: dict[str, Any]) -> None:
        self.spec = spec
        self.implementation = implementation
        self.name = name
        self.sig = sig
        self.args = args
        self.kwargs = kwargs
        self._engine: Engine | None = None
        self._candidate: Engine | None = None    # shadow candidates' own engine (``candidate_engine``)
        self._engine_error: str | None = None    # why the engine could not be built (not retried per call)
        self.fast: tuple[Any, int, Decision] | None = None
        # (settings, flags version, {(targeting key, attributes key): decision}): a sticky flag's decisions
        self.keyed: tuple[Any, int, dict[tuple[Any, Any], Decision]] | None = None
        self.route_meta: tuple[Any, str, Any] | None = None   # (decision, operation, metadata) of the last route event
        self._ctx_attrs: dict[str, Any] | None = None
        self._static: tuple[bool, str] | None = None

    # Copies and pickles carry the constructor's answers, never an engine or a cache. A pickle keeps the
    # signature as the user gave it (a native Signature class holds weak references) and prepares it again.
    def __getstate__(self) -> dict[str, Any]:
        state = {k: self.__dict__[k] for k in ("spec", "implementation", "name", "args", "kwargs")}
        state["sig"] = None if self.sig is None else (self.sig.original, self.sig.custom_types)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        sig = state.pop("sig")
        if sig is not None:
            original, custom = sig
            sig = prepare_signature(original, None, custom)
        Routing.__init__(self, sig=sig, **state)

    def __deepcopy__(self, memo: dict[int, Any]) -> "Routing":
        return Routing(self.spec, self.implementation, self.name, self.sig, self.args, self.kwargs)

    def _key(self) -> tuple[Any, ...]:
        sig = None if self.sig is None else self.sig.original
        return (self.spec.module_type, self.implementation, self.name, sig, self.args, self.kwargs)

    def __eq__(self, other: object) -> bool:
        """Equal when asked the same at construction (so a copied module's ``__dict__`` equals the original's)."""
        return isinstance(other, Routing) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    # --- the constructor's arguments, per side ---------------------------------------------------------------
    def side_args(self, side: str, candidate: bool = False) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The constructor's arguments as ``side`` takes them (``candidate``: for a shadow candidates' engine)."""
        args, kwargs = list(self.args), dict(self.kwargs)
        sig = self.sig
        if sig is not None:
            native_sig = sig.native if side == "native" else None
            if side == "dspy":
                converted = _backend().dspy_signature(sig.original, sig.custom_types)
            else:
                converted = native_sig if native_sig is not None else sig.original
            if args:
                args[0] = converted
            else:
                kwargs["signature"] = converted
        if side == "dspy":   # an agent's tools given as dspex.types.Tool: DSPy's agents take dspy.Tool
            tools = kwargs.get("tools", args[1] if len(args) > 1 else None)
            if isinstance(tools, (list, tuple)) and any(type(t).__module__.startswith("dspex.types") for t in tools):
                converted = [_backend().to_dspy_tool(t) for t in tools]
                if "tools" in kwargs:
                    kwargs["tools"] = converted
                else:
                    args[1] = converted
        return tuple(args), kwargs

    # --- availability ----------------------------------------------------------------------------------------
    def static_status(self) -> tuple[bool, str]:
        """``(native available, why not)`` from the registry and the constructor's signature (no engine built)."""
        st = self._static
        if st is None:
            cls, why = native_class(self.spec)
            if cls is None:
                st = (False, why)
            elif self.sig is not None and self.sig.native is None:
                st = (False, self.sig.why_not_native)
            else:
                st = (True, "")
            self._static = st
        return st

    def engine(self, module: Any) -> Engine:
        """The other implementation, built on first use from the constructor's arguments."""
        engine = self._engine
        return engine if engine is not None else self._built(module, candidate=False)

    def candidate_engine(self, module: Any) -> Engine:
        """A second engine, built the same way, that only shadow candidates run (one at a time: its ``turn``).

        A candidate puts the state its control began with onto the engine it runs: on the one engine the module's
        native-route calls use, that older state reached a native call running on another thread at the same time
        (a 50/50 split of native and shadow while a program changes its demos), and that call's newer state reached
        the candidate (a false divergence). Each now has its own."""
        engine = self._candidate
        return engine if engine is not None else self._built(module, candidate=True)

    def _built(self, module: Any, candidate: bool) -> Engine:
        slot = "_candidate" if candidate else "_engine"
        with _build_lock:
            engine = getattr(self, slot)
            if engine is None:
                side = "dspy" if type(module)._shape == "native" else "native"
                args, kwargs = self.side_args(side, candidate)
                # Its constructor's deprecation warnings repeat what building the module already warned (DSPy's
                # and native's alike: a field's ``prefix``): not said a second time, at a call.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    made = backend_for(self.spec, side).create(*args, **kwargs)
                engine = self.new_engine(made, side)
                engine.candidate = candidate
                setattr(self, slot, engine)
        return engine

    def new_engine(self, made: Any, side: str) -> Engine:
        return Engine(made, side)

    def native_status(self, module: Any) -> tuple[bool, str]:
        """Whether native can serve this call: the registry, the module's current signatures, DSPy's adapter."""
        ok, why = self.static_status()
        if not ok or type(module)._shape == "native":
            return ok, why
        if self._engine_error is not None:
            return False, self._engine_error
        try:
            engine = self.engine(module)
        except Exception as exc:  # noqa: BLE001 - a native constructor that raises makes native unavailable
            self._engine_error = f"building the native module raised {type(exc).__name__}: {exc}"
            return False, self._engine_error
        ok, why = engine.native_status(module)   # (asked each call: what the module holds now, see ``_wrapping``)
        if ok:
            backend = _backend()
            configured = backend.configured_adapter()
            if configured is not None and backend.native_adapter_for(configured) is None:
                return False, f"the configured adapter {type(configured).__name__} has no parity-proven native twin"
        return ok, why

    # --- the flag's evaluation context -----------------------------------------------------------------------
    def context(self, module_type: str, keybox: list[str]) -> Any:
        global _EvaluationContext
        if _EvaluationContext is None:   # openfeature is imported with the first flag source, not with dspex
            from openfeature.evaluation_context import EvaluationContext as _EvaluationContext
        base = self._ctx_attrs
        if base is None:
            base = self._ctx_attrs = {
                "module_type": module_type,
                "module_name": self.name or "",
                "signature": self.sig.text if self.sig is not None else "",
                "native_available": self.static_status()[0],
                "dspy_version": dspy_version() or "",
                "dspex_version": dspex_version(),
            }
        req = current_request()
        if req is None:
            key, attrs = os.urandom(12).hex(), base
        else:
            key = req.targeting_key if req.targeting_key is not None else os.urandom(12).hex()
            attrs = {**req.attributes, **base} if req.attributes else base
        keybox.append(key)
        return _EvaluationContext(targeting_key=key, attributes=attrs)

    def decide(self, module_type: str, settings: Any, forced: str | None, where: str, keybox: list[str]) -> Decision:
        flags = _STATE.flags
        evaluate = None
        if flags is not None and flags.provider is not None:
            fk = self.spec.flag_key
            evaluate = lambda: flags.evaluate(fk, lambda: self.context(module_type, keybox))  # noqa: E731
        circuit = _STATE.circuit
        return decide(
            forced=forced, where=where, module_type=module_type, module_name=self.name, settings=settings,
            flag_key=self.spec.flag_key, evaluate=evaluate, native_status=self.static_status,
            dspy_installed=_STATE.dspy_installed,
            circuit_allows=(lambda: circuit.allows_native(module_type)) if circuit is not None else None,
        )


_BACKEND: Any = None
_EvaluationContext: Any = None


def _backend() -> Any:
    """``dspex.dspy_backend``, imported once (an import statement on every call costs more than routing)."""
    global _BACKEND
    if _BACKEND is None:
        import dspex.dspy_backend as backend

        _BACKEND = backend
    return _BACKEND


class RoutedModule:
    """Base of ``dspex.Predict``, ``dspex.ChainOfThought``, ... and of every class ``dspex.register`` returns."""

    module_type: ClassVar[str] = ""
    _spec: ClassVar[ModuleSpec]
    _shape: ClassVar[str | None] = None      # set on variant classes: "dspy" or "native"
    _impl: ClassVar[type | None] = None
    _public: ClassVar[type | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.module_type and "_shape" not in cls.__dict__:
            cls._spec = lookup(cls.module_type)
            register_public(cls)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls._shape is None:
            cls = variant(cls, shape_for(cls._spec))
        return super(RoutedModule, cls).__new__(cls)

    def __init__(self, *args: Any, implementation: str | None = None, name: str | None = None, **kwargs: Any) -> None:
        cls = type(self)
        spec = cls._spec
        sig = None
        if spec.signature_arg:
            given = args[0] if args else kwargs.get("signature")
            if given is None:
                raise TypeError(f"{cls.__name__}() missing required argument: 'signature'")
            sig = prepare_signature(given, sys._getframe(1))
        kind = WrappingRouting if spec.wraps_module else Routing   # BestOfN / Refine: see ``_wrapping``
        routing = kind(spec, _check_impl(implementation, "constructor"), name, sig, args, kwargs)
        self.__dict__["_dspex"] = routing
        impl_args, impl_kwargs = routing.side_args(cls._shape)
        if cls._shape == "dspy":
            base_init = getattr(cls._impl, "_base_init", None)
            if base_init is not None:  # what dspy.Module's metaclass does before any __init__
                base_init(self)
        cls._impl.__init__(self, *impl_args, **impl_kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _exec.call(self, args, kwargs)

    async def acall(self, *args: Any, **kwargs: Any) -> Any:
        return await _exec.acall(self, args, kwargs)

    def __reduce_ex__(self, protocol: Any) -> Any:
        state = self.__getstate__()
        return (rebuild, (type(self).module_type, type(self)._shape), state)

    def __copy__(self) -> Any:
        new = rebuild(type(self).module_type, type(self)._shape)
        new.__dict__.update(self.__dict__)
        new.__dict__["_dspex"] = copy.deepcopy(self._dspex)
        return new


# Last: ``_exec`` imports this module. A module-level name, not an import inside ``__call__``: a function-level
# relative import resolves its package on every call (about a microsecond of each routed call).
from . import _exec  # noqa: E402
from ._wrapping import WrappingRouting  # noqa: E402
