"""What the router hands the shadow runner: one call, both implementations, and why shadow was chosen.

The runner calls ``control(lm)`` on the caller's thread and returns its result (or re-raises its exception)
unchanged; ``candidate(lm)`` runs later, off the request path. Both take the LM to use so the runner can put a
recorder in front of the control and a replayer in front of the candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

__all__ = ["ShadowCall"]


@dataclass(frozen=True, slots=True)
class ShadowCall:
    module_type: str                                   # "predict", "chain_of_thought", "my_rag", ...
    module_name: str | None                            # the instance's name= (may be None)
    inputs: Mapping[str, Any]                          # the call's input kwargs (before redaction)
    lm: Any                                            # the LM the control would have used (None: module's own)
    control: Callable[[Any], Any]                      # control(lm) -> result; DSPy
    candidate: Callable[[Any], Any]                    # candidate(lm) -> result; native
    acontrol: Callable[[Any], Awaitable[Any]] | None = None    # async twins, for acall
    acandidate: Callable[[Any], Awaitable[Any]] | None = None
    signature: Any = None                              # native Signature class when known (per-field comparators)
    variant: str | None = None                         # the flag variant that chose shadow
    reason: str = ""                                   # the router's reason for the decision
    targeting_key: str | None = None                   # for sticky sampling
    flag_key: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)   # the evaluation context's extra attributes
    demos: Any = None                                  # the module's demos for this call (logged for promote)
    config: Mapping[str, Any] | None = None            # the call's LM config (logged for promote)
    notes: Callable[[Any, Any], Mapping[str, Any]] | None = None   # (control, candidate) -> extra record fields
