"""The two back-ends of a module type, in the seed's protocol (``create``, ``execute`` / ``aexecute``, ``info``).

A routed module is a module of one back-end (its shape); the router builds the other back-end's module with
``create`` (the engine) and calls it with ``execute``. The DSPy back-end lives on DSPy's side
(``dspex.dspy_backend.DSPyBackend``); the native one is here, since native code knows nothing of routing.
"""

from __future__ import annotations

import asyncio
from typing import Any, Mapping

from dspex.registry import ModuleSpec, native_class

__all__ = ["NativeBackend", "backend_for"]


class NativeBackend:
    """The native implementation of one module type (``spec.native``: ``"dspex.native:Predict"``, a user's class)."""

    name = "native"

    def __init__(self, spec: ModuleSpec) -> None:
        self.spec = spec

    def create(self, *args: Any, **opts: Any) -> Any:
        cls, why = native_class(self.spec)
        if cls is None:
            from dspex.errors import NativeUnavailableError

            raise NativeUnavailableError(f"dspex.{self.spec.module_type} has no native implementation: {why}.")
        return cls(*args, **opts)

    def execute(self, instance: Any, inputs: Mapping[str, Any], args: tuple = ()) -> Any:
        return instance(*args, **inputs)

    async def aexecute(self, instance: Any, inputs: Mapping[str, Any], args: tuple = ()) -> Any:
        acall = getattr(instance, "acall", None)
        if acall is not None:
            return await acall(*args, **inputs)
        return await asyncio.to_thread(instance, *args, **inputs)

    def info(self) -> dict[str, Any]:
        cls, why = native_class(self.spec)
        return {"implementation": "native", "module_type": self.spec.module_type,
                "target": self.spec.native if isinstance(self.spec.native, str) else getattr(cls, "__qualname__", None),
                "available": cls is not None, "why_not": why}


def backend_for(spec: ModuleSpec, side: str) -> Any:
    """The ``side`` ("native" or "dspy") back-end of a module type."""
    if side == "native":
        return NativeBackend(spec)
    from dspex.dspy_backend import DSPyBackend

    return DSPyBackend(spec)
