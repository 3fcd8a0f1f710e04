"""What DSPy's agents share besides the loop: error text for the LM, the context-window check, the trajectory
rendering, the tools a run calls and the logger. Imported only when an agent module is used."""

from __future__ import annotations

import logging
import sys
from typing import Any, Mapping

from .. import hooks
from ..errors import ContextWindowExceededError

__all__ = ["format_error_for_lm", "is_context_window_error", "format_trajectory", "context_window_error", "logger",
           "run_tools"]

logger = logging.getLogger("dspy.predict.react")   # where DSPy's ReAct warns


def format_error_for_lm(error: BaseException, *, traceback_frames: int = 0) -> str:
    """DSPy's ``format_error_for_lm``: ``str(error)``, or a newline and a traceback of at most that many frames."""
    if traceback_frames <= 0:
        return str(error)
    import traceback

    return "\n" + "".join(
        traceback.format_exception(type(error), error, error.__traceback__, limit=traceback_frames)
    ).strip()


def is_context_window_error(error: BaseException) -> bool:
    """dspex's own ContextWindowExceededError or DSPy's (``dspy.utils.exceptions``), recognised by class, not by
    importing dspy: a ``dspy.LM`` raises DSPy's even when a native module called it."""
    if isinstance(error, ContextWindowExceededError):
        return True
    return any(
        c.__name__ == "ContextWindowExceededError" and c.__module__.split(".")[0] == "dspy"
        for c in type(error).__mro__
    )


def context_window_error(message: str) -> ContextWindowExceededError:
    return ContextWindowExceededError(message=message)


def _is_chat_formatting(adapter: Any) -> bool:
    from ..adapters import ChatAdapter

    return getattr(type(adapter), "format_user_message_content", None) is ChatAdapter.format_user_message_content


def format_trajectory(trajectory: Mapping[str, Any], adapter: Any) -> str:
    """The trajectory as DSPy renders it: ``adapter.format_user_message_content`` of a signature whose inputs
    are the trajectory's keys (untyped, so ``str``). ChatAdapter's own method is done inline; an adapter that
    overrides it gets the signature."""
    if _is_chat_formatting(adapter):
        from ..adapters import format_field_value

        return "\n\n".join(f"[[ ## {k} ## ]]\n{format_field_value(True, v)}" for k, v in trajectory.items()).strip()
    from ..signature import ensure_signature

    signature = ensure_signature(f"{', '.join(trajectory.keys())} -> x")
    return adapter.format_user_message_content(signature, trajectory)


def run_tools(agent: Any) -> Any:
    """What an agent's run calls its tools through (``tools[name](**args)``, ``await tools[name].acall(...)``): its
    own ``tools``, or, inside a routed module's native call in a DSPy program, the same tools reporting each call to
    DSPy's tool callbacks as ``dspy.Tool`` does (the bridge's ``agent_tools``). Two lookups without DSPy."""
    bridge = hooks.bridge
    if bridge is None:
        if sys.modules.get("dspy") is None:
            return agent.tools
        bridge = hooks.current()   # DSPy loaded, bridge not yet (this may be the process's first native call)
        if bridge is None:
            return agent.tools
    reporting = getattr(bridge, "agent_tools", None)
    return agent.tools if reporting is None else reporting(agent)
