"""DSPy's capability planning around a native adapter call on a ``dspy.LM``.

A ``dspy.LM`` answers ``supported_params`` / ``supports_response_schema`` / ``supports_function_calling`` /
``supports_reasoning`` from the backend it would use, and that choice depends on the call's own client options
(``api_base``, ``extra_headers``, ... in ``lm_kwargs``): an Anthropic model on lm15 has no ``response_format``,
the same model reached through LiteLLM has. DSPy's adapters read those answers inside
``with_capability_planning(lm, lm_kwargs)``; a native adapter reading them bare would see the LM's defaults and
send a different request. So the bridge opens the same scope around a native adapter call, and an async call
resolves the answers off the event loop first, as DSPy's ``prepare_async`` does.
"""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator, Iterator

import dspy
from dspy.clients.capabilities import planning_scope, prepare_async

__all__ = ["plans_capabilities", "capability_scope", "acapability_scope"]


def plans_capabilities(lm: Any) -> bool:
    """Only an LM whose capability properties go through DSPy's planner (a ``dspy.LM``) needs the scope."""
    return isinstance(lm, dspy.LM)


@contextlib.contextmanager
def capability_scope(lm: Any, lm_kwargs: dict[str, Any]) -> Iterator[None]:
    with planning_scope(lm, lm_kwargs):
        yield


@contextlib.asynccontextmanager
async def acapability_scope(lm: Any, lm_kwargs: dict[str, Any]) -> AsyncIterator[None]:
    with planning_scope(lm, lm_kwargs):
        await prepare_async(lm)
        yield
