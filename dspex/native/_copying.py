"""How native modules copy: ``copy.deepcopy``'s own steps for a plain instance, and DSPy's ``deepcopy()`` fallback.

BestOfN and Refine copy the wrapped module on every attempt, so the common copy skips ``copy.deepcopy``'s
dispatch and the pickling protocol's detour, with the same result: a new object whose attributes are deep-copied
with one memo (a second reference to an object gets the same copy). A class that customises pickling or copying
gets ``copy.deepcopy``'s own route.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["deep_copy", "copy_or_share"]

_OBJECT_GETSTATE = getattr(object, "__getstate__", None)
_NIL = object()

# Whether a class takes copy.deepcopy's plain road (no pickling or copying hooks of its own), by class: the look-up
# of a missing ``__setstate__`` alone raised and swallowed an AttributeError on every attempt. (A class's special
# methods are fixed when it is created, as Python itself assumes when it caches them in its type slots.)
_PLAIN_COPY: dict[type, bool] = {}


def _copies_plainly(cls: type) -> bool:
    return (cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__   # type: ignore[comparison-overlap]
            and getattr(cls, "__getstate__", None) is _OBJECT_GETSTATE and not hasattr(cls, "__setstate__"))


def _pickling_copy(obj: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy``'s own route for an object whose class customises pickling."""
    rv = obj.__reduce_ex__(4)
    return copy._reconstruct(obj, memo, *rv)  # type: ignore[attr-defined]


def deep_copy(obj: Any, memo: dict[int, Any], module_class: type) -> Any:
    """``copy.deepcopy(obj, memo)`` for a native module (``module_class``: the base its sub-modules share)."""
    cls = type(obj)
    plain = _PLAIN_COPY.get(cls)
    if plain is None:
        if len(_PLAIN_COPY) >= 1024:   # classes made on the fly: keep none of them alive for ever
            _PLAIN_COPY.clear()
        plain = _PLAIN_COPY[cls] = _copies_plainly(cls)
    if not plain:
        return _pickling_copy(obj, memo)
    new = object.__new__(cls)
    memo[id(obj)] = new
    state = new.__dict__
    for key, value in obj.__dict__.items():
        t = type(value)
        if t is str or value is None:   # atomic for copy.deepcopy: the same object
            state[key] = value
        elif (t is list or t is dict) and not value and id(value) not in memo:
            # An empty list or dict (``callbacks``, ``history``): what copy.deepcopy makes, memo entry and
            # keep-alive included, so a second reference to the same object gets the same copy.
            state[key] = memo[id(value)] = t()
            memo.setdefault(id(memo), []).append(value)
        elif isinstance(value, module_class):   # a sub-module or predictor: copy.deepcopy's steps, without its dispatch
            copied = memo.get(id(value), _NIL)
            if copied is _NIL:
                copied = value.__deepcopy__(memo)
                if copied is not value:
                    memo[id(value)] = copied
                    memo.setdefault(id(memo), []).append(value)
            state[key] = copied
        else:
            state[key] = copy.deepcopy(value, memo)
    return new


def copy_or_share(obj: Any, module_class: type) -> Any:
    """DSPy's ``Module.deepcopy()``: a deep copy, else attribute by attribute, each attribute that cannot be
    deep-copied shallow-copied or, failing that, shared."""
    try:
        # ``copy.deepcopy(obj)`` finds ``__deepcopy__`` and calls it with a fresh memo; the memo is dropped
        # afterwards, so calling it directly is the same copy without the dispatch.
        return obj.__deepcopy__({})
    except Exception:  # noqa: BLE001 - DSPy's fallback, attribute by attribute
        pass
    new = type(obj).__new__(type(obj))
    for attr, value in obj.__dict__.items():
        if isinstance(value, module_class):
            setattr(new, attr, value.deepcopy())
            continue
        try:
            setattr(new, attr, copy.deepcopy(value))
        except Exception:  # noqa: BLE001
            import logging  # only when there is something to say (``import logging`` is ~10 ms of an import)

            logging.getLogger("dspy.primitives.base_module").warning(
                "Failed to deep copy attribute '%s' of %s, falling back to shallow copy or reference copy.",
                attr, type(obj).__name__)
            try:
                setattr(new, attr, copy.copy(value))
            except Exception:  # noqa: BLE001
                setattr(new, attr, value)
    return new
