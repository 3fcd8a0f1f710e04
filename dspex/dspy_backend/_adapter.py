"""The DSPy implementation adapter: builds and calls real DSPy modules, importing dspy only when used.

The seed's protocol: ``create(signature, *args, **opts)`` builds an instance, ``execute(instance, inputs, **opts)``
(and ``aexecute``) runs it, ``info()`` describes the implementation. The LM given to a call is installed with
``dspy.context(lm=...)`` (a contextvar, so concurrent calls never see each other's LM) rather than passed as
``lm=``: every DSPy module honours the context, while only ``Predict`` reads an ``lm=`` keyword.
"""

from __future__ import annotations

from typing import Any, Mapping

from dspex.environment import dspy_version
from dspex.errors import DSPyNotInstalledError
from dspex.registry import ModuleSpec, resolve

__all__ = ["DSPyAdapter", "dspy_version", "import_dspy"]



def import_dspy(what: str = "This call was routed to DSPy") -> Any:
    try:
        import dspy
    except ImportError as exc:
        raise DSPyNotInstalledError(what) from exc
    return dspy


def _unwrap(module: Any) -> Any:
    """A routed dspex module handed to BestOfN/Refine becomes its DSPy instance on the DSPy side."""
    to_dspy = getattr(module, "dspy_instance", None)
    return to_dspy() if callable(to_dspy) else module


class DSPyAdapter:
    name = "dspy"

    def __init__(self, spec: ModuleSpec) -> None:
        self.spec = spec

    def module_class(self) -> Any:
        if self.spec.dspy is None:
            raise DSPyNotInstalledError(f"Module type {self.spec.module_type!r} has no DSPy implementation registered; it")
        if isinstance(self.spec.dspy, str) and self.spec.dspy.startswith("dspy:"):
            import_dspy(f"dspex.{self._cls_name()} was routed to DSPy")
        return resolve(self.spec.dspy)

    def _cls_name(self) -> str:
        return self.spec.dspy.partition(":")[2] if isinstance(self.spec.dspy, str) else self.spec.module_type

    def create(self, *args: Any, custom_types: Mapping[str, Any] | None = None, **opts: Any) -> Any:
        """Build the DSPy module; a native or string signature becomes a real ``dspy.Signature`` first."""
        cls = self.module_class()
        args = list(args)
        if self.spec.signature_arg:
            if args:
                args[0] = self.dspy_signature(args[0], custom_types)
            elif "signature" in opts:
                opts["signature"] = self.dspy_signature(opts["signature"], custom_types)
        if self.spec.wraps_module:
            if args:
                args[0] = _unwrap(args[0])
            elif "module" in opts:
                opts["module"] = _unwrap(opts["module"])
        return cls(*args, **opts)

    @staticmethod
    def dspy_signature(sig: Any, custom_types: Mapping[str, Any] | None = None) -> Any:
        from dspex.signature import SignatureMeta

        if isinstance(sig, str):
            dspy = import_dspy("Building a DSPy signature")
            # custom_types={} (not None) stops DSPy from searching *our* stack frames for the names.
            return dspy.Signature(sig, custom_types=dict(custom_types or {}))
        if isinstance(sig, SignatureMeta):
            from ._signature import to_dspy_signature

            return to_dspy_signature(sig)
        return sig

    def execute(self, instance: Any, inputs: Mapping[str, Any], lm: Any = None, args: tuple = (), **opts: Any) -> Any:
        if lm is None:
            return instance(*args, **inputs, **opts)
        dspy = import_dspy()
        with dspy.context(lm=lm):
            return instance(*args, **inputs, **opts)

    async def aexecute(self, instance: Any, inputs: Mapping[str, Any], lm: Any = None, args: tuple = (), **opts: Any) -> Any:
        if not hasattr(instance, "acall"):   # a user's module without async support: run it in a worker thread
            import asyncio

            return await asyncio.to_thread(self.execute, instance, inputs, lm, args, **opts)
        if lm is None:
            return await instance.acall(*args, **inputs, **opts)
        dspy = import_dspy()
        with dspy.context(lm=lm):
            return await instance.acall(*args, **inputs, **opts)

    def info(self) -> dict[str, Any]:
        return {
            "implementation": "dspy",
            "module_type": self.spec.module_type,
            "target": self.spec.dspy if isinstance(self.spec.dspy, str) else getattr(self.spec.dspy, "__qualname__", repr(self.spec.dspy)),
            "dspy_version": dspy_version(),
            "available": self.spec.dspy is not None and (not str(self.spec.dspy).startswith("dspy:") or bool(dspy_version())),
        }
