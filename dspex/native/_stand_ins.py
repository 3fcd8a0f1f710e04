"""The LM a native predictor uses in place of the one it reads first (the call's ``lm=``, else its own).

For the router's shadow mode: a candidate replays its control's LM transcript, so every LM its predictors would
use needs a replayer in front of it (the default one is replaced through ``settings.context``; an LM a predictor
holds, or a rollout copy of it, cannot be); and a native call made inside a shadow control (a routed module nested
in a shadowed one) is recorded through the control's recorders. Set per context, never on a module: engines and
modules are shared with calls on other threads, which must keep the LM they hold. Unset (None), a predictor with an
LM of its own pays one contextvar read; one that uses the default LM pays nothing.
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable

__all__ = ["LM_FOR"]

LM_FOR: contextvars.ContextVar[Callable[[Any], Any] | None] = contextvars.ContextVar("dspex_lm_stand_in",
                                                                                     default=None)
