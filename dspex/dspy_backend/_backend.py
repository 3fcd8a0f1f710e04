"""The DSPy back-end, in the seed's protocol: ``create(*args, **opts)`` builds a real DSPy module, ``execute`` /
``aexecute`` run one, ``info()`` describes it. dspy is imported only when a DSPy module is built or called.

(A *back-end* is one implementation of a module type; the prompt formats, ChatAdapter and friends, are *adapters*.)
"""

from __future__ import annotations

from typing import Any, Mapping

from dspex.environment import dspy_version
from dspex.errors import DSPyNotInstalledError
from dspex.registry import ModuleSpec, resolve

__all__ = ["DSPyBackend", "dspy_version", "import_dspy", "dspy_signature"]


def import_dspy(what: str = "This call was routed to DSPy") -> Any:
    try:
        import dspy
    except ImportError as exc:
        raise DSPyNotInstalledError(what) from exc
    return dspy


def dspy_signature(sig: Any, custom_types: Mapping[str, Any] | None = None) -> Any:
    """A string or native signature as a real ``dspy.Signature`` (a DSPy one is returned as is)."""
    from dspex.signature import SignatureMeta

    if isinstance(sig, str):
        dspy = import_dspy("Building a DSPy signature")
        # custom_types={} (not None) stops DSPy from searching *our* stack frames for the names.
        return dspy.Signature(sig, custom_types=dict(custom_types or {}))
    if isinstance(sig, SignatureMeta):
        from ._signature import to_dspy_signature

        return to_dspy_signature(sig)
    return sig


class DSPyBackend:
    """DSPy's implementation of one module type (``spec.dspy``: ``"dspy:Predict"``, or a user's class)."""

    name = "dspy"

    def __init__(self, spec: ModuleSpec) -> None:
        self.spec = spec

    def module_class(self) -> Any:
        if self.spec.dspy is None:
            raise DSPyNotInstalledError(f"Module type {self.spec.module_type!r} has no DSPy implementation registered; it")
        if isinstance(self.spec.dspy, str) and self.spec.dspy.startswith("dspy:"):
            import_dspy(f"dspex.{self.spec.module_type} was routed to DSPy")
        return resolve(self.spec.dspy)

    def create(self, *args: Any, **opts: Any) -> Any:
        """Build the DSPy module from arguments already prepared for DSPy (see ``Routing.side_args``)."""
        return self.module_class()(*args, **opts)

    def execute(self, instance: Any, inputs: Mapping[str, Any], args: tuple = ()) -> Any:
        return instance(*args, **inputs)

    async def aexecute(self, instance: Any, inputs: Mapping[str, Any], args: tuple = ()) -> Any:
        if not hasattr(instance, "acall"):   # a user's module without async support: run it in a worker thread
            import asyncio

            return await asyncio.to_thread(instance, *args, **inputs)
        return await instance.acall(*args, **inputs)

    def info(self) -> dict[str, Any]:
        return {
            "implementation": "dspy",
            "module_type": self.spec.module_type,
            "target": self.spec.dspy if isinstance(self.spec.dspy, str) else getattr(self.spec.dspy, "__qualname__", repr(self.spec.dspy)),
            "dspy_version": dspy_version(),
            "available": self.spec.dspy is not None and (not str(self.spec.dspy).startswith("dspy:") or bool(dspy_version())),
        }
