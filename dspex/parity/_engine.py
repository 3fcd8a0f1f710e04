"""Two settings of Hypothesis' engine that its public ``settings`` do not offer, held for one gate run.

Both reach into ``hypothesis.internal``; if a Hypothesis release moves them, the gate runs with the engine's
defaults (weaker, never wrong), and ``tests/parity/test_engine.py`` fails so the move is noticed.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["shrink_budget", "fresh_draws"]


@contextmanager
def shrink_budget(seconds: float) -> Iterator[None]:
    """Cap Hypothesis' shrinking time (its engine's own limit, 300 s by default) so a CI run stays bounded."""
    from hypothesis.internal.conjecture import engine

    with _patched(engine, "MAX_SHRINKING_SECONDS", seconds):
        yield


@contextmanager
def fresh_draws() -> Iterator[None]:
    """Every generated case is a fresh draw: the engine's span mutator is off.

    After each new case Hypothesis runs up to five copies of it in which one part is pasted over another of the
    same kind (useful where a bug needs two equal values; the gate's strategies draw those on purpose). For the
    gate it is mostly repetition: at 1,000 Predict cases the hunted answers held 151 distinct texts with the
    mutator and 385 without it, and a Literal member wrapped in a stray character (a planted mutant) went from
    never drawn to drawn. Shrinking does not use the mutator, so a failure still shrinks as before.
    """
    from hypothesis.internal.conjecture import engine

    runner = getattr(engine, "ConjectureRunner", None)
    if runner is None or not hasattr(runner, "generate_mutations_from"):
        yield
        return
    with _patched(runner, "generate_mutations_from", _no_mutations):
        yield


def _no_mutations(self: Any, data: Any) -> None:
    return None


@contextmanager
def _patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    saved = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)
