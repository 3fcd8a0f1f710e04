"""One field of a signature: what DSPy keeps in a pydantic ``FieldInfo``, as a small frozen record.

Keeping it a plain slotted class (not a pydantic field) is what lets ``import dspex.native`` skip pydantic.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Mapping

__all__ = ["Field", "InputField", "OutputField", "MISSING", "FieldKind", "IS_TYPE_UNDEFINED", "CONSTRAINT_WORDING"]

FieldKind = Literal["input", "output"]

#: DSPy's ``json_schema_extra`` key marking a field whose type was not written (``dspy.utils.constants``).
IS_TYPE_UNDEFINED = "IS_TYPE_UNDEFINED"


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
CONSTRAINT_WORDING = {
    "gt": "greater than: ",
    "ge": "greater than or equal to: ",
    "lt": "less than: ",
    "le": "less than or equal to: ",
    "min_length": "minimum length: ",
    "max_length": "maximum length: ",
    "multiple_of": "a multiple of the given number: ",
    "allow_inf_nan": "allow 'inf', '-inf', 'nan' values: ",
}

# Keywords DSPy keeps in ``json_schema_extra`` rather than handing to pydantic (``DSPY_FIELD_ARG_NAMES``).
_SCHEMA_EXTRA_ARGS = ("format", "parser")


_FIELD_NAMES = (
    "kind", "annotation", "desc", "prefix", "default", "default_factory", "constraints", "type_undefined", "extra",
    "meta", "filled",
)


class Field:
    """A signature field (immutable).

    ``desc`` and ``prefix`` are ``None`` until the field joins a signature, which fills DSPy's defaults
    (``"${name}"`` and the inferred prefix). ``type_undefined`` is tri-state because DSPy's
    ``json_schema_extra`` distinguishes "key absent" (``None``) from ``False`` and ``equals`` compares it.
    ``meta`` holds any other ``json_schema_extra`` entries (``format``, keys set by ``with_updated_fields``, and
    ``desc: None`` where DSPy keeps a None that its prompt renders as the text "None", held in ``desc``).
    ``filled`` names the keys the signature filled with its defaults: DSPy keeps them after the declared ones,
    and its field reprs (quoted in error messages) show that order.
    ``extra`` keeps pydantic keywords (``ge``, ``alias``, ``description``...) so the field can be rebuilt as a
    real DSPy field when a call routes to DSPy.

    A hand-written slotted class rather than a dataclass: ``dataclasses`` pulls ``inspect`` (and ``ast``,
    ``dis``, ``tokenize``) into ``import dspex.native``, a fifth of its import time.
    """

    __slots__ = _FIELD_NAMES
    kind: FieldKind
    annotation: Any
    desc: str | None
    prefix: str | None
    default: Any
    default_factory: Callable[[], Any] | None
    constraints: str
    type_undefined: bool | None
    extra: dict[str, Any]
    meta: dict[str, Any]
    filled: tuple[str, ...]

    def __init__(
        self,
        kind: FieldKind,
        annotation: Any = str,
        desc: str | None = None,
        prefix: str | None = None,
        default: Any = MISSING,
        default_factory: Callable[[], Any] | None = None,
        constraints: str = "",
        type_undefined: bool | None = None,
        extra: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
        filled: tuple[str, ...] = (),
    ) -> None:
        values = (kind, annotation, desc, prefix, default, default_factory, constraints, type_undefined,
                  {} if extra is None else extra, {} if meta is None else meta, filled)
        for name, value in zip(_FIELD_NAMES, values):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Field is immutable: use field.replace({name}=...) for a changed copy.")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Field is immutable.")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Field:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in _FIELD_NAMES)

    __hash__ = None  # type: ignore[assignment]  # holds dicts: unhashable, as the dataclass was

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Field, tuple(getattr(self, n) for n in _FIELD_NAMES))

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
        """A copy with ``changes`` applied (signatures copy fields a lot, so no per-call validation beyond names)."""
        unknown = changes.keys() - _FIELD_SET
        if unknown:
            raise TypeError(f"Field has no attribute(s) {sorted(unknown)}")
        new = object.__new__(Field)
        for name in _FIELD_NAMES:
            object.__setattr__(new, name, changes[name] if name in changes else getattr(self, name))
        return new

    @property
    def json_schema_extra(self) -> dict[str, Any]:
        """DSPy's ``FieldInfo.json_schema_extra`` for this field (a fresh dict; ``equals`` compares these)."""
        out: dict[str, Any] = {"__dspy_field_type": self.kind}
        if self.type_undefined is not None:
            out[IS_TYPE_UNDEFINED] = self.type_undefined
        if self.desc is not None:
            out["desc"] = self.desc
        if self.prefix is not None:
            out["prefix"] = self.prefix
        if self.constraints:
            out["constraints"] = self.constraints
        out.update(self.meta)
        return out

    @property
    def schema_desc(self) -> Any:
        """The desc as DSPy's ``json_schema_extra`` holds it: None where the prompt shows the text "None"."""
        return self.meta["desc"] if "desc" in self.meta else self.desc

    def saved(self) -> dict[str, Any]:
        """The field's entry in DSPy's ``Signature.dump_state()``."""
        return {"prefix": self.prefix, "description": self.schema_desc}

    def loaded(self, saved: Mapping[str, Any]) -> "Field":
        """This field with a saved entry's prefix and description set (in place in DSPy's key order)."""
        return self.with_schema_extra({"prefix": saved["prefix"], "desc": saved["description"]})

    def with_schema_extra(self, updates: dict[str, Any]) -> "Field":
        """Merge ``updates`` into ``json_schema_extra`` (DSPy's ``with_updated_fields`` semantics)."""
        changes: dict[str, Any] = {}
        meta = dict(self.meta)
        for key, value in updates.items():
            if key == "__dspy_field_type":
                changes["kind"] = value
            elif key == IS_TYPE_UNDEFINED:
                changes["type_undefined"] = value
            elif key == "desc" and value is None:
                # DSPy stores None and its prompt then reads "`name` (type): None"; None here would mean "no desc
                # given" and be re-filled with the default, so keep the text DSPy renders.
                changes[key], meta[key] = "None", None
            elif key in ("desc", "prefix") and (value is None or isinstance(value, str)):
                changes[key] = value
                meta.pop(key, None)
            elif key == "constraints" and isinstance(value, str) and value:
                changes[key] = value
            else:
                meta[key] = value
        changes["meta"] = meta
        return self.replace(**changes)

    def __repr__(self) -> str:
        default = "" if self.is_required() else f" default={self.get_default()!r}"
        kind = self.kind.capitalize()
        return f"{kind}Field(annotation={_type_repr(self.annotation)}{default} {self.json_schema_extra})"


