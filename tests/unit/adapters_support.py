"""Shared helpers for the adapter tests: twin signatures (native and real DSPy), a scripted LM, comparisons."""

from __future__ import annotations

import copy
import enum
import math
from typing import Any, Callable

import dspy
import pydantic

from dspex.signature import InputField, OutputField, make_signature


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


class Inner(pydantic.BaseModel):
    x: int
    tags: list[str] = []


class Outer(pydantic.BaseModel):
    """An outer model."""

    name: str
    inner: Inner
    score: float | None = None


Spec = list[tuple[str, str, Any, dict[str, Any]]]  # (name, "in"/"out", annotation, field kwargs)


def twins(spec: Spec, instructions: str | None = None) -> tuple[Any, Any]:
    """The same signature built natively and with real DSPy, from one spec."""
    native = {n: (ann, (InputField if k == "in" else OutputField)(**kw)) for n, k, ann, kw in spec}
    real = {n: (ann, (dspy.InputField if k == "in" else dspy.OutputField)(**kw)) for n, k, ann, kw in spec}
    return make_signature(native, instructions), dspy.Signature(real, instructions)


def io(inputs: dict[str, Any], outputs: dict[str, Any], instructions: str | None = None, **kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """Twins from ``{name: annotation}`` maps; ``kwargs`` gives per-field InputField/OutputField keywords."""
    spec: Spec = [(n, "in", a, kwargs.get(n, {})) for n, a in inputs.items()]
    spec += [(n, "out", a, kwargs.get(n, {})) for n, a in outputs.items()]
    return twins(spec, instructions)


class ScriptedLM(dspy.BaseLM):
    """Returns scripted outputs (or raises scripted exceptions) and records every request."""

    def __init__(self, script: list[Any], supported_params: set[str] | None = None, schema: bool = False) -> None:
        super().__init__(model="scripted/test")
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []
        self._params = set(supported_params or ())
        self._schema = schema

    @property
    def supported_params(self) -> set[str]:  # type: ignore[override]
        return self._params

    @property
    def supports_response_schema(self) -> bool:  # type: ignore[override]
        return self._schema

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls.append({"messages": copy.deepcopy(messages), "kwargs": dict(kwargs)})
        out = self.script[min(len(self.calls), len(self.script)) - 1]
        if isinstance(out, BaseException):
            raise out
        return copy.deepcopy(out)

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return self(prompt, messages=messages, **kwargs)


class PlainLM:
    """A bare callable LM with no attributes at all (the native convention's minimum)."""

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, messages: Any = None, **kwargs: Any) -> Any:
        self.calls.append({"messages": copy.deepcopy(messages), "kwargs": dict(kwargs)})
        return copy.deepcopy(self.script[min(len(self.calls), len(self.script)) - 1])


def same_value(a: Any, b: Any) -> bool:
    """Equal in value and Python type, recursively; NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("error", (class name, message)) so native and DSPy outcomes compare directly."""
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 - the comparison is the point
        return "error", (type(e).__name__, str(e))


def assert_same_outcome(native: tuple[str, Any], real: tuple[str, Any]) -> None:
    assert native[0] == real[0], (native, real)
    if native[0] == "error":
        assert native[1] == real[1]
    else:
        assert same_value(native[1], real[1]), (native[1], real[1])


def normalize_request(call: dict[str, Any]) -> dict[str, Any]:
    """A request with a pydantic ``response_format`` class replaced by (class name, its JSON schema)."""
    kwargs = dict(call["kwargs"])
    fmt = kwargs.get("response_format")
    if isinstance(fmt, type):
        kwargs["response_format"] = (fmt.__name__, fmt.model_json_schema())
    return {"messages": call["messages"], "kwargs": kwargs}
