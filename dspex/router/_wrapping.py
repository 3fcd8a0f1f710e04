"""Routing for modules that wrap a module (BestOfN, Refine): the wrapped module's engine is built first.

A routed BestOfN's native engine is built from its constructor arguments with a routed ``module=`` replaced by
that module's own native engine (``Routing.side_args``), and ``Routing.engine`` builds engines under one global,
non-reentrant lock: building the wrapper's engine would wait for ever on the inner module's. This subclass builds
the other side's arguments (and so the inner engines) before taking that lock. Copies and pickles keep the class.
(The plain fix, a reentrant lock or side arguments built outside the lock in ``_routed``, makes it unneeded.)

Refine shows the LM ``inspect.getsource`` of the wrapped module's class: on the DSPy side that is the routed
class (``dspex.ChainOfThought``'s source). The native side gets the inner module's native engine, so that engine
is told which class DSPy sees (``_dspex_source``, read by ``dspex.native._source``).
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
        args, kwargs = super().side_args(side)
        given = self.args[0] if self.args else self.kwargs.get("module")
        if side == "native" and isinstance(getattr(given, "_dspex", None), Routing):
            unwrapped = args[0] if args else kwargs.get("module")
            if unwrapped is not given and hasattr(unwrapped, "__dict__"):
                unwrapped.__dict__["_dspex_source"] = type(given)
        return args, kwargs

    def __deepcopy__(self, memo: dict[int, Any]) -> "WrappingRouting":
        return WrappingRouting(self.spec, self.implementation, self.name, self.sig, self.args, self.kwargs)
