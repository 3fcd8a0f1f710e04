"""Pin a benchmark and the workers it starts to one CPU, so each ratio compares its two sides on the same core.

On these machines (2 vCPUs) the native worker, a separate process, lands on either core, and the cores do not
run alike: in unpinned runs of ``run.py`` the worker's floor (the same ``str.format`` and regex every time) took
2.4 us in one run and 4.6 us in the next, moving the Predict ratio from 79x to 45x with DSPy's side unchanged.
Pinned, five runs on each core gave 78-80x. Interleaving rounds cannot remove that noise, since it is per
process, not per moment; one core for both sides does. Worker processes inherit the affinity.
"""

from __future__ import annotations

import os

__all__ = ["pin_to_one_cpu", "describe"]


def pin_to_one_cpu(enabled: bool = True) -> int | None:
    """Pin this process (and so the workers it starts later) to its lowest allowed CPU; the CPU, or None where
    pinning is off, unsupported or moot (a single allowed CPU)."""
    if not enabled or not hasattr(os, "sched_setaffinity"):
        return None
    cpus = os.sched_getaffinity(0)
    if len(cpus) < 2:
        return None
    cpu = min(cpus)
    os.sched_setaffinity(0, {cpu})
    return cpu


def describe(cpu: int | None) -> str:
    """The line a report prints about where both sides ran."""
    if cpu is None:
        return "both sides ran where the OS placed them (not pinned)"
    return f"both sides pinned to CPU {cpu} (--no-pin lets the OS place them)"
