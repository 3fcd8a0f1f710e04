"""DSPy's functions as callable objects, so that they route like modules (``dspex.majority`` on flag
``dspex.majority``): the DSPy side of a routed function. dspy is imported on the first call, not here."""

from __future__ import annotations

from typing import Any

__all__ = ["DSPyMajority", "majority"]


class DSPyMajority:
    """``dspy.majority`` as an object: the ``dspy`` implementation of module type ``majority``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import dspy

        return dspy.majority(*args, **kwargs)


_ROUTED: Any = None


def majority(prediction_or_completions: Any, *args: Any, **kwargs: Any) -> Any:
    """``dspy.majority``'s arguments (``normalize=``, ``field=``), routed on flag ``dspex.majority``; also takes
    ``implementation=`` (native | dspy | shadow) for this call."""
    global _ROUTED
    if _ROUTED is None:
        from ._classes import Majority

        _ROUTED = Majority(name="majority")
    return _ROUTED(prediction_or_completions, *args, **kwargs)
