"""``majority`` over this package's Completions reads their columns directly; it must pick what ``dspy.majority``
picks over DSPy's own Completions, with the same calls of a user's ``normalize`` (DSPy normalises the winner
search again), for any values: ties, ``None`` from the normaliser, ``dspy_`` keys, an explicit field."""

from __future__ import annotations

from typing import Any

import dspy
from hypothesis import given, settings
from hypothesis import strategies as st

import dspex.native as native

WORDS = st.sampled_from(["Paris", "paris.", "The Paris", "Rome", "", "  ", "a", "Lyon!", "ROME"])


def _run(lib: Any, rows: list[dict[str, Any]], mode: str, field: str | None) -> tuple[Any, list[Any]]:
    calls: list[Any] = []

    def counting(v: Any) -> Any:
        calls.append(v)
        return v.strip().lower() or None

    normalize = {"default": {}, "none": {"normalize": None}, "counting": {"normalize": counting}}[mode]
    pred = lib.Prediction.from_completions(rows, signature=None)
    try:
        out: Any = dict(lib.majority(pred, **normalize, **({} if field is None else {"field": field})).items())
    except Exception as e:  # noqa: BLE001 - the error is part of the behaviour compared
        out = (type(e).__name__, str(e))
    return out, calls


@settings(max_examples=200, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=7), st.sampled_from(["default", "none", "counting"]),
       st.sampled_from([None, "answer", "note", "dspy_uuid", "missing"]), st.booleans())
def test_majority_picks_as_dspy_does(answers: list[str], mode: str, field: str | None, with_dspy_key: bool) -> None:
    rows = [{"note": f"n{i}", "answer": a, **({"dspy_uuid": f"u{i % 2}"} if with_dspy_key else {})}
            for i, a in enumerate(answers)]
    if field == "dspy_uuid" and not with_dspy_key:
        field = "missing"
    assert _run(native, rows, mode, field) == _run(dspy, rows, mode, field)
