"""The router: settings, flags (OpenFeature domain "dspex"), decisions, routed classes.

Importing this package loads neither OpenFeature nor dspy; the flag source is created on the first routed call
(or at ``configure``) and dspy is imported only when a call goes to DSPy.
"""

from ._classes import (
    KNN,
    RLM,
    BestOfN,
    ChainOfThought,
    CodeAct,
    Majority,
    MultiChainComparison,
    Parallel,
    Predict,
    ProgramOfThought,
    ReAct,
    ReActV2,
    Refine,
    register,
)
from ._functions import majority
from ._context import request
from ._decision import Decision
from ._exec import ShadowUnavailableError
from ._routed import RoutedModule, Routing
from ._runtime import configure, reset, set_provider, shutdown


def settings():  # noqa: ANN201 - the effective Settings (loads env / pyproject on first use)
    """The effective, validated settings."""
    from ._runtime import load

    return load()


def flag_client():  # noqa: ANN201 - openfeature's client
    """The OpenFeature client of domain "dspex" that routing evaluates flags with (hooks go here)."""
    from ._runtime import flag_source

    return flag_source().client


def metrics() -> dict:
    """Per-module adaptive-routing counters (empty when ``adaptive.enabled`` is off)."""
    from ._runtime import STATE

    return STATE.circuit.snapshot() if STATE.circuit is not None else {}


__all__ = [
    "BestOfN", "ChainOfThought", "MultiChainComparison", "Predict", "ProgramOfThought", "ReAct", "ReActV2", "Refine",
    "Parallel", "Majority", "majority", "CodeAct", "RLM", "KNN", "register", "request", "Decision", "RoutedModule", "Routing", "ShadowUnavailableError", "configure", "reset",
    "set_provider", "shutdown", "settings", "metrics", "flag_client",
]
