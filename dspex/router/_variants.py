"""A routed module *is* a module of one implementation, with routing on top.

``dspex.Predict("q -> a")`` returns an instance of a class made from ``dspex.Predict`` and an implementation class:
``dspy.Predict`` when DSPy is loaded (so the module is a ``dspy.Predict`` to DSPy's optimizers, ``save``/``load``,
copies, callbacks and history: its state *is* DSPy's state), else ``dspex.native.Predict`` (so a program that never
imports DSPy never pays for it). The other implementation runs as an engine kept in step with that one state
(see ``_engine``). Made once per (class, shape); copies and pickles rebuild through :func:`rebuild`.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from dspex import hooks
from dspex.registry import ModuleSpec, native_class, resolve

from ._taps import active as _controls, stand_in_kwargs

__all__ = ["shape_for", "variant", "rebuild", "register_public", "impl_class", "Hosted"]

_variants: dict[tuple[type, str], type] = {}
_public: dict[str, type] = {}     # module_type -> the routed class users hold (for unpickling)
_lock = threading.Lock()


def register_public(cls: type) -> None:
    _public[cls.module_type] = cls


def shape_for(spec: ModuleSpec) -> str:
    """``dspy`` when DSPy is loaded (or the type is DSPy-only), else ``native`` when a native class exists."""
    if spec.dspy is not None and (sys.modules.get("dspy") is not None or native_class(spec)[0] is None):
        return "dspy"
    return "native" if native_class(spec)[0] is not None else "dspy"


class NativeForward:
    """Mixed into DSPy-shaped variants. A native call runs inside DSPy's own ``Module.__call__`` (its books, and any
    ``forward`` an optimizer patched onto the instance, as GEPA's trace capture does), and this ``forward`` then runs
    the native engine instead of DSPy's forward. Inside a shadow control, a routed Predict's DSPy forward takes the
    stand-in of the LM it reads first, past the callbacks (``_taps``)."""

    _dspex_predictor = False   # a routed Predict (set by ``variant``)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        active = hooks.native_root.get()
        if active is not None and active[0] is self:
            return active[1](*args, **kwargs)
        controls = _controls()
        if controls and type(self)._dspex_predictor:
            kwargs = stand_in_kwargs(self, kwargs, controls)
        return type(self)._impl.forward(self, *args, **kwargs)

    async def aforward(self, *args: Any, **kwargs: Any) -> Any:
        active = hooks.native_root.get()
        if active is not None and active[0] is self:
            return await active[1](*args, **kwargs)
        controls = _controls()
        if controls and type(self)._dspex_predictor:
            kwargs = stand_in_kwargs(self, kwargs, controls)
        impl_aforward = getattr(type(self)._impl, "aforward", None)
        if impl_aforward is None:   # (BestOfN, Refine, MultiChainComparison: DSPy's own error, as DSPy words it)
            raise AttributeError(f"'{type(self).__name__}' object has no attribute 'aforward'", name="aforward",
                                 obj=self)
        return await impl_aforward(self, *args, **kwargs)


class Hosted:
    """A registered implementation given as a factory (not a class): built by it and called through it.

    Routing works as for any module, but the built object is opaque to DSPy's program API (no predictors to
    optimize or save): register a class to get that.
    """

    _factory: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["_dspex_hosted"] = type(self)._factory(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._dspex_hosted(*args, **kwargs)

    async def acall(self, *args: Any, **kwargs: Any) -> Any:
        hosted = self._dspex_hosted
        acall = getattr(hosted, "acall", None)
        if acall is not None:
            return await acall(*args, **kwargs)
        import asyncio

        return await asyncio.to_thread(hosted, *args, **kwargs)


def impl_class(spec: ModuleSpec, shape: str) -> type:
    if shape == "native":
        impl = native_class(spec)[0]
    else:
        if isinstance(spec.dspy, str) and spec.dspy.startswith("dspy:"):
            from dspex.dspy_backend import import_dspy

            import_dspy(f"dspex.{spec.module_type} needs DSPy here")
        impl = resolve(spec.dspy)
    if isinstance(impl, type):
        return impl
    return type("Hosted", (Hosted,), {"_factory": staticmethod(impl), "__module__": __name__})


def variant(cls: type, shape: str) -> type:
    """``cls`` (a routed class) joined with its ``shape`` implementation class."""
    key = (cls, shape)
    made = _variants.get(key)
    if made is None:
        with _lock:
            made = _variants.get(key)
            if made is None:
                impl = impl_class(cls._spec, shape)
                mixins = (NativeForward,) if shape == "dspy" and hasattr(impl, "forward") else ()
                # A DSPy-shaped variant is found where DSPy's class is (module and qualname), so
                # ``inspect.getsource`` of the class reads DSPy's source, as DSPy's code expects of the module it
                # holds: MIPROv2's proposer shows the LM each module class's source, Refine its program's.
                # (Copies and pickles go through ``rebuild``, never through the class's name.)
                home = impl if shape == "dspy" and impl.__module__.split(".")[0] == "dspy" else cls
                made = type(cls.__name__, (cls, *mixins, impl), {
                    "_shape": shape, "_impl": impl, "_public": cls,
                    "_dspex_predictor": cls._spec.module_type == "predict",
                    "__module__": home.__module__, "__qualname__": home.__qualname__, "__doc__": cls.__doc__,
                })
                _variants[key] = made
    return made


def rebuild(module_type: str, shape: str) -> Any:
    """An empty instance of a routed variant, for ``copy`` and ``pickle`` (the state is set afterwards)."""
    cls = _public.get(module_type)
    if cls is None:
        from dspex.errors import ConfigError

        raise ConfigError(f"Cannot rebuild a dspex.{module_type} module: that type is not registered in this process "
                          "(import the code that calls dspex.register first).")
    made = variant(cls, shape)
    return made.__new__(made)
