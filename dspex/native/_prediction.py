"""``Prediction`` and ``Completions``: what a native module returns, shaped exactly like DSPy's.

Code written against ``dspy.Prediction`` (attribute and item access, ``.completions``, score arithmetic, the
repr printed in notebooks and logs) must not notice which implementation answered. DSPy's quirks are kept on
purpose and covered by side-by-side tests:

* a Prediction made from zero completions has an empty store, and ``len(pred.completions)``,
  ``bool(pred.completions)``, ``pred.completions[0]`` and ``repr(pred)`` raise ``StopIteration`` (DSPy asks
  the first completion list for its length);
* ``Completions[i]`` accepts ``bool`` (it is an ``int``) and rejects negative indexes;
* ``copy()`` / ``without()`` drop the completions; ``inputs()`` raises ``AttributeError``.

One deliberate asymmetry cannot be avoided without patching DSPy: ``native == dspy_prediction`` compares the
stores (duck-typed on ``_store``), but ``dspy_prediction == native`` is ``False`` because DSPy's ``__eq__``
insists on its own ``Example`` class.
"""

from __future__ import annotations

import copy
from typing import Any

from ._record import Record

__all__ = ["Prediction", "Completions", "from_parsed"]


class Prediction(Record):
    """The outputs of one module call; the first completion's values, with every completion in ``.completions``."""

    def __init__(self, base: Any = None, **kwargs: Any) -> None:
        super().__init__(base, **kwargs)
        d = self.__dict__
        d["_completions"] = None
        d["_lm_usage"] = None

    @classmethod
    def from_completions(cls, list_or_dict: Any, signature: Any = None) -> "Prediction":
        """Build from a list of per-completion dicts or a dict of equal-length lists (as DSPy does)."""
        if type(list_or_dict) is list and len(list_or_dict) == 1:  # n=1, the hot path: skip the general checks
            return cls._from_parsed(dict(list_or_dict[0].items()), signature)  # a copy: the caller keeps its dict
        completions = Completions(list_or_dict, signature=signature)
        obj = cls.__new__(cls)
        obj.__dict__.update(
            _store={k: v[0] for k, v in completions._completions.items()}, _completions=completions, _lm_usage=None
        )
        return obj

    # A prediction nobody set usage on (``from_parsed``'s) reads it here; ``set_lm_usage`` sets the instance's own.
    _lm_usage: Any = None

    def __getattr__(self, key: str) -> Any:
        if key == "_completions":
            d = self.__dict__
            signature = d.get("_pending", _NIL)
            if signature is not _NIL:   # (from_parsed) the store still holds what the LM answered
                built = Completions.__new__(Completions)
                built.__dict__.update(signature=signature, _completions={k: [v] for k, v in d["_store"].items()})
                completions = d.setdefault("_completions", built)   # one object, whichever thread got there first
                d.pop("_pending", None)
                return completions
            if "_completions" in d:   # another thread built it after this lookup had missed it
                return d["_completions"]
        return Record.__getattr__(self, key)

    # Every change made through the prediction, and a shallow copy (which shares the store), first builds the
    # pending ``Completions`` from the store (``from_parsed``), so they keep what the LM answered, as DSPy's do.
    def __setattr__(self, key: str, value: Any) -> None:
        if "_pending" in self.__dict__:
            self._completions  # noqa: B018 - built now, from the LM's values
        Record.__setattr__(self, key, value)

    def __setitem__(self, key: str, value: Any) -> None:
        if "_pending" in self.__dict__:
            self._completions  # noqa: B018
        self._store[key] = value

    def __delitem__(self, key: str) -> None:
        if "_pending" in self.__dict__:
            self._completions  # noqa: B018
        del self._store[key]

    def __delattr__(self, key: str) -> None:
        if "_pending" in self.__dict__:
            self._completions  # noqa: B018
        object.__delattr__(self, key)

    def __copy__(self) -> "Prediction":
        """``copy.copy``'s own steps for this object, after the pending ``Completions`` is built."""
        if "_pending" in self.__dict__:
            self._completions  # noqa: B018
        return copy._reconstruct(self, None, *self.__reduce_ex__(4))  # type: ignore[attr-defined]

    @property
    def completions(self) -> "Completions | None":
        return self._completions

    def get_lm_usage(self) -> Any:
        return self._lm_usage

    def set_lm_usage(self, value: Any) -> None:
        self.__dict__["_lm_usage"] = value

    def __repr__(self) -> str:
        store_repr = ",\n    ".join(f"{k}={v!r}" for k, v in self._store.items())
        if self._completions is None or len(self._completions) == 1:
            return f"Prediction(\n    {store_repr}\n)"
        omitted = len(self._completions) - 1
        return f"Prediction(\n    {store_repr},\n    completions=Completions(...)\n) ({omitted} completions omitted)"

    __str__ = __repr__

    # --- score arithmetic and ordering (for metrics that return Predictions) --------------------------------
    def __float__(self) -> float:
        if "score" not in self._store:
            raise ValueError("Prediction object does not have a 'score' field to convert to float.")
        return float(self._store["score"])

    def _other(self, other: Any, what: str) -> float:
        if isinstance(other, (float, int)):
            return other
        if isinstance(other, Prediction):
            return float(other)
        raise TypeError(f"Unsupported type for {what}: {type(other)}")

    # The operand's type is checked before the score is read, so a bad operand is a TypeError first (as in DSPy).
    def __add__(self, other: Any) -> float:
        o = self._other(other, "addition")
        return float(self) + o

    def __radd__(self, other: Any) -> float:
        return self._other(other, "addition") + float(self)

    def __truediv__(self, other: Any) -> float:
        o = self._other(other, "division")
        return float(self) / o

    def __rtruediv__(self, other: Any) -> float:
        return self._other(other, "division") / float(self)

    def __lt__(self, other: Any) -> bool:
        o = self._other(other, "comparison")
        return float(self) < o

    def __le__(self, other: Any) -> bool:
        o = self._other(other, "comparison")
        return float(self) <= o

    def __gt__(self, other: Any) -> bool:
        o = self._other(other, "comparison")
        return float(self) > o

    def __ge__(self, other: Any) -> bool:
        o = self._other(other, "comparison")
        return float(self) >= o



