"""The native Signature: a class per task, like ``dspy.Signature``, without pydantic underneath.

A signature is immutable once made: every "change" (``with_instructions``, ``prepend``, ...) returns a new
class, so per-signature work (prompt templates, type adapters) can be cached on the class itself.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Iterable, Mapping

from ..errors import SignatureError, SignatureTypeError
from ._field import MISSING, Field

__all__ = ["Signature", "SignatureMeta", "make_signature", "ensure_signature", "infer_prefix", "is_dspy_signature"]


def infer_prefix(attribute_name: str) -> str:
    """DSPy's human-readable prefix for a field name ("camelCaseText" -> "Camel Case Text")."""
    s1 = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", attribute_name)
    s2 = re.sub("([a-z0-9])([A-Z])", r"\1_\2", s1)
    s3 = re.sub(r"([a-zA-Z])(\d)", r"\1_\2", s2)
    s4 = re.sub(r"(\d)([a-zA-Z])", r"\1_\2", s3)
    return " ".join(w if w.isupper() else w.capitalize() for w in s4.split("_"))


def _default_instructions(inputs: Iterable[str], outputs: Iterable[str]) -> str:
    ins = ", ".join(f"`{f}`" for f in inputs)
    outs = ", ".join(f"`{f}`" for f in outputs)
    return f"Given the fields {ins}, produce the fields {outs}."


def _finalize(name: str, field: Field) -> Field:
    """Fill DSPy's defaults for desc and prefix, once, when a field joins a signature."""
    changes: dict[str, Any] = {}
    if field.prefix is None:
        changes["prefix"] = infer_prefix(name) + ":"
    if field.desc is None:
        changes["desc"] = f"${{{name}}}"
    return field.replace(**changes) if changes else field


# Names a field may not take: DSPy's Signature class attributes (DSPy fails on them with a raw TypeError).
_RESERVED = frozenset(
    {
        "instructions", "signature", "fields", "input_fields", "output_fields", "with_instructions",
        "append_instructions", "with_updated_fields", "prepend", "append", "insert", "delete", "equals",
        "dump_state", "load_state", "model_fields", "model_config",
    }
)


def _install_fields(cls: Any, fields: Mapping[str, Field]) -> None:
    """DSPy orders fields inputs first, then outputs, each in declaration order; computed once per class."""
    cls._input_fields = {k: f for k, f in fields.items() if f.is_input}
    cls._output_fields = {k: f for k, f in fields.items() if not f.is_input}
    cls._fields = {**cls._input_fields, **cls._output_fields}


