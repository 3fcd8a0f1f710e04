"""The parity suite: scripted LMs, Hypothesis strategies and the differential harness (native vs real DSPy).

This package imports dspy (its scripted LM is a real ``dspy.BaseLM``): it is never on the native import path.
Import the submodules directly: ``dspex.parity.harness``, ``dspex.parity.strategies``, ``dspex.parity.scripted_lm``.
"""

__all__: list[str] = []
