"""The gate's two settings of Hypothesis' engine (dspex/parity/_engine.py) are live in the installed Hypothesis:
if a release moves them, the gate silently falls back to the engine's defaults, so this fails instead."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import engine

from dspex.parity._engine import fresh_draws, shrink_budget


def _equal_halves(examples: int) -> int:
    """How many generated pairs have two equal halves (1 in 40 for independent draws)."""
    seen: list[tuple[str, str]] = []
    parts = st.sampled_from([f"w{i}" for i in range(40)])

    @seed(20261125)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.tuples(parts, parts))
    def prop(pair: tuple[str, str]) -> None:
        seen.append(pair)

    prop()
    return sum(a == b for a, b in seen)


def test_fresh_draws_switches_the_span_mutator_off_and_restores_it() -> None:
    original = engine.ConjectureRunner.generate_mutations_from
    with fresh_draws():
        assert engine.ConjectureRunner.generate_mutations_from is not original
    assert engine.ConjectureRunner.generate_mutations_from is original


def test_fresh_draws_stops_pasting_one_part_of_a_case_over_another() -> None:
    with_mutator = _equal_halves(300)
    with fresh_draws():
        fresh = _equal_halves(300)
    assert fresh < with_mutator / 2, (fresh, with_mutator)


def test_shrink_budget_sets_and_restores_the_engine_limit() -> None:
    saved = engine.MAX_SHRINKING_SECONDS
    with shrink_budget(7.0):
        assert engine.MAX_SHRINKING_SECONDS == 7.0
    assert engine.MAX_SHRINKING_SECONDS == saved