class SignatureMeta(type):
    """Builds signature classes; ``Signature("q -> a", "instructions")`` returns a new class, as in DSPy."""

    _fields: dict[str, Field]
    _input_fields: dict[str, Field]
    _output_fields: dict[str, Field]
    _instructions: str

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Signature:
            if "custom_types" not in kwargs and args and isinstance(args[0], str):
                from ._parse import detect_custom_types_from_caller

                kwargs["custom_types"] = detect_custom_types_from_caller(args[0])
            return make_signature(*args, **kwargs)
        raise SignatureTypeError(
            f"{cls.__name__} is a signature class; it is not instantiated. Pass the class itself to a module, "
            f"e.g. dspex.native.Predict({cls.__name__})."
        )

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> "SignatureMeta":
        annotations = namespace.get("__annotations__", {})
        own: dict[str, Field] = {}
        for attr, value in list(namespace.items()):
            if isinstance(value, Field):
                annotation = annotations.get(attr, MISSING)
                if annotation is MISSING:
                    value = value.replace(annotation=str, type_undefined=True)
                else:
                    value = value.replace(annotation=annotation)
                own[attr] = value
                del namespace[attr]
        for attr, annotation in annotations.items():
            if attr not in own and not attr.startswith("_") and attr not in namespace:
                raise SignatureTypeError(
                    f"Field `{attr}` in `{name}` must be declared with InputField or OutputField, "
                    f"e.g. `{attr}: ... = dspex.native.InputField()`."
                )
        for attr in own:
            if attr in _RESERVED:
                raise SignatureError(
                    f"Field name `{attr}` in `{name}` is reserved (it names a Signature attribute); rename the field."
                )
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        inherited: dict[str, Field] = {}
        for base in reversed(cls.__mro__[1:]):
            inherited.update(getattr(base, "_fields", {}) if isinstance(base, SignatureMeta) else {})
        merged = {**inherited, **{k: _finalize(k, f) for k, f in own.items()}}
        from ._types import check_field

        for attr, field in own.items():
            check_field(attr, field)
        _install_fields(cls, merged)
        doc = namespace.get("__doc__")
        if doc is None:
            doc = next((b.__doc__ for b in cls.__mro__[1:] if isinstance(b, SignatureMeta) and b.__doc__), None)
        if doc is None or (doc == "" and "__doc__" not in namespace):
            doc = _default_instructions(cls.input_fields, cls.output_fields)
        cls.__doc__ = doc
        cls._instructions = inspect.cleandoc(doc)
        return cls

    # --- DSPy's read API -------------------------------------------------------------------------------------
    @property
    def instructions(cls) -> str:
        return cls._instructions

    @property
    def input_fields(cls) -> dict[str, Field]:
        return dict(cls._input_fields)

    @property
    def output_fields(cls) -> dict[str, Field]:
        return dict(cls._output_fields)

    @property
    def fields(cls) -> dict[str, Field]:
        return dict(cls._fields)

    @property
    def signature(cls) -> str:
        return f"{', '.join(cls.input_fields)} -> {', '.join(cls.output_fields)}"

    def __repr__(cls) -> str:
        lines = "\n    ".join(f"{k} = {f!r}" for k, f in cls._fields.items())
        return f"{cls.__name__}({cls.signature}\n    instructions={cls.instructions!r}\n    {lines}\n)"


class Signature(metaclass=SignatureMeta):
    """"""  # An empty docstring, as in DSPy: the base class contributes no instructions.

    _fields: dict[str, Field] = {}
    _input_fields: dict[str, Field] = {}
    _output_fields: dict[str, Field] = {}

    @classmethod
    def with_instructions(cls, instructions: str) -> type["Signature"]:
        return make_signature(cls.fields, instructions, signature_name=cls.__name__)

    @classmethod
    def append_instructions(cls, instructions: str) -> type["Signature"]:
        return make_signature(cls.fields, f"{cls.instructions}\n\n{instructions}", signature_name=cls.__name__)

    @classmethod
    def with_updated_fields(cls, name: str, type_: Any = None, **kwargs: Any) -> type["Signature"]:
        fields = cls.fields
        if name not in fields:
            raise SignatureError(f"Signature {cls.__name__} has no field `{name}`; its fields are {list(fields)}.")
        changes: dict[str, Any] = {k: v for k, v in kwargs.items() if k in ("desc", "prefix", "constraints")}
        if type_ is not None:
            changes["annotation"] = type_
        fields[name] = fields[name].replace(**changes)
        return make_signature(fields, cls.instructions, signature_name=cls.__name__)

    @classmethod
    def prepend(cls, name: str, field: Field, type_: Any = None) -> type["Signature"]:
        return cls.insert(0, name, field, type_)

    @classmethod
    def append(cls, name: str, field: Field, type_: Any = None) -> type["Signature"]:
        return cls.insert(-1, name, field, type_)

    @classmethod
    def delete(cls, name: str) -> type["Signature"]:
        fields = cls.fields
        fields.pop(name, None)
        return make_signature(fields, cls.instructions, signature_name=cls.__name__)

    @classmethod
    def insert(cls, index: int, name: str, field: Field, type_: Any = None) -> type["Signature"]:
        if not isinstance(field, Field):
            raise SignatureError(f"insert() takes a field made by InputField() or OutputField(), not {field!r}.")
        if type_ is not None:
            field = field.replace(annotation=type_)
        ins = list(cls.input_fields.items())
        outs = list(cls.output_fields.items())
        lst = ins if field.is_input else outs
        if index < 0:
            index += len(lst) + 1
        if index < 0 or index > len(lst):
            raise SignatureError(
                f"Invalid index to insert: {index}, index must be in the range of [{len(lst) - 1}, {len(lst)}] for "
                f"{field.kind} fields, but received: {index}."
            )
        lst.insert(index, (name, field))
        return make_signature(dict(ins + outs), cls.instructions, signature_name=cls.__name__)

    @classmethod
    def equals(cls, other: Any) -> bool:
        if not isinstance(other, SignatureMeta):
            return False
        if cls.instructions != other.instructions or cls._fields.keys() != other._fields.keys():
            return False
        return all(
            (f.kind, f.desc, f.prefix, f.constraints) == (g.kind, g.desc, g.prefix, g.constraints)
            for f, g in zip(cls._fields.values(), other._fields.values())
        )


