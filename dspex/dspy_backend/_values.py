"""dspex values as DSPy's types: a native Prediction becomes a ``dspy.Prediction``, a native parse error a class
DSPy's ``except`` clauses catch. Used where a routed module hands a result back inside a DSPy program."""

from __future__ import annotations

from typing import Any

import dspy
from dspy.primitives.prediction import Completions as DSPyCompletions
from dspy.utils.exceptions import AdapterParseError as DSPyAdapterParseError

from dspex.errors import AdapterParseError as NativeAdapterParseError

__all__ = ["to_dspy_prediction", "to_dspy_error", "AdapterParseError"]


_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_dspy_prediction(pred: Any, signature: Any = None) -> Any:
    """The same store and completions in a ``dspy.Prediction`` (anything else is returned as is)."""
    if isinstance(pred, dspy.Prediction) or not hasattr(pred, "_store") or not hasattr(pred, "_completions"):
        return pred
    out = dspy.Prediction.__new__(dspy.Prediction)
    d = out.__dict__
    store = pred._store
    for value in store.values():
        if type(value) not in _PLAIN:   # an agent's History, ToolCalls...: DSPy's classes, at any depth
            from ._types import to_dspy_value

            store = to_dspy_value(store)   # the store itself when nothing in it is dspex's (a list[str] output)
            break
    d["_store"] = store
    d["_lm_usage"] = pred._lm_usage
    native = pred._completions
    if native is None:
        d["_completions"] = None
    else:
        completions = DSPyCompletions.__new__(DSPyCompletions)
        completions.__dict__.update(signature=signature if signature is not None else native.signature,
                                    _completions=native._completions)
        d["_completions"] = completions
    return out


class AdapterParseError(NativeAdapterParseError, DSPyAdapterParseError):
    """dspex's parse error, also a ``dspy.utils.exceptions.AdapterParseError`` (same name, message and fields)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # built only by to_dspy_error, from a raised error
        Exception.__init__(self, *args)


def to_dspy_error(exc: BaseException) -> BaseException:
    """A native AdapterParseError as the bridged class (both ``except`` clauses match); others unchanged."""
    if type(exc) is not NativeAdapterParseError:
        return exc
    new = AdapterParseError(*exc.args)
    new.__dict__.update(exc.__dict__)
    new.code = DSPyAdapterParseError.default_code
    for key in ("model", "provider", "provider_code", "status", "request_id", "retry_after"):
        new.__dict__.setdefault(key, None)
    new.__cause__, new.__context__ = exc.__cause__, exc.__context__
    return new.with_traceback(exc.__traceback__)
