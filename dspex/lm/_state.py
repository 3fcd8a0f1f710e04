"""What a ``dspex.LM`` keeps and hands on: DSPy's saved-state layout, ``copy(...)``, and pickling.

The functions are ``LM``'s methods (``dump_state``, ``load_state``, ``copy``, ``__getstate__``, ``__setstate__``),
set on the class in ``_client``; they live here so the client file holds the calling.
"""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ._dialect import dialect_for

if TYPE_CHECKING:
    from ._client import LM

__all__ = ["dump_state", "load_state", "copy", "getstate", "setstate"]


def dump_state(self: LM) -> dict[str, Any]:
    """DSPy's LM state (loadable by ``dspy.LM`` too); never includes the API key."""
    state: dict[str, Any] = {
        "_dspy_lm_class": "dspy.clients.lm.LM",
        "model": self.model,
        "model_type": self.model_type,
        "cache": self.cache,
        "num_retries": self.num_retries,
        **{k: v for k, v in self.kwargs.items() if k not in ("api_key", "_dspy_lm_class")},
    }
    if self._explicit_api_base:
        state["api_base"] = self._explicit_api_base
    return state


def load_state(cls: type[LM], state: dict[str, Any]) -> LM:
    state = {k: v for k, v in state.items() if k != "_dspy_lm_class"}
    if "max_completion_tokens" in state:
        state.setdefault("max_tokens", state.pop("max_completion_tokens"))
    return cls(**state)


def copy(self: LM, **kwargs: Any) -> LM:
    """A copy with some settings or request defaults changed (``lm.copy(temperature=1.0)``), as in DSPy.

    BestOfN and Refine copy the LM for every attempt, so the copy is built straight from the instance's dict: its
    class is already the one ``LM.__new__`` picked (DSPy's twin when DSPy is loaded), unless a subclass brings a
    ``__new__`` of its own, which is then honoured."""
    cls = type(self)
    new = _new_object(cls) if cls.__new__ is LM_NEW else cls.__new__(cls)
    state = new.__dict__
    state.update(self.__dict__)
    state["history"] = []
    state["callbacks"] = list(self.callbacks)
    state["kwargs"] = request = dict(self.kwargs)
    state["_cache"] = collections.OrderedDict()
    state["_cache_lock"] = threading.Lock()
    state["_wires"] = dict(self._wires)   # connections shared with the original; a changed transport gets its own
    for key, value in kwargs.items():
        if key in _FIXED or key.startswith("_"):
            raise ConfigError(f"copy() cannot change {key!r}; build a new LM instead.")
        if hasattr(new, key):
            _set_setting(new, key, value)
        elif value is None:
            request.pop(key, None)
        else:
            request[key] = value
    return new


def _set_setting(new: LM, key: str, value: Any) -> None:
    """``copy``'s change of an attribute (``model_type``, ``cache``, ``api_base``...): a changed transport gets
    its own connection."""
    setattr(new, key, value)
    if key in ("http2", "verify"):
        new._wires = {}
    if key in ("api_base", "http2", "verify"):
        if key == "api_base":
            new._explicit_api_base = value
        new._wire = new._wire_for(new.api_base)


_FIXED = frozenset({"model", "kwargs", "history"})
_new_object = object.__new__
LM_NEW: Any = None   # ``LM.__new__``, set by ``_client`` once the class exists


# Connections, locks and the cache are per process: copies and pickles start with fresh ones.
def getstate(self: LM) -> dict[str, Any]:
    skip = ("_wires", "_wire", "_cache", "_cache_lock")
    return {k: v for k, v in self.__dict__.items() if k not in skip}


def setstate(self: LM, state: dict[str, Any]) -> None:
    self.__dict__.update(state)
    self.__dict__.setdefault("http2", False)
    self.__dict__.setdefault("verify", True)
    self.__dict__.setdefault("pricing", None)
    if "_dialect" not in self.__dict__:   # pickled before dspex.LM sent dspy.LM's requests
        self._dialect = dialect_for(self.model)
    self._wires = {}
    self._wire = self._wire_for(self.api_base)
    self._cache = collections.OrderedDict()
    self._cache_lock = threading.Lock()
