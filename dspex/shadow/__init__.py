"""Shadow mode: DSPy (the control) answers; the native candidate runs beside it, off the request path.

The router hands each shadow-routed call over as a :class:`ShadowCall` to :func:`run_shadow` (or
:func:`arun_shadow` from ``acall``). The caller gets exactly what the control gives; the candidate runs later on a
bounded pool, by default against the control's recorded LM transcript (zero extra LM calls), and every
divergence, candidate error or timeout becomes one JSON line in the divergence log. ``python -m dspex.shadow
report|replay|promote`` reads those logs back.
"""

from ._compare import comparator_for, compare_results
from ._lm import ShadowReplayError, is_stand_in
from ._runtime import configure, get_settings, reset, run_id, shutdown, stats
from ._read import read_for_cli
from ._settings import ShadowSettings, make_settings
from ._tools import AGENT_TYPES, ToolReplayError, ToolTape, replaying, tape_from_error, tape_from_result
from ._trajectory import first_divergence
from .experiment import ShadowCall, arun_shadow, in_candidate, run_shadow
from .observation import Observation
from .result import Result

__all__ = [
    "ShadowCall",
    "Observation",
    "Result",
    "ShadowSettings",
    "make_settings",
    "read_for_cli",
    "ShadowReplayError",
    "configure",
    "get_settings",
    "run_id",
    "run_shadow",
    "arun_shadow",
    "shutdown",
    "stats",
    "reset",
    "in_candidate",
    "comparator_for",
    "compare_results",
    "ToolTape",
    "ToolReplayError",
    "tape_from_result",
    "AGENT_TYPES",
    "tape_from_error",
    "replaying",
    "first_divergence",
    "is_stand_in",
]
