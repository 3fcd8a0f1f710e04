"""The agent modules' parity properties for ``dspex parity`` (``--module react`` / ``--module react_v2``)."""

from __future__ import annotations

from typing import Any

from ._agent_case import run_agent_case
from ._agent_strategies import react_cases

__all__ = ["agent_targets"]


def agent_targets(target_class: Any) -> dict[str, Any]:
    """``{module_type: Target}`` for the agents, built with the runner's ``Target`` class."""
    targets = {"react": target_class("react", react_cases(), run_agent_case)}
    try:
        from ._agent_strategies import react_v2_cases
    except ImportError:  # pragma: no cover - ReActV2's strategies not present
        return targets
    targets["react_v2"] = target_class("react_v2", react_v2_cases(), run_agent_case)
    return targets
