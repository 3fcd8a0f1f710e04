"""The hunting strategies give every annotation family and every wrong shape a share of the cases, and the
gate's budget can be split by module type."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import Phase, given, settings

from dspex.errors import DspexError
from dspex.parity._hunt import CROSS, FAMILIES, SHAPES, answer_texts
from dspex.parity._hunt_cases import hunt_cases
from dspex.parity.runner import module_budgets

_FAMILY_OF = {repr(tp): family for family, members in FAMILIES.items() for tp in members}


def _draw_all(strategy: Any, n: int) -> list[Any]:
    seen: list[Any] = []

    @settings(max_examples=n, database=None, derandomize=True, phases=[Phase.generate], deadline=None)
    @given(strategy)
    def collect(value: Any) -> None:
        seen.append(value)

    collect()
    return seen


def test_every_annotation_family_is_hunted_in_a_few_hundred_cases() -> None:
    families: Counter[str] = Counter()
    for case in _draw_all(hunt_cases(), 400):
        families.update(_FAMILY_OF[repr(f.annotation)] for f in case.signature.outputs)
    assert set(families) == set(FAMILIES), f"never hunted: {set(FAMILIES) - set(families)}"
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
