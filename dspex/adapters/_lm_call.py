"""The async LM call every native adapter path makes, in one place.

``await`` the LM as DSPy's adapters do: through the DSPy bridge when DSPy is loaded (its histories, callbacks and
capability scopes), else the LM's own ``acall``, else its sync call in a thread. An exception out of the LM is
marked as the LM's own (``dspex.errors.lm_failed``), so the router never answers it by calling the LM again on
DSPy. (The sync calls stay inline in their callers: Predict's commonest call is one of them, and a function
call there costs a measurable share of it.)
"""

from __future__ import annotations

from typing import Any

from .. import hooks
from ..errors import lm_failed

__all__ = ["acall_lm"]


async def acall_lm(lm: Any, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> Any:
    bridge = hooks.bridge
    try:
        if bridge is not None:
            return await bridge.acall_lm(lm, messages, kwargs)
        acall = getattr(lm, "acall", None)
        if acall is not None:
            return await acall(messages=messages, **kwargs)
        import asyncio  # only async callers pay for importing asyncio

        return await asyncio.to_thread(lambda: lm(messages=messages, **kwargs))
    except Exception as exc:
        lm_failed(exc)
        raise
