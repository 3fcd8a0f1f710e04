"""Turning results into JSON that can be published: plain values and redacted inputs (secrets: ``_redact``).

Everything here runs off the request path (in the shadow workers), so it favours completeness over speed.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
from typing import Any, Iterable, Mapping

__all__ = ["to_jsonable", "redact_fields", "prediction_fields", "error_info", "versions"]

_MAX_DEPTH = 32


def _model_dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        try:
            return dump(mode="json")
        except Exception:  # noqa: BLE001 - a model that cannot dump itself is published by repr
            return dump()
    return None


def prediction_fields(value: Any) -> dict[str, Any] | None:
    """The fields of a Prediction-like result (dspy's or dspex's), or None when it is not one."""
    if isinstance(value, Mapping):
        return dict(value)
    to_dict = getattr(value, "toDict", None)
    if callable(to_dict):
        try:
            return dict(to_dict())
        except Exception:  # noqa: BLE001
            pass
    items = getattr(value, "items", None)
    if callable(items) and not isinstance(value, (str, bytes)):
        try:
            return dict(items())
        except Exception:  # noqa: BLE001
            return None
    return None


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """A JSON-safe copy: models dumped, Predictions as dicts, floats that JSON cannot hold as strings."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if _depth > _MAX_DEPTH:
        return repr(value)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, _depth + 1)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    dumped = _model_dump(value)
    if dumped is not None:
        return to_jsonable(dumped, _depth + 1)
    if dataclasses.is_dataclass(value):
        return {f.name: to_jsonable(getattr(value, f.name), _depth + 1) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, _depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(v, _depth + 1) for v in value]
        return sorted(items, key=repr)
    fields = prediction_fields(value)
    if fields is not None:
        return {str(k): to_jsonable(v, _depth + 1) for k, v in fields.items()}
    return repr(value)


def redact_fields(inputs: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """Inputs with the named fields replaced; names match case-insensitively."""
    from ._redact import REDACTED

    wanted = {n.lower() for n in names}
    return {k: (REDACTED if str(k).lower() in wanted else v) for k, v in inputs.items()}


def error_info(error: BaseException | None) -> dict[str, str] | None:
    if error is None:
        return None
    return {"type": type(error).__name__, "module": type(error).__module__, "message": str(error)}


@functools.lru_cache(maxsize=1)
def versions() -> dict[str, str | None]:
    """Installed versions, read from package metadata so that dspy is never imported to learn its version."""
    import platform

    from ..environment import dspex_version, dspy_version

    return {"dspy": dspy_version(), "dspex": dspex_version(), "python": platform.python_version()}
