"""Routing for modules that wrap a module (BestOfN, Refine): the wrapped module's engine is built first.

A routed BestOfN's native engine is built from its constructor arguments with a routed ``module=`` replaced by
that module's own native engine (``Routing.side_args``), and ``Routing.engine`` builds engines under one global,
non-reentrant lock: building the wrapper's engine would wait for ever on the inner module's. This subclass builds
the other side's arguments (and so the inner engines) before taking that lock. Copies and pickles keep the class.
(The plain fix, a reentrant lock or side arguments built outside the lock in ``_routed``, makes it unneeded.)

Refine shows the LM ``inspect.getsource`` of the wrapped module's class: on the DSPy side that is the routed
class (``dspex.ChainOfThought``'s source). The native side gets the inner module's native engine, so that engine
is told which class DSPy sees (``_dspex_source``, read by ``dspex.native._source``).

A module with no native engine (a plain DSPy module) makes the native side unfit (``WrapperEngine.unfit``): DSPy
serves the call.

DSPy's BestOfN and Refine read ``self.module`` at each call, so a program may swap the wrapped module after
construction. The engine follows it (``WrapperEngine``): before each check and sync, a ``module`` that is not the
one the engine wraps is handed to the engine as its side's module (a routed module's engine, as above), and the
predictors are paired again. Whether native can serve is asked of the module held now, at every check: one with no
native engine leaves native unavailable while it is there, whether the wrapper was built around it or it was set
later, and a dspex module put in its place makes native available again.
"""

from __future__ import annotations

from typing import Any

from dspex.errors import ConfigError

from ._engine import Engine, own_attr
from ._routed import Routing

__all__ = ["WrappingRouting", "WrapperEngine"]


class WrapperEngine(Engine):
    """The engine of a BestOfN or Refine: wraps the side's module of whatever the module's ``module`` is now."""

    def __init__(self, instance: Any, side: str, wrapped: Any) -> None:
        super().__init__(instance, side)
        self._wrapped = wrapped    # the module's ``module`` the engine's stands for

    def _follow(self, owner: Any) -> None:
        given = own_attr(owner, "__dict__").get("module")
        if given is self._wrapped or given is None:
            return
        mine = _side_module(given, self.side, self.candidate)
        if self.side == "native":
            from dspex.native import Module as NativeModule

            if not isinstance(mine, NativeModule):
                raise ConfigError(f"{type(owner).__name__} now wraps {type(given).__module__}."
                                  f"{type(given).__name__}, which has no native engine")
            if isinstance(getattr(given, "_dspex", None), Routing) and hasattr(mine, "__dict__"):
                mine.__dict__["_dspex_source"] = type(given)
        self.instance.module = mine
        self._wrapped = given
        self.pairs = None    # its predictors are others now: paired again

    def native_status(self, owner: Any) -> tuple[bool, str]:
        try:
            self._follow(owner)
        except ConfigError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - the new module's native engine could not be built: DSPy serves
            return False, f"building the native module of its new `module` raised {type(exc).__name__}: {exc}"
        if why := self.unfit():
            return False, why
        return super().native_status(owner)

    def unfit(self) -> str:
        """Why the native side cannot serve with the module it wraps now ("" when it can). A native wrapper runs
        copies of its inner module: one with no native engine (a DSPy module the wrapper was built around) would
        run DSPy's code under a native loop, and Refine's hints reach only native predictors. DSPy serves it."""
        if self.side != "native":
            return ""
        from dspex.native import Module as NativeModule

        inner = type(getattr(self.instance, "module", None))
        return "" if issubclass(inner, NativeModule) else (
            f"it wraps {inner.__module__}.{inner.__name__}, which has no native engine; wrap a dspex module (e.g. "
            "dspex.ChainOfThought) to run it natively")

    def sync(self, owner: Any) -> Any:
        self._follow(owner)
        return super().sync(owner)

    def snapshot(self, owner: Any) -> Any:
        """Taken in the caller's thread, on the candidates' engine, which a candidate may be running: a swapped
        module is not followed here (that would swap it under the run); the candidate then syncs on its worker."""
        given = own_attr(owner, "__dict__").get("module")
        if given is not self._wrapped and given is not None:
            raise LookupError("the wrapped module was swapped: the candidate takes the module's state itself")
        return super().snapshot(owner), (self._wrapped, self.instance.module)

    def restore(self, snapshot: Any) -> Any:
        """Also the wrapped module then (the program may have swapped it since): the next sync follows again."""
        state, (wrapped, mine) = snapshot
        if self.instance.module is not mine:
            self.instance.module, self._wrapped, self.pairs = mine, wrapped, None
        return super().restore(state)


class WrappingRouting(Routing):
    def engine(self, module: Any) -> Any:
        if self._engine is None:
            self.side_args("dspy" if type(module)._shape == "native" else "native")
        return super().engine(module)

    def candidate_engine(self, module: Any) -> Any:
        """Around the inner module's candidate engine: a candidate's attempts run nothing a native-route call runs."""
        if self._candidate is None:
            self.side_args("dspy" if type(module)._shape == "native" else "native", True)
        return super().candidate_engine(module)

    def new_engine(self, made: Any, side: str) -> Engine:
        return WrapperEngine(made, side, self.args[0] if self.args else self.kwargs.get("module"))

    def side_args(self, side: str, candidate: bool = False) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """A routed ``module=`` is handed to each side as that side's module (its engine on the other side)."""
        args, kwargs = super().side_args(side, candidate)
        args, kwargs = _unwrap_module(list(args), kwargs, side, candidate)
        given = self.args[0] if self.args else self.kwargs.get("module")
        if side == "native" and isinstance(getattr(given, "_dspex", None), Routing):
            unwrapped = args[0] if args else kwargs.get("module")
            if unwrapped is not given and hasattr(unwrapped, "__dict__"):
                unwrapped.__dict__["_dspex_source"] = type(given)
        return tuple(args), kwargs

    def __deepcopy__(self, memo: dict[int, Any]) -> "WrappingRouting":
        return WrappingRouting(self.spec, self.implementation, self.name, self.sig, self.args, self.kwargs)


def _side_module(m: Any, side: str, candidate: bool = False) -> Any:
    """``m`` as ``side`` runs it: a routed module of the other shape by its engine (its candidates' engine for a
    candidates' wrapper), anything else as it is."""
    routing = getattr(m, "_dspex", None)
    if not isinstance(routing, Routing) or type(m)._shape == side:
        return m
    return (routing.candidate_engine(m) if candidate else routing.engine(m)).sync(m)


def _unwrap_module(args: list[Any], kwargs: dict[str, Any], side: str,
                   candidate: bool = False) -> tuple[list[Any], dict[str, Any]]:
    if args:
        args[0] = _side_module(args[0], side, candidate)
    elif "module" in kwargs:
        kwargs["module"] = _side_module(kwargs["module"], side, candidate)
    return args, kwargs
