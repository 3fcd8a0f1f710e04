"""Native implementations of DSPy's modules: callable without importing dspy, pydantic or an HTTP stack.

``import dspex.native`` loads only the signature model, ``Predict``, ``ChainOfThought`` and ``Prediction``;
the adapters, the HTTP ``LM``, the agents (``ReAct``, ``ReActV2``) and their value types (``Tool``,
``ToolCalls``, ``ToolCallResults``, ``History``), and the composite modules (``MultiChainComparison``,
``BestOfN``, ``Refine``, ``Parallel``, ``majority``) are imported on first use (attribute access), so the import
stays in the tens of milliseconds where ``import dspy`` takes over a second.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import AdapterParseError
from ..signature import InputField, OutputField, Signature
from ._callbacks import MUTED as callbacks_muted  # noqa: F401 - for the router's shadow candidates
from ._module import Module
from ._prediction import Completions, Prediction
from ._settings import settings
from ._stand_ins import LM_FOR as lm_stand_in  # noqa: F401 - for the router's shadow mode
from ._walk import get_by_path, set_by_path  # noqa: F401 - for the router's engines, not the user API
from .chain_of_thought import ChainOfThought
from .predict import Predict

__all__ = [
    "Signature",
    "InputField",
    "OutputField",
    "Module",
    "Predict",
    "ChainOfThought",
    "Prediction",
    "Completions",
    "ChatAdapter",
    "JSONAdapter",
    "XMLAdapter",
    "TwoStepAdapter",
    "LM",
    "AdapterParseError",
    "settings",
    "ReAct",
    "ReActV2",
    "Tool",
    "ToolCalls",
    "ToolCallResults",
    "History",
    "Image",
    "Audio",
    "File",
    "Document",
    "Code",
    "MultiChainComparison",
    "BestOfN",
    "Refine",
    "Parallel",
    "majority",
    "Majority",
]

_LAZY = {
    "ChatAdapter": "dspex.adapters",
    "JSONAdapter": "dspex.adapters",
    "XMLAdapter": "dspex.adapters",
    "TwoStepAdapter": "dspex.adapters",
    "LM": "dspex.lm",
    "ReAct": "dspex.native.react",
    "ReActV2": "dspex.native.react_v2",
    "Tool": "dspex.types",
    "ToolCalls": "dspex.types",
    "ToolCallResults": "dspex.types",
    "History": "dspex.types",
    "Image": "dspex.types",
    "Audio": "dspex.types",
    "File": "dspex.types",
    "Document": "dspex.types",
    "Code": "dspex.types",
    "MultiChainComparison": "dspex.native.multi_chain_comparison",
    "BestOfN": "dspex.native.best_of_n",
    "Refine": "dspex.native.refine",
    "Parallel": "dspex.native.parallel",
    "majority": "dspex.native.aggregation",
    "Majority": "dspex.native.aggregation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dspex.native' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
