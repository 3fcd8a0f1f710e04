"""Native ``majority``: the most common completion of a field, as ``dspy.majority`` picks it in DSPy 3.4.1.

Values are normalised with DSPy's ``normalize_text`` (NFD, lower case, punctuation and English articles removed,
whitespace collapsed; an empty result is ``None`` and ignored unless every value is ``None``); the first
completion holding the winning value wins ties, and the result is a one-completion ``Prediction`` carrying
the completions' signature. Predictions and Completions are read by duck typing, so DSPy's objects work too.
"""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Any, Callable

from dspex.signature import SignatureMeta

from ._prediction import Completions, Prediction, from_parsed

__all__ = ["majority", "default_normalize", "normalize_text", "Majority"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ARTICLE_WORDS = frozenset({"a", "an", "the"})
_ARTICLE_BYTES = frozenset({b"a", b"an", b"the"})
_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)
_PUNCTUATION_BYTES = string.punctuation.encode()


# Recent answers and their normal forms: majority normalises every vote (twice for the winner in DSPy's loop),
# and a program votes over the same short answers again and again. Only exact ``str`` values of bounded length
# are kept (a subclass may override the methods DSPy's steps call), and the table is emptied when full.
_NORMALIZED: dict[str, str] = {}
_NORMALIZED_MAX = 1024
_NORMALIZED_LONGEST = 256


def normalize_text(s: str) -> str:
    """DSPy's ``dspy.evaluate.normalize_text``: NFD, lower case, punctuation dropped, articles, whitespace."""
    if type(s) is str:
        done = _NORMALIZED.get(s)
        if done is not None:
            return done
        done = _normalize_text(s)
        if len(s) <= _NORMALIZED_LONGEST:
            if len(_NORMALIZED) >= _NORMALIZED_MAX:
                _NORMALIZED.clear()
            _NORMALIZED[s] = done
        return done
    return _normalize_text(s)


