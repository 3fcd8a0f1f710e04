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


def _drawn(examples: int) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []

    @seed(20261125)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.tuples(st.text(max_size=8), st.integers()))
    def prop(case: tuple[str, int]) -> None:
        seen.append(case)

    with fresh_draws():
        prop()
    return seen


def test_a_larger_budget_at_the_same_seed_replays_the_smaller_one_first() -> None:
    """The nightly gate (3,000 cases at CI's seed first) kills every mutant CI's gate (1,000) kills: with fresh
    draws its first thousand cases are CI's, in CI's order (from 500 cases up Hypothesis' small-case phase is the
    same 50 cases; docs/parity.md, "The gate's power")."""
    ci, nightly = _drawn(500), _drawn(1500)
    assert len(ci) == 500 and len(nightly) == 1500
    assert nightly[:500] == ci
