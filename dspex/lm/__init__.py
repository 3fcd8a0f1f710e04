"""The LM call convention and ``dspex.LM``, a light OpenAI-compatible HTTP client.

An LM is any callable ``lm(messages=[...], **kwargs) -> list[str | dict]`` (DSPy's convention), so a
``dspy.LM``, a ``dspex.LM`` or a scripted function all serve native modules. Optional attributes, read where
DSPy reads them: ``kwargs`` (request defaults such as ``temperature`` and ``n``), ``supported_params``,
``supports_response_schema``, and ``acall`` (awaited when present; otherwise :func:`acall_lm` runs the sync call
in a worker thread).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol, runtime_checkable

from ._client import LM
from ._observe import LMObserver
from ._observe import install as add_observer
from ._observe import uninstall as remove_observer

__all__ = ["LM", "LMLike", "LMObserver", "call_lm", "acall_lm", "add_observer", "remove_observer"]


@runtime_checkable
class LMLike(Protocol):
    """What native modules need from an LM: DSPy's call convention."""

    def __call__(self, *, messages: list[dict[str, Any]], **kwargs: Any) -> list[Any]: ...


def call_lm(lm: Any, messages: list[dict[str, Any]], **kwargs: Any) -> list[Any]:
    """Call ``lm`` the way DSPy's adapters do."""
    return lm(messages=messages, **kwargs)


async def acall_lm(lm: Any, messages: list[dict[str, Any]], **kwargs: Any) -> list[Any]:
    """Await ``lm.acall`` when the LM has one; otherwise run the sync call off the event loop."""
    acall = getattr(lm, "acall", None)
    if acall is not None:
        return await acall(messages=messages, **kwargs)
    return await asyncio.to_thread(lm, messages=messages, **kwargs)
