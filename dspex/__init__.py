"""dspex: move a DSPy program module by module onto native implementations, with OpenFeature flags choosing
``native``, ``dspy`` or ``shadow`` per module on every call.

``import dspex`` stays light: the names below are loaded on first use (PEP 562 ``__getattr__``), so importing
``dspex.native`` never pulls in the router, OpenFeature, pydantic or dspy.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> "module:attr" (or "module" for a submodule)
_LAZY: dict[str, str] = {
    **{n: f"dspex.router:{n}" for n in (
        "Predict", "ChainOfThought", "ReAct", "ReActV2", "MultiChainComparison", "BestOfN", "Refine", "Parallel",
        "majority", "ProgramOfThought", "CodeAct", "RLM", "KNN", "register", "request", "configure", "set_provider", "shutdown",
    )},
    "Signature": "dspex.signature:Signature",
    "InputField": "dspex.signature:InputField",
    "OutputField": "dspex.signature:OutputField",
    "Prediction": "dspex.native:Prediction",
    "LM": "dspex.lm:LM",
    "telemetry": "dspex.telemetry",
    "metrics": "dspex.metrics",
    "errors": "dspex.errors",
    "registry": "dspex.registry",
    "router": "dspex.router",
    "native": "dspex.native",
    "shadow": "dspex.shadow",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'dspex' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value   # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
