"""The drop-in classes (DSPy's names and constructor arguments, plus ``implementation=`` and ``name=``) and
``register`` for a user's own module type."""

from __future__ import annotations

import re
from typing import Any

from dspex import registry
from dspex.registry import ModuleSpec

from ._routed import RoutedModule

__all__ = [
    "Predict", "ChainOfThought", "ReAct", "ReActV2", "MultiChainComparison", "BestOfN", "Refine", "Parallel",
    "Majority", "ProgramOfThought", "CodeAct", "RLM", "KNN", "register",
]


class Predict(RoutedModule):
    """``dspex.Predict(signature, callbacks=None, *, implementation=None, name=None, **config)``; flag ``dspex.predict``."""

    module_type = "predict"


class ChainOfThought(RoutedModule):
    """``dspex.ChainOfThought(signature, rationale_field=None, rationale_field_type=str, *, implementation=None,
    name=None, **config)``; flag ``dspex.chain_of_thought``."""

    module_type = "chain_of_thought"


class ReAct(RoutedModule):
    """``dspex.ReAct(signature, tools, max_iters=20, *, implementation=None, name=None)``; flag ``dspex.react``."""

    module_type = "react"


class ReActV2(RoutedModule):
    """``dspex.ReActV2(signature, tools, max_iters=20, *, implementation=None, name=None)`` (experimental, as in
    DSPy 3.4.1); flag ``dspex.react_v2``."""

    module_type = "react_v2"


class MultiChainComparison(RoutedModule):
    """``dspex.MultiChainComparison(signature, M=3, temperature=0.7, **config)``; flag ``dspex.multi_chain_comparison``."""

    module_type = "multi_chain_comparison"


class BestOfN(RoutedModule):
    """``dspex.BestOfN(module, N, reward_fn, threshold, fail_count=None)``; flag ``dspex.best_of_n``.

    A routed ``module`` is unwrapped per side: DSPy's BestOfN gets the inner module's DSPy instance."""

    module_type = "best_of_n"


class Refine(RoutedModule):
    """``dspex.Refine(module, N, reward_fn, threshold, fail_count=None)``; flag ``dspex.refine``."""

    module_type = "refine"


class Parallel(RoutedModule):
    """``dspex.Parallel(num_threads=None, max_errors=None, access_examples=True, return_failed_examples=False, ...)``;
    flag ``dspex.parallel`` (which executor runs the pairs; each module in them routes on its own flag)."""

    module_type = "parallel"


class Majority(RoutedModule):
    """``dspy.majority`` as a routed object (flag ``dspex.majority``); ``dspex.majority(...)`` calls one."""

    module_type = "majority"


class ProgramOfThought(RoutedModule):
    """``dspex.ProgramOfThought(signature, max_iters=3, interpreter=None)``: DSPy-only, flag ``dspex.program_of_thought``."""

    module_type = "program_of_thought"


class CodeAct(RoutedModule):
    """``dspex.CodeAct(signature, tools, max_iters=5, interpreter=None)``: DSPy-only, flag ``dspex.code_act``."""

    module_type = "code_act"


class RLM(RoutedModule):
    """``dspex.RLM(signature, max_iters=20, ...)``: DSPy-only, flag ``dspex.rlm``."""

    module_type = "rlm"


class KNN(RoutedModule):
    """``dspex.KNN(k, trainset, vectorizer)``: DSPy-only, flag ``dspex.knn``."""

    module_type = "knn"


def _class_name(module_type: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"_+", module_type) if part)


def register(module_type: str, *, native: Any = None, dspy: Any = None) -> type[RoutedModule]:
    """Make ``module_type`` routable: returns a class whose instances route on flag ``dspex.<module_type>``.

    ``native`` / ``dspy`` are classes built with the routed instance's constructor arguments and called with the
    call's arguments; either may be omitted (that side is then unavailable). The routed instance *is* a ``dspy``
    instance when DSPy is loaded (so optimizers and save/load see your DSPy module); the native one runs beside it
    and takes its predictors' state by ``named_predictors()`` name, so name them alike in both classes.
    """
    registry.add(ModuleSpec(module_type=module_type, native=native, dspy=dspy, signature_arg=False,
                            note="" if native is not None else "no native implementation registered"))
    return type(_class_name(module_type), (RoutedModule,), {
        "module_type": module_type,
        "__doc__": f"Routed module type {module_type!r} (flag dspex.{module_type}).",
        "__module__": __name__,
    })
