"""The dict-like record under ``Prediction``: DSPy's ``Example`` access rules, kept exactly.

Fields live in ``_store``; attribute access reads it, attribute assignment writes it unless the name is private
or a class attribute (DSPy's ``key in dir(self.__class__)`` rule, computed once per class here instead of on
every assignment); ``dspy_``-prefixed keys are hidden from ``keys()`` / ``len()`` unless asked for.
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

__all__ = ["Record"]


def _serializable(value: Any) -> Any:
    """DSPy's ``toDict`` conversion; pydantic is only consulted when something already imported it."""
    if hasattr(value, "toDict"):
        return value.toDict()
    if "pydantic" in sys.modules:
        from pydantic import BaseModel

        if isinstance(value, BaseModel):
            return value.model_dump()
    if isinstance(value, list):
        return [_serializable(v) for v in value]
    if isinstance(value, dict):
        return {k: _serializable(v) for k, v in value.items()}
    return value


class Record:
    """A bag of named fields with attribute and item access (what DSPy's ``Example`` is to ``Prediction``)."""

    _class_names: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._class_names = frozenset(dir(cls))

    def __init__(self, base: Any = None, **kwargs: Any) -> None:
        d = self.__dict__
        if base and isinstance(base, type(self)):
            # Only the fields: DSPy's Example would also copy the input keys, but its Prediction (the one record
            # here) deletes them again, so a copy of a Prediction with inputs has none (inputs() then raises).
            d["_store"] = base._store.copy()
        elif base and isinstance(base, dict):
            d["_store"] = base.copy()
        else:
            d["_store"] = {}
        d["_store"].update(kwargs)

    # --- attribute and item access (DSPy's Example rules) ---------------------------------------------------
    def __getattr__(self, key: str) -> Any:
        if key.startswith("__") and key.endswith("__"):
            raise AttributeError
        store = self.__dict__.get("_store")
        if store is not None and key in store:
            return store[key]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{key}'")

    def __setattr__(self, key: str, value: Any) -> None:
        if key.startswith("_") or key in type(self)._class_names:
            object.__setattr__(self, key, value)
        else:
            self._store[key] = value

    def __getitem__(self, key: str) -> Any:
        return self._store[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._store[key] = value

    def __delitem__(self, key: str) -> None:
        del self._store[key]

    def __contains__(self, key: object) -> bool:
        return key in self._store

    def __len__(self) -> int:
        return len([k for k in self._store if not k.startswith("dspy_")])

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._store))

    def keys(self, include_dspy: bool = False) -> list[str]:
        return [k for k in self._store if include_dspy or not k.startswith("dspy_")]

    def values(self, include_dspy: bool = False) -> list[Any]:
        return [v for k, v in self._store.items() if include_dspy or not k.startswith("dspy_")]

    def items(self, include_dspy: bool = False) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in self._store.items() if include_dspy or not k.startswith("dspy_")]

    def get(self, key: str, default: Any = None) -> Any:
        return self._store.get(key, default)

    def toDict(self) -> dict[str, Any]:  # noqa: N802 - DSPy's name
        return {k: _serializable(v) for k, v in self._store.items()}

    def copy(self, **kwargs: Any) -> "Record":
        return type(self)(base=self, **kwargs)

    def without(self, *keys: str) -> "Record":
        copied = self.copy()
        for key in keys:
            del copied[key]
        return copied

    def with_inputs(self, *keys: str) -> "Record":
        copied = self.copy()
        copied._input_keys = set(keys)
        return copied

    def inputs(self) -> "Record":
        input_keys = self._input_keys  # AttributeError until with_inputs(), as in DSPy
        new = type(self)(base={k: v for k, v in self._store.items() if k in input_keys})
        new._input_keys = input_keys
        return new

    def labels(self) -> "Record":
        input_keys = self.inputs().keys()
        return type(self)({k: v for k, v in self._store.items() if k not in input_keys})

    # --- equality and hashing -------------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        store = getattr(other, "_store", None) if not isinstance(other, Record) else other._store
        return isinstance(store, dict) and self._store == store

    def __hash__(self) -> int:
        return hash(frozenset(self._store.items()))


Record._class_names = frozenset(dir(Record))
