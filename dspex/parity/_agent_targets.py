"""The agent modules' parity properties for ``dspex parity`` (``--module react`` / ``--module react_v2``)."""

from __future__ import annotations

from typing import Any

from ._agent_case import run_agent_case
from ._agent_strategies import react_cases
from ._agent_v2_strategies import react_v2_cases

__all__ = ["agent_targets"]


def agent_targets(target_class: Any) -> dict[str, Any]:
    """``{module_type: Target}`` for the agents, built with the runner's ``Target`` class."""
    return {
        "react": target_class("react", react_cases(), run_agent_case),
        "react_v2": target_class("react_v2", react_v2_cases(), run_agent_case),
    }
