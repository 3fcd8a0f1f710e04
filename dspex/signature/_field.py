"""One field of a signature: what DSPy keeps in a pydantic ``FieldInfo``, as a small frozen record.

Keeping it a plain dataclass (not a pydantic field) is what lets ``import dspex.native`` skip pydantic.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

__all__ = ["Field", "InputField", "OutputField", "MISSING", "FieldKind"]

FieldKind = Literal["input", "output"]


class _Missing:
    """Sentinel for "no default" (DSPy's ``PydanticUndefined``)."""

    _instance: "_Missing | None" = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

# pydantic constraint keywords DSPy spells out in the prompt (``Constraints: ...``), in DSPy's wording.
_CONSTRAINT_WORDING = {
    "gt": "greater than: ",
    "ge": "greater than or equal to: ",
    "lt": "less than: ",
    "le": "less than or equal to: ",
    "min_length": "minimum length: ",
    "max_length": "maximum length: ",
    "multiple_of": "a multiple of the given number: ",
    "allow_inf_nan": "allow 'inf', '-inf', 'nan' values: ",
}


@dataclass(frozen=True, slots=True)
class Field:
    """A signature field.

    ``desc`` and ``prefix`` are ``None`` until the field joins a signature, which fills DSPy's defaults
    (``"${name}"`` and the inferred prefix). ``extra`` keeps every other keyword (``ge``, ``alias``, ...) so the
    field can be rebuilt as a real DSPy field when a call routes to DSPy.
    """

    kind: FieldKind
    annotation: Any = str
    desc: str | None = None
    prefix: str | None = None
    default: Any = MISSING
    default_factory: Callable[[], Any] | None = None
    constraints: str = ""
    type_undefined: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_input(self) -> bool:
        return self.kind == "input"

    def is_required(self) -> bool:
        return self.default is MISSING and self.default_factory is None

    def get_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        return None if self.default is MISSING else self.default

    def replace(self, **changes: Any) -> "Field":
        return dataclasses.replace(self, **changes)

    @property
    def json_schema_extra(self) -> dict[str, Any]:
        """DSPy's view of the field's metadata, for code written against ``FieldInfo.json_schema_extra``."""
        out: dict[str, Any] = {"__dspy_field_type": self.kind}
        if self.desc is not None:
            out["desc"] = self.desc
        if self.prefix is not None:
            out["prefix"] = self.prefix
        if self.constraints:
            out["constraints"] = self.constraints
        return out


def _make(kind: FieldKind, kwargs: dict[str, Any]) -> Field:
    kwargs = dict(kwargs)
    desc = kwargs.pop("desc", None)
    prefix = kwargs.pop("prefix", None)
    for deprecated in ("format", "parser"):
        kwargs.pop(deprecated, None)
    default = kwargs.pop("default", MISSING)
    default_factory = kwargs.pop("default_factory", None)
    annotation = kwargs.pop("annotation", None)
    if desc is None and "description" in kwargs:
        desc = kwargs["description"]
    constraints = ", ".join(f"{_CONSTRAINT_WORDING[k]}{v}" for k, v in kwargs.items() if k in _CONSTRAINT_WORDING)
    return Field(
        kind=kind,
        annotation=str if annotation is None else annotation,
        desc=desc,
        prefix=prefix,
        default=default,
        default_factory=default_factory,
        constraints=constraints,
        extra=kwargs,
    )


def InputField(**kwargs: Any) -> Any:  # noqa: N802 - mirrors dspy.InputField
    """Declare an input field; takes ``dspy.InputField``'s keywords (``desc``, ``prefix``, ``default``, ...)."""
    return _make("input", kwargs)


def OutputField(**kwargs: Any) -> Any:  # noqa: N802 - mirrors dspy.OutputField
    """Declare an output field; takes ``dspy.OutputField``'s keywords (``desc``, ``prefix``, ``default``, ...)."""
    return _make("output", kwargs)
