"""Routing for modules that wrap a module (BestOfN, Refine): the wrapped module's engine is built first.

A routed BestOfN's native engine is built from its constructor arguments with a routed ``module=`` replaced by
that module's own native engine (``Routing.side_args``), and ``Routing.engine`` builds engines under one global,
non-reentrant lock: building the wrapper's engine would wait for ever on the inner module's. This subclass builds
the other side's arguments (and so the inner engines) before taking that lock. Copies and pickles keep the class.
(The plain fix, a reentrant lock or side arguments built outside the lock in ``_routed``, makes it unneeded.)

Refine shows the LM ``inspect.getsource`` of the wrapped module's class: on the DSPy side that is the routed
class (``dspex.ChainOfThought``'s source). The native side gets the inner module's native engine, so that engine
is told which class DSPy sees (``_dspex_source``, read by ``dspex.native._source``).

A module with no native engine (a plain DSPy module) makes the native side unfit (``unfit``): DSPy serves the call.
"""

from __future__ import annotations

from typing import Any

from ._routed import Routing

__all__ = ["WrappingRouting"]


class WrappingRouting(Routing):
    def engine(self, module: Any) -> Any:
        if self._engine is None:
            self.side_args("dspy" if type(module)._shape == "native" else "native")
        return super().engine(module)

    def side_args(self, side: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """A routed ``module=`` is handed to each side as that side's module (its engine on the other side)."""
        args, kwargs = super().side_args(side)
        args, kwargs = _unwrap_module(list(args), kwargs, side)
        given = self.args[0] if self.args else self.kwargs.get("module")
        if side == "native" and isinstance(getattr(given, "_dspex", None), Routing):
            unwrapped = args[0] if args else kwargs.get("module")
            if unwrapped is not given and hasattr(unwrapped, "__dict__"):
                unwrapped.__dict__["_dspex_source"] = type(given)
        return tuple(args), kwargs

    def unfit(self, engine: Any) -> str:
        """A native wrapper runs copies of its inner module: one with no native engine (a DSPy module) would run
        DSPy's code under a native loop, and Refine's hints reach only native predictors. DSPy serves it."""
        if engine.side != "native":
            return ""
        from dspex.native import Module as NativeModule

        inner = type(getattr(engine.instance, "module", None))
        return "" if issubclass(inner, NativeModule) else (
            f"it wraps {inner.__module__}.{inner.__name__}, which has no native engine; wrap a dspex module (e.g. "
            "dspex.ChainOfThought) to run it natively")

    def __deepcopy__(self, memo: dict[int, Any]) -> "WrappingRouting":
        return WrappingRouting(self.spec, self.implementation, self.name, self.sig, self.args, self.kwargs)


def _unwrap_module(args: list[Any], kwargs: dict[str, Any], side: str) -> tuple[list[Any], dict[str, Any]]:
    def unwrap(m: Any) -> Any:
        routing = getattr(m, "_dspex", None)
        if not isinstance(routing, Routing) or type(m)._shape == side:
            return m
        return routing.engine(m).sync(m)

    if args:
        args[0] = unwrap(args[0])
    elif "module" in kwargs:
        kwargs["module"] = unwrap(kwargs["module"])
    return args, kwargs