def _normalize_text(s: str) -> str:
    """DSPy's ``dspy.evaluate.normalize_text``, computed (``normalize_text`` remembers recent answers).

    An ASCII string (most answers) takes a shorter road with the same result, since ``str.translate`` with a
    dict raises and swallows a KeyError per kept character and the article regex scans every position: NFD
    leaves ASCII unchanged, ``bytes.translate`` drops the punctuation, and when every whitespace-separated word is
    alphanumeric the regex's ``\\b`` boundaries are exactly the word ends, so dropping the words ``a``/``an``/``the``
    is what the regex's replace-then-collapse gives. Anything else (a control character left between letters,
    non-ASCII text) takes DSPy's steps."""
    if type(s) is str and s.isascii():   # (a str subclass may override ``lower``: DSPy's steps call it)
        kept = s.lower().encode().translate(None, _PUNCTUATION_BYTES)
        if kept.isalnum():   # one word (most answers)
            return "" if kept in _ARTICLE_BYTES else kept.decode()
        words = kept.decode().split()
        if not words:
            return ""
        if "".join(words).isalnum():
            if _ARTICLE_WORDS.isdisjoint(words):
                return " ".join(words)
            return " ".join([w for w in words if w not in _ARTICLE_WORDS])
    s = unicodedata.normalize("NFD", s).lower().translate(_NO_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", s).split())


def default_normalize(s: str) -> str | None:
    return normalize_text(s) or None


def _kind(value: Any) -> str | None:
    """``prediction``, ``completions`` or ``list`` for this package's classes and DSPy's alike."""
    if isinstance(value, Prediction):
        return "prediction"
    if isinstance(value, Completions):
        return "completions"
    if isinstance(value, list):
        return "list"
    for cls in type(value).__mro__:
        if cls.__module__ == "dspy.primitives.prediction":
            if cls.__name__ == "Prediction":
                return "prediction"
            if cls.__name__ == "Completions":
                return "completions"
    return None


def majority(prediction_or_completions: Any, normalize: Callable[[Any], Any] | None = default_normalize,
             field: str | None = None) -> Prediction:
    """The completion whose ``field`` (default: the signature's last output, else the first completion's last
    key) is the most common after ``normalize``."""
    if type(prediction_or_completions) is Prediction and normalize is default_normalize and not field:
        voted = _default_vote(prediction_or_completions)
        if voted is not None:
            return voted
    kind = "prediction" if type(prediction_or_completions) is Prediction else _kind(prediction_or_completions)
    if __debug__ and kind is None:   # DSPy's bare ``assert`` (see multi_chain_comparison)
        raise AssertionError
    completions = prediction_or_completions.completions if kind == "prediction" else prediction_or_completions
    try:
        signature = completions.signature
    except Exception:  # noqa: BLE001 - DSPy's own catch-all: a list has no signature
        signature = None
    if not field:
        field = _last_output(signature) if signature else list(completions[0].keys())[-1]
    normalize = normalize if normalize else (lambda x: x)
    if type(completions) is Completions:
        columns = completions._completions
        if field in columns and _rectangular(columns):
            return _majority_of_columns(columns, field, normalize, signature)
    values = [normalize(completion[field]) for completion in completions]
    winner = _winner(values)
    for completion in completions:
        if normalize(completion[field]) == winner:
            break
    return Prediction.from_completions([completion], signature=signature)


def _default_vote(prediction: Prediction) -> Prediction | None:
    """``majority(prediction)`` as most programs call it (this package's Prediction of several completions, the
    default normalisation, the signature's last output), in one pass over the voted column; None when the call is
    not that one (the general steps then take it, errors included).

    The default normalisation is pure, so each vote is normalised once: the winner's first position is its first
    normal form's (``list.index``, the same ``==`` DSPy's second loop applies). Majority is a few microseconds
    of work, so the layers of the general road were most of its cost."""
    completions = prediction.__dict__.get("_completions")
    if type(completions) is not Completions:
        return None
    signature = completions.signature
    if type(signature) is not SignatureMeta or not signature._output_fields:
        return None
    columns = completions._completions
    column = columns.get(next(reversed(signature._output_fields)))
    if not column:   # not a column of this store, or no completion at all: DSPy's errors, on the general road
        return None
    size = len(column)
    get = _NORMALIZED.get
    counts: dict[Any, int] = {}
    count = counts.get
    forms = []
    for value in column:
        form = get(value) if type(value) is str else None
        if form is None:
            form = default_normalize(value)
        elif not form:   # a remembered empty form: ``default_normalize`` makes it None
            form = None
        forms.append(form)
        if form is not None:
            counts[form] = count(form, 0) + 1
    index = forms.index(max(counts, key=count)) if counts else 0   # every vote None: the first one wins
    row = {}
    for key, values in columns.items():
        if len(values) != size:   # a ragged store: DSPy's road, and its error
            return None
        if not key.startswith("dspy_"):
            row[key] = values[index]
    return from_parsed(Prediction, row, signature)


def _winner(values: list[Any]) -> Any:
    """The most common value other than None, the first seen among equals (DSPy's ``max`` over its
    insertion-ordered counts)."""
    counts: dict[Any, int] = {}
    get = counts.get
    for value in values:
        if value is not None:
            counts[value] = get(value, 0) + 1
    if not counts:   # every value None (or none at all: ``max`` raises DSPy's ValueError)
        for value in values:
            counts[value] = get(value, 0) + 1
    return max(counts, key=get)  # type: ignore[arg-type]


def _last_output(signature: Any) -> str:
    """``list(signature.output_fields.keys())[-1]``, without the copy for this package's signatures."""
    if type(signature) is SignatureMeta and signature._output_fields:
        return next(reversed(signature._output_fields))
    return list(signature.output_fields.keys())[-1]


def _rectangular(columns: dict[str, list[Any]]) -> bool:
    """Every column as long as the first (a ragged store takes DSPy's road, and its error)."""
    lengths = iter(map(len, columns.values()))
    first = next(lengths)
    return all(n == first for n in lengths)


def _default_normal_forms(column: list[Any]) -> list[Any]:
    """``[default_normalize(v) for v in column]``, reading remembered answers straight from the table."""
    get = _NORMALIZED.get
    values = []
    for v in column:
        done = get(v) if type(v) is str else None
        values.append((done or None) if done is not None else default_normalize(v))
    return values


def _majority_of_columns(columns: dict[str, list[Any]], field: str, normalize: Callable[[Any], Any],
                         signature: Any) -> Prediction:
    """The same vote read straight from this package's ``Completions`` columns, without making a ``Prediction``
    per completion (``completions[i][field]`` is ``columns[field][i]``). The winner search normalises again, as
    DSPy does, unless ``normalize`` is the default one, which is pure: its earlier results are the same values,
    so the winner's first position is ``values.index`` (the same ``==`` DSPy's loop applies)."""
    column = columns[field]
    if normalize is default_normalize:
        values = _default_normal_forms(column)
        index = values.index(_winner(values))
    else:
        winner = _winner([normalize(v) for v in column])
        index = len(column) - 1
        for i, v in enumerate(column):
            if normalize(v) == winner:
                index = i
                break
    row = {k: c[index] for k, c in columns.items() if not k.startswith("dspy_")}
    return Prediction._from_parsed(row, signature)


class Majority:
    """``majority`` as a callable object, so that ``dspex.majority`` can route on flag ``dspex.majority``."""

    def __call__(self, prediction_or_completions: Any, normalize: Callable[[Any], Any] | None = default_normalize,
                 field: str | None = None) -> Prediction:
        return majority(prediction_or_completions, normalize=normalize, field=field)
