"""The hunting strategies give every annotation family and every wrong shape a share of the cases, and the
gate's budget can be split by module type."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal, get_args, get_origin

import pytest
from hypothesis import Phase, given, settings

from dspex.errors import DspexError
from dspex.parity._engine import fresh_draws
from dspex.parity._hunt import CROSS, FAMILIES, SHAPES, answer_texts
from dspex.parity._hunt_cases import hunt_cases
from dspex.parity.runner import module_budgets

_FAMILY_OF = {repr(tp): family for family, members in FAMILIES.items() for tp in members}
_DRAWN = {"literal text"}   # families drawn by a strategy rather than listed (any other Literal of strings)


def _family(annotation: Any) -> str:
    return _FAMILY_OF.get(repr(annotation)) or ("literal text" if get_origin(annotation) is Literal else "?")


def _draw_all(strategy: Any, n: int) -> list[Any]:
    seen: list[Any] = []

    @settings(max_examples=n, database=None, derandomize=True, phases=[Phase.generate], deadline=None)
    @given(strategy)
    def collect(value: Any) -> None:
        seen.append(value)

    with fresh_draws():   # as the gate draws (dspex/parity/runner.py)
        collect()
    return seen


def test_every_annotation_family_is_hunted_in_a_few_hundred_cases() -> None:
    families: Counter[str] = Counter()
    for case in _draw_all(hunt_cases(), 400):
        families.update(_family(f.annotation) for f in case.signature.outputs)
    assert set(families) == set(FAMILIES) | _DRAWN, f"never hunted: {set(FAMILIES) | _DRAWN - set(families)}"
    assert min(families.values()) >= 5, families


def test_an_int_field_meets_every_wrong_shape_and_other_types_json() -> None:
    texts = Counter(_draw_all(answer_texts(int), 600))
    every_shape = {text for pool in SHAPES.values() for text in pool} | set(CROSS[int])
    categories = {name for name, pool in SHAPES.items() if texts.keys() & set(pool)}
    assert categories == set(SHAPES), f"shape categories never drawn: {set(SHAPES) - categories}"
    assert texts["true"] + texts["false"] >= 20, texts.most_common(10)
    assert sum(n for text, n in texts.items() if text in every_shape) > sum(texts.values()) / 2


def test_module_budgets_split_the_gate_by_module_type() -> None:
    assert module_budgets(1000, "") == {}
    assert module_budgets(1000, "predict=1000, chain_of_thought=600") == {"predict": 1000, "chain_of_thought": 600}
    for bad in ("predict", "predict=0", "=5", "predict=many"):
        with pytest.raises(DspexError, match="DSPEX_PARITY_BUDGET"):
            module_budgets(1000, bad)


def test_hunting_cases_repeat_calls_name_types_and_quote_literals() -> None:
    """A quarter of the hunting cases call twice with the same answer (a shared cached value would show); nested
    user types come as ``custom_types=``; drawn Literal strings hold both quote kinds."""
    drawn = _draw_all(hunt_cases(), 400)
    repeated = [c for c in drawn if c.repeat == 2]
    assert len(repeated) >= 50 and all(c.lm.script[0] == c.lm.script[1] for c in repeated)
    assert any(c.signature.form == "string_types" and c.signature.names for c in drawn)
    quoted = [a for c in drawn for f in c.signature.fields if get_origin(a := f.annotation) is Literal
              for v in get_args(a) if isinstance(v, str) and "'" in v and '"' in v]
    assert len(quoted) >= 3
