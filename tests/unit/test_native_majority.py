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


# normalize_text's ASCII road must give DSPy's result for any text: articles next to punctuation, digits and
# control characters (a \b boundary that is not whitespace), the separators str.split treats as whitespace,
# non-ASCII letters and combining marks (DSPy's steps), and str subclasses.
TEXT = st.text(alphabet=st.sampled_from(list("aAnNtThHeEx1 _.,!'-\t\n\x00\x1c\x1f\x7féÉ\u0301ß")), max_size=24)


class _Shouting(str):
    def lower(self) -> str:   # DSPy's steps call it (unicodedata.normalize returns an NFD str subclass as it is)
        return self.upper()


@settings(max_examples=600, deadline=None)
@given(st.one_of(TEXT, st.lists(st.sampled_from(["a", "an", "the", "The", "Paris", "x", "an."]), max_size=6)
                 .map(" ".join)))
def test_normalize_text_is_dspys(text: str) -> None:
    from dspy.evaluate import normalize_text

    from dspex.native.aggregation import normalize_text as native_normalize

    assert native_normalize(text) == normalize_text(text)
    assert native_normalize(text) == normalize_text(text)   # again: a remembered answer
    assert native_normalize(_Shouting(text)) == normalize_text(_Shouting(text))
    assert native_normalize(_Shouting(text)) == normalize_text(_Shouting(text))


def test_normalize_text_stays_dspys_past_its_table() -> None:
    """More distinct answers than the table of recent ones holds, long ones too, twice over: each still DSPy's."""
    from dspy.evaluate import normalize_text

    from dspex.native.aggregation import normalize_text as native_normalize

    texts = [f"The {i} answer, an {'x' * (i % 300)}!" for i in range(2500)]
    for text in texts + texts[::-1]:
        assert native_normalize(text) == normalize_text(text)


def test_normalize_text_rejects_what_dspys_rejects() -> None:
    from dspy.evaluate import normalize_text

    from dspex.native.aggregation import normalize_text as native_normalize

    for bad in (3, None, b"paris"):
        errors = []
        for fn in (normalize_text, native_normalize):
            try:
                fn(bad)  # type: ignore[arg-type]
            except Exception as e:  # noqa: BLE001 - the error is what is compared
                errors.append((type(e).__name__, str(e)))
        assert errors[0] == errors[1] and len(errors) == 2


# A module's own completions carry its signature, and ``majority(pred)`` then votes on the signature's last output:
# the commonest call, which takes its own road (one pass over the voted column). Values that are not strings,
# votes the normaliser turns into None, a last output missing from the store, a ragged store (a column grown
# after the call) and ``dspy_`` keys must all come out as DSPy's, errors included.
VOTE = st.one_of(WORDS, st.sampled_from([None, 3, 2.5, "Été", "L'été", "the the", "x\x00y"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(VOTE, min_size=0, max_size=7), st.sampled_from(["note, answer", "answer, note", "answer"]),
       st.booleans(), st.sampled_from([0, 1, -1]))
def test_majority_of_a_modules_completions_is_dspys(votes: list[Any], outputs: str, with_dspy_key: bool,
                                                     grow: int) -> None:
    def run(lib: Any) -> Any:
        rows = [{"note": f"n{i}", "answer": a, **({"dspy_uuid": f"u{i % 2}"} if with_dspy_key else {})}
                for i, a in enumerate(votes)]
        if outputs == "answer":
            for row in rows:
                del row["note"]
        signature = lib.Signature(f"question -> {outputs}")
        pred = lib.Prediction.from_completions(rows, signature=signature)
        if grow and rows:   # a column changed after the call: DSPy reads what is there now
            column = pred.completions.answer
            column.append("Paris") if grow > 0 else column.pop()
        try:
            return dict(lib.majority(pred).items())
        except Exception as e:  # noqa: BLE001 - the error is part of the behaviour compared
            return type(e).__name__, str(e)

    assert run(native) == run(dspy)