_FIELD_SET = frozenset(_FIELD_NAMES)


def _type_repr(annotation: Any) -> str:
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def _make(kind: FieldKind, kwargs: dict[str, Any]) -> Field:
    """Split keywords the way DSPy's ``move_kwargs`` does: DSPy's own into the record, the rest kept aside."""
    kwargs = dict(kwargs)
    if "prefix" in kwargs or "format" in kwargs:
        _warn_deprecated(kwargs)
    # DSPy keeps an explicit ``desc`` (even None), else pydantic's ``description`` (even None); a None it then
    # renders as the text "None". None here means "no desc given" (the default is filled in later), so an
    # explicit None becomes the text DSPy shows, and ``meta`` keeps the None DSPy's json_schema_extra holds.
    given = "desc" in kwargs or "description" in kwargs
    desc = kwargs.pop("desc") if "desc" in kwargs else kwargs.get("description")
    meta: dict[str, Any] = {"desc": None} if given and desc is None else {}
    prefix = kwargs.pop("prefix", None)
    meta.update({k: kwargs.pop(k) for k in _SCHEMA_EXTRA_ARGS if k in kwargs})
    type_undefined = kwargs.pop(IS_TYPE_UNDEFINED, None)
    default = kwargs.pop("default", MISSING)
    default_factory = kwargs.pop("default_factory", None)
    # pydantic.Field has no `annotation` parameter: dspy.InputField(annotation=int) leaves the type unset.
    kwargs.pop("annotation", None)
    constraints = ", ".join(f"{CONSTRAINT_WORDING[k]}{v}" for k, v in kwargs.items() if k in CONSTRAINT_WORDING)
    return Field(
        kind=kind,
        desc="None" if "desc" in meta else desc,
        prefix=prefix,
        default=default,
        default_factory=default_factory,
        constraints=constraints,
        type_undefined=type_undefined,
        extra=kwargs,
        meta=meta,
    )


_DEPRECATED_ARGS = ("prefix", "format")


def _warn_deprecated(kwargs: dict[str, Any]) -> None:
    """DSPy's DeprecationWarning for ``prefix``/``format`` (``stacklevel=3``: the line declaring the field)."""
    import warnings

    for arg in _DEPRECATED_ARGS:
        if arg in kwargs:
            warnings.warn(
                f"The '{arg}' argument in InputField/OutputField is deprecated and has no effect in DSPy. "
                "It will be removed in a future version.",
                DeprecationWarning,
                stacklevel=4,
            )


def InputField(**kwargs: Any) -> Any:  # noqa: N802 - mirrors dspy.InputField
    """Declare an input field; takes ``dspy.InputField``'s keywords (``desc``, ``prefix``, ``default``, ...)."""
    return _make("input", kwargs)


def OutputField(**kwargs: Any) -> Any:  # noqa: N802 - mirrors dspy.OutputField
    """Declare an output field; takes ``dspy.OutputField``'s keywords (``desc``, ``prefix``, ``default``, ...)."""
    return _make("output", kwargs)
