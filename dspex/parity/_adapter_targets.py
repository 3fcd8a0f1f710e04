"""The adapters' parity properties for ``dspex parity`` (``--module xml_adapter``, ``two_step_adapter``,
``json_adapter``): Predict and ChainOfThought under each adapter, configured as a program configures it; and
``content_types``: DSPy's Image / Audio / File / Document / Code fields (and dates) under ChatAdapter and
JSONAdapter."""

from __future__ import annotations

from typing import Any

from ._adapter_case import run_adapter_case
from ._adapter_strategies import json_capability_cases, two_step_cases, xml_cases
from ._content_strategies import content_cases
from .harness import run_case

__all__ = ["adapter_targets", "ADAPTER_TARGETS"]

ADAPTER_TARGETS = ("xml_adapter", "two_step_adapter", "json_adapter", "content_types")


def adapter_targets(target_class: Any) -> dict[str, Any]:
    """``{name: Target}`` for the adapters, built with the runner's ``Target`` class."""
    return {
        "xml_adapter": target_class("xml_adapter", xml_cases(), run_adapter_case),
        "two_step_adapter": target_class("two_step_adapter", two_step_cases(), run_adapter_case),
        "json_adapter": target_class("json_adapter", json_capability_cases(), run_adapter_case),
        "content_types": target_class("content_types", content_cases(), lambda ex: run_case(*ex)),
    }
