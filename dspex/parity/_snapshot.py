"""Canonical, type-carrying snapshots of what each implementation produced (compared by ``_compare``).

Equality of snapshots is strict on purpose: ``True`` and ``'True'`` differ, ``1`` and ``1.0`` differ, ``0.0`` and
``-0.0`` differ, NaN equals NaN, dict key order matters, and a pydantic model is equal only to an instance of the
very same class with equal fields.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["typed", "ExcInfo", "snapshot_result", "normalize_kwargs", "unaddress"]


def typed(value: Any, _depth: int = 0) -> Any:
    """A hashable-free canonical form that keeps every value's exact type."""
    if _depth > 50:
        return ("<deep>", repr(value)[:200])
    t = type(value)
    nxt = _depth + 1
    if value is None or t in (bool, int, str, bytes):
        return (t.__name__, value)
    if t is float:
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, enum.Enum):
        return (_qual(t), t, "enum", value.name, typed(value.value, nxt))
    if t is dict or isinstance(value, dict):
        return (_qual(t), "dict", [(typed(k, nxt), typed(v, nxt)) for k, v in value.items()])
    if t in (list, tuple) or isinstance(value, (list, tuple)):
        return (_qual(t), [typed(v, nxt) for v in value])
    if isinstance(value, (set, frozenset)):
        return (_qual(t), sorted((typed(v, nxt) for v in value), key=repr))
    if t.__name__ == "method" and hasattr(value, "__self__"):  # a field name shadowed by a method: compare by name
        return ("method", value.__name__)
    dump = getattr(value, "model_dump", None)
    if callable(dump) and hasattr(type(value), "model_fields"):
        fields = {k: getattr(value, k, None) for k in type(value).model_fields}
        return (_qual(t), t, "model", typed(fields, nxt))
    if isinstance(value, (int, float, str)):  # int/str/float subclasses (IntEnum handled above)
        return (_qual(t), t, repr(value))
    return (_qual(t), t, "object", unaddress(repr(value)))


# A default repr ends "object at 0x7f...": the address differs between DSPy's copy of an input and native's
# (pydantic copies a model's fields), and it never says anything about parity. The same repr reaches prompts,
# warnings and error messages, so those are compared without addresses too.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def unaddress(text: str) -> str:
    return _ADDRESS.sub(" at 0x…", text)


def _unaddressed(value: Any) -> Any:
    """Messages with every string unaddressed: a prompt renders an input's default repr, address and all."""
    if type(value) is str:
        return unaddress(value)
    if type(value) is list:
        return [_unaddressed(v) for v in value]
    if type(value) is dict:
        return {k: _unaddressed(v) for k, v in value.items()}
    return value


def _qual(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"


@dataclass(frozen=True)
class ExcInfo:
    """An exception reduced to what the parity contract compares (class name and message) plus the class."""

    name: str
    message: str
    exc_type: type
    stage: str  # "construct" or "call"

    @classmethod
    def of(cls, exc: BaseException, stage: str) -> "ExcInfo":
        return cls(type(exc).__name__, unaddress(str(exc)), type(exc), stage)

    def __str__(self) -> str:
        return f"[{self.stage}] {self.name}: {self.message}"


def snapshot_result(result: Any) -> dict[str, Any]:
    """What a caller can observe of a returned Prediction (or any other result of a user module).

    Each observation is taken separately, so a missing API on one side shows up as its own difference
    (``"<error: AttributeError ...>"``) instead of hiding the others.
    """
    if type(result).__name__ == "Repeated":  # several calls of one module: one snapshot per call, and whether
        # two calls handed back the very same mutable object (a cache leaking a value a caller may mutate)
        return {"calls": [snapshot_result(r) for r in result], "shared": _observe(lambda: _shared(result))}
    snap: dict[str, Any] = {"class": type(result).__name__}
    if not hasattr(result, "_store") and not hasattr(result, "completions"):
        snap["value"] = typed(result)
        return snap
    snap["keys"] = _observe(lambda: [typed(k) for k in result.keys()])
    snap["items"] = _observe(lambda: [(k, typed(v)) for k, v in result.items()])
    snap["attributes"] = _observe(lambda: [(k, typed(getattr(result, k))) for k in result.keys()])
    snap["getitem"] = _observe(lambda: [(k, typed(result[k])) for k in result.keys()])
    snap["toDict"] = _observe(lambda: typed(result.toDict()))
    snap["len"] = _observe(lambda: len(result))
    snap["completions"] = _observe(lambda: [(k, typed(list(v))) for k, v in result.completions.items()])
    snap["completions_len"] = _observe(lambda: len(result.completions))
    snap["completion_0"] = _observe(lambda: [(k, typed(v)) for k, v in result.completions[0].items()])
    # The rest of the Prediction API a caller reaches for: iteration, get, membership, completions by attribute.
    snap["iter"] = _observe(lambda: [typed(k) for k in result])
    snap["get"] = _observe(lambda: [(k, typed(result.get(k)), typed(result.get(f"{k}_absent", 0))) for k in result.keys()])
    snap["contains"] = _observe(lambda: [(k in result, f"{k}_absent" in result) for k in result.keys()])
    snap["completions_attr"] = _observe(lambda: [(k, typed(list(getattr(result.completions, k))), k in result.completions)
                                                 for k, _ in result.completions.items()])
    snap["completions_absent"] = _observe(lambda: getattr(result.completions, "no_such_field"))
    snap["repr"] = _observe(lambda: unaddress(repr(result)))   # (an input's default repr: see ``unaddress``)
    return snap


def _shared(results: Any) -> list[tuple[int, str]]:
    first: dict[int, int] = {}
    out = []
    for index, prediction in enumerate(results):
        for key, value in prediction.items():
            if isinstance(value, (list, dict, set)) or hasattr(value, "model_dump"):
                if first.setdefault(id(value), index) != index:
                    out.append((index, key))
    return out


def _observe(fn: Any) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - an observation failing is itself the observation
        return f"<error: {type(exc).__name__}: {exc}>"


def normalize_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """LM call kwargs in comparable form; a pydantic ``response_format`` class is its name and JSON schema."""
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if isinstance(value, type) and hasattr(value, "model_json_schema"):
            try:
                schema = value.model_json_schema()
            except Exception as exc:  # noqa: BLE001
                schema = f"<schema error: {type(exc).__name__}: {exc}>"
            out[key] = ("pydantic-class", value.__name__, typed(schema))
        else:
            out[key] = typed(value)
    return out
