"""The native implementation adapter (the seed's protocol: ``create``, ``execute``, ``info``).

Native modules take DSPy's call kwargs, ``lm=`` included, so the LM chosen for a call is passed explicitly
rather than read from a global deep inside.
"""

from __future__ import annotations

import asyncio
from typing import Any, Mapping

from dspex.registry import ModuleSpec, native_class

__all__ = ["NativeAdapter"]


def _unwrap(module: Any) -> Any:
    to_native = getattr(module, "native_instance", None)
    return to_native() if callable(to_native) else module


class NativeAdapter:
    name = "native"

    def __init__(self, spec: ModuleSpec) -> None:
        self.spec = spec

    def status(self) -> tuple[Any, str]:
        return native_class(self.spec)

    def create(self, *args: Any, **opts: Any) -> Any:
        cls, why = native_class(self.spec)
        if cls is None:
            from dspex.errors import NativeUnavailableError

            raise NativeUnavailableError(f"dspex.{self.spec.module_type} has no native implementation: {why}.")
        if self.spec.wraps_module:
            args = (_unwrap(args[0]), *args[1:]) if args else args
            if "module" in opts:
                opts["module"] = _unwrap(opts["module"])
        return cls(*args, **opts)

    def execute(self, instance: Any, inputs: Mapping[str, Any], lm: Any = None, args: tuple = (), **opts: Any) -> Any:
        if lm is not None:
            opts["lm"] = lm
        return instance(*args, **inputs, **opts)

    async def aexecute(self, instance: Any, inputs: Mapping[str, Any], lm: Any = None, args: tuple = (), **opts: Any) -> Any:
        if lm is not None:
            opts["lm"] = lm
        acall = getattr(instance, "acall", None)
        if acall is not None:
            return await acall(*args, **inputs, **opts)
        return await asyncio.to_thread(instance, *args, **inputs, **opts)

    def info(self) -> dict[str, Any]:
        cls, why = native_class(self.spec)
        return {
            "implementation": "native",
            "module_type": self.spec.module_type,
            "target": self.spec.native if isinstance(self.spec.native, str) else getattr(cls, "__qualname__", None),
            "available": cls is not None,
            "why_not": why,
        }