def make_signature(
    signature: str | Mapping[str, Any],
    instructions: str | None = None,
    signature_name: str = "StringSignature",
    custom_types: Mapping[str, Any] | None = None,
) -> type[Signature]:
    """Make a signature class from ``"a, b: int -> c"`` or from ``{name: Field | (type, Field)}``."""
    if isinstance(signature, str):
        from ._parse import parse_signature_string

        fields = parse_signature_string(signature, custom_types)
    elif isinstance(signature, Mapping):
        fields = {}
        for name, value in signature.items():
            if not isinstance(name, str):
                raise SignatureError(f"Field names must be strings, but received: {name}.")
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Field):
                type_, value = value
                value = value.replace(annotation=str if type_ is None else type_)
            if not isinstance(value, Field):
                raise SignatureError(
                    f"Field values must be InputField()/OutputField() or (type, field) tuples, but received: {value}."
                )
            fields[name] = value
    else:
        raise SignatureError(
            f"A signature is a string like 'question -> answer', a Signature class or a dict of fields, "
            f"not {type(signature).__name__}."
        )
    if instructions is None or instructions == "":
        instructions = None
    namespace: dict[str, Any] = dict(fields)
    namespace["__doc__"] = instructions
    namespace["__annotations__"] = {k: f.annotation for k, f in fields.items() if not f.type_undefined}
    namespace["__module__"] = __name__
    cls = SignatureMeta(signature_name, (Signature,), namespace)
    # Type-undefined string fields keep the flag DSPy keeps (the parse marks them).
    _install_fields(
        cls,
        {k: f.replace(type_undefined=fields[k].type_undefined, annotation=fields[k].annotation) for k, f in cls._fields.items()},
    )
    return cls


def is_dspy_signature(obj: Any) -> bool:
    """A ``dspy.Signature`` class, recognised by its attributes so that dspy is never imported to check."""
    return (
        isinstance(obj, type)
        and not isinstance(obj, SignatureMeta)
        and any(c.__module__.startswith("dspy.") and c.__name__ == "Signature" for c in obj.__mro__)
    )


def ensure_signature(signature: Any, instructions: str | None = None) -> type[Signature]:
    """Accept what DSPy's modules accept: a string, a native Signature class, or a dspy.Signature class."""
    if isinstance(signature, str):
        return Signature(signature, instructions)
    if instructions is not None:
        raise SignatureError("Don't specify instructions when initializing with a Signature")
    if isinstance(signature, SignatureMeta) and signature is not Signature:
        return signature
    if is_dspy_signature(signature):
        from ._from_dspy import from_dspy_signature

        return from_dspy_signature(signature)
    raise SignatureError(
        f"Expected a signature string like 'question -> answer' or a Signature class, got {signature!r}."
    )
