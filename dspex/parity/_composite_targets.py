"""The composite modules' parity properties for ``dspex parity`` (``--module multi_chain_comparison``,
``best_of_n``, ``refine``, ``parallel``, ``majority``)."""

from __future__ import annotations

from typing import Any

from ._composite_case import run_composite_case
from ._composite_strategies import best_of_n_cases, majority_cases, mcc_cases, parallel_cases, refine_cases

__all__ = ["composite_targets"]


def composite_targets(target_class: Any) -> dict[str, Any]:
    """``{module_type: Target}`` for the composite modules, built with the runner's ``Target`` class."""
    return {
        "multi_chain_comparison": target_class("multi_chain_comparison", mcc_cases(), run_composite_case),
        "best_of_n": target_class("best_of_n", best_of_n_cases(), run_composite_case),
        "refine": target_class("refine", refine_cases(), run_composite_case),
        "parallel": target_class("parallel", parallel_cases(), run_composite_case),
        "majority": target_class("majority", majority_cases(), run_composite_case),
    }