def from_parsed(cls: type[Prediction], values: dict[str, Any], signature: Any) -> Prediction:
    """``cls._from_parsed(values, signature)``: one completion's freshly parsed values, owned by nobody else, used as
    the store without a copy. (A function, so that Predict's every call pays no classmethod binding for it.)

    Its ``Completions`` is built on first use (most callers never look) from the store, which holds what the LM
    answered until the first change made through the prediction, and each change builds it first (see
    ``Prediction.__setattr__``): it keeps what the LM answered, as DSPy's does, without a copy of the values.
    """
    obj = _new(cls) if cls is Prediction else cls.__new__(cls)
    d = obj.__dict__
    d["_store"] = values
    d["_pending"] = signature
    return obj


_new = object.__new__
_NIL = object()
Prediction._from_parsed = classmethod(from_parsed)  # type: ignore[attr-defined]


class Completions:
    """Every completion of one call: ``completions.answer`` is a list, ``completions[i]`` a Prediction."""

    def __init__(self, list_or_dict: Any, signature: Any = None) -> None:
        self.signature = signature
        if isinstance(list_or_dict, list):
            if len(list_or_dict) == 1:  # the common case (n=1), without the general loop
                columns: dict[str, list[Any]] = {k: [v] for k, v in list_or_dict[0].items()}
            else:
                columns = {}
                for row in list_or_dict:
                    for k, v in row.items():
                        column = columns.get(k)
                        if column is None:
                            columns[k] = [v]
                        else:
                            column.append(v)
        else:
            columns = list_or_dict
            for v in columns.values():
                if not isinstance(v, list):
                    raise AssertionError("All values must be lists")
        if len(columns) > 1:
            length = -1
            for v in columns.values():
                if length == -1:
                    length = len(v)
                elif len(v) != length:
                    raise AssertionError("All lists must have the same length")
        self._completions = columns

    def items(self) -> Any:
        return self._completions.items()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int):
            if key < 0 or key >= len(self):
                raise IndexError("Index out of range")
            return Prediction(**{k: v[key] for k, v in self._completions.items()})
        return self._completions[key]

    def __getattr__(self, name: str) -> Any:
        completions = self.__dict__.get("_completions")
        if name != "_completions" and completions is not None and name in completions:
            return completions[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __len__(self) -> int:
        # DSPy's quirk, kept: with no fields at all this raises StopIteration.
        return len(next(iter(self._completions.values())))

    def __contains__(self, key: object) -> bool:
        return key in self._completions

    def __repr__(self) -> str:
        items_repr = ",\n    ".join(f"{k}={v!r}" for k, v in self._completions.items())
        return f"Completions(\n    {items_repr}\n)"

    __str__ = __repr__
