"""The native Signature: a class per task, like ``dspy.Signature``, without pydantic underneath.

A signature is immutable once made: every "change" (``with_instructions``, ``prepend``, ...) returns a new
class, so per-signature work (prompt templates, type checks) can be cached on the class itself. Field order,
inheritance, docstring handling and the derived-signature methods follow DSPy 3.4.1 exactly (see
tests/unit/test_signature_vs_dspy.py); the differences are listed in docs/signatures.md.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Iterable, Mapping

from ..errors import SignatureError, SignatureTypeError
from ._field import Field
from ._namespace import TYPE_FORMS, check_field_names, check_field_types, collect_class_fields, is_dspy_field_info

__all__ = ["Signature", "SignatureMeta", "make_signature", "ensure_signature", "infer_prefix", "is_dspy_signature"]



_CREATE_MODEL_MODULE = "__module__"
_CAMEL = re.compile("(.)([A-Z][a-z]+)")
_LOWER_UPPER = re.compile("([a-z0-9])([A-Z])")
_LETTER_DIGIT = re.compile(r"([a-zA-Z])(\d)")
_DIGIT_LETTER = re.compile(r"(\d)([a-zA-Z])")


@functools.lru_cache(maxsize=4096)
def infer_prefix(attribute_name: str) -> str:
    """DSPy's human-readable prefix for a field name ("camelCaseText" -> "Camel Case Text"); names repeat, so
    it is cached."""
    s1 = _CAMEL.sub(r"\1_\2", attribute_name)
    s2 = _LOWER_UPPER.sub(r"\1_\2", s1)
    s3 = _LETTER_DIGIT.sub(r"\1_\2", s2)
    s4 = _DIGIT_LETTER.sub(r"\1_\2", s3)
    return " ".join(w if w.isupper() else w.capitalize() for w in s4.split("_"))


def _default_instructions(inputs: Iterable[str], outputs: Iterable[str]) -> str:
    ins = ", ".join(f"`{f}`" for f in inputs)
    outs = ", ".join(f"`{f}`" for f in outputs)
    return f"Given the fields {ins}, produce the fields {outs}."


def _finalize(name: str, field: Field, **changes: Any) -> Field:
    """Fill DSPy's defaults for desc and prefix, once, when a field joins a signature (one copy at most)."""
    filled = []
    if field.prefix is None:
        changes["prefix"] = infer_prefix(name) + ":"
        filled.append("prefix")
    if field.desc is None:
        changes["desc"] = f"${{{name}}}"
        filled.append("desc")
    if filled:
        changes["filled"] = (*field.filled, *filled)
    return field.replace(**changes) if changes else field


def _merge_inherited(cls: type, own: dict[str, Field]) -> dict[str, Field]:
    """pydantic's field collection: positions from each class's own fields in reversed MRO, values from the
    nearest definition (own first, then bases in MRO order)."""
    bases = [b for b in cls.__mro__[1:] if isinstance(b, SignatureMeta)]
    order: dict[str, None] = {}
    for base in reversed(bases):
        order.update(dict.fromkeys(base._own_fields))
    order.update(dict.fromkeys(own))
    merged: dict[str, Field] = {}
    for name in order:
        if name in own:
            merged[name] = own[name]
        else:
            merged[name] = next(b._fields[name] for b in bases if name in b._fields)
    return merged


class SignatureMeta(type):
    """Builds signature classes; ``Signature("q -> a", "instructions")`` returns a new class, as in DSPy."""

    _fields: dict[str, Field]
    _own_fields: dict[str, Field]
    _input_fields: dict[str, Field]
    _output_fields: dict[str, Field]

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Signature:
            custom_types = kwargs.pop("custom_types", None)
            if custom_types is None and args and isinstance(args[0], str):
                from ._parse import detect_custom_types_from_caller

                custom_types = detect_custom_types_from_caller(args[0])
            return make_signature(*args, custom_types=custom_types, **kwargs)
        raise SignatureTypeError(
            f"{cls.__name__} is a signature class; it is not instantiated. Pass the class itself to a module, "
            f"e.g. dspex.native.Predict({cls.__name__})."
        )

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> "SignatureMeta":
        prepared = namespace.pop("__dspex_fields__", None)
        if prepared is None:
            own = collect_class_fields(name, namespace, dict(namespace.get("__annotations__", {})))
        else:
            own = dict(prepared)
        check_field_names(name, own)
        check_field_types(name, own)
        namespace["__annotations__"] = {k: f.annotation for k, f in own.items()}
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        own = {k: _finalize(k, f) for k, f in own.items()}
        cls._own_fields = own
        _install_fields(cls, _merge_inherited(cls, own) if bases else own)
        doc = namespace.get("__doc__")
        if doc is None:
            for base in bases:
                if isinstance(base, SignatureMeta) and base.__doc__ != "":
                    doc = base.__doc__
        if doc is None:
            doc = _default_instructions(cls._input_fields, cls._output_fields)
        cls.__doc__ = doc
        return cls

    # --- DSPy's read API -------------------------------------------------------------------------------------
    @property
    def instructions(cls) -> str:
        doc = cls.__doc__ or ""
        cached = cls.__dict__.get("_instructions_cache")
        if cached is None or cached[0] is not doc:
            import inspect  # only when a class is made: keeps inspect (and ast, dis) out of the import

            cached = (doc, inspect.cleandoc(doc))
            type.__setattr__(cls, "_instructions_cache", cached)
        return cached[1]

    @instructions.setter
    def instructions(cls, instructions: str) -> None:
        raise SignatureError(
            "dspex signatures are immutable (per-signature work is cached on the class); use "
            "`sig = sig.with_instructions(...)` instead of assigning `sig.instructions`."
        )

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
        return f"{', '.join(cls._input_fields)} -> {', '.join(cls._output_fields)}"

    def __repr__(cls) -> str:
        lines = "\n    ".join(f"{k} = {f!r}" for k, f in cls._fields.items())
        return f"{cls.__name__}({cls.signature}\n    instructions={cls.instructions!r}\n    {lines}\n)"


def _install_fields(cls: Any, fields: Mapping[str, Field]) -> None:
    """DSPy orders fields inputs first, then outputs, each in declaration order; computed once per class."""
    cls._input_fields = {k: f for k, f in fields.items() if f.kind == "input"}
    cls._output_fields = {k: f for k, f in fields.items() if f.kind != "input"}
    cls._fields = {**cls._input_fields, **cls._output_fields}


from ._methods import SignatureMethods  # noqa: E402  (the methods need make_signature, defined below)


class Signature(SignatureMethods, metaclass=SignatureMeta):
    """"""  # An empty docstring, as in DSPy: the base class contributes no instructions.

    _fields: dict[str, Field] = {}
    _own_fields: dict[str, Field] = {}
    _input_fields: dict[str, Field] = {}
    _output_fields: dict[str, Field] = {}


def make_signature(
    signature: str | Mapping[str, Any],
    instructions: str | None = None,
    signature_name: str = "StringSignature",
    custom_types: Mapping[str, Any] | None = None,
) -> type[Signature]:
    """Make a signature class from ``"a, b: int -> c"`` or ``{name: Field | (type, Field)}``, as DSPy's does."""
    if isinstance(signature, str):
        from ._parse import parse_signature_string, type_names

        fields: Mapping[str, Any] = parse_signature_string(signature, type_names(custom_types))
    elif isinstance(signature, Mapping):
        fields = signature
    else:
        raise SignatureTypeError(
            f"A signature is a string like 'question -> answer' or a dict of fields, not {signature!r}. "
            "Pass a Signature class to modules directly."
        )
    fixed: dict[str, Field] = {}
    for name, type_field in fields.items():
        if not isinstance(name, str):
            raise ValueError(f"Field names must be strings, but received: {name}.")
        if isinstance(type_field, Field) or is_dspy_field_info(type_field):
            type_, field = type_field.annotation, type_field
        else:
            if not isinstance(type_field, tuple):
                raise ValueError(f"Field values must be tuples, but received: {type_field}.")
            type_, field = type_field
        if type_ is None:
            type_ = str
        if not isinstance(type_, TYPE_FORMS):
            raise ValueError(f"Field types must be types, but received: {type_} of type {type(type_)}.")
        if is_dspy_field_info(field):
            from ._from_dspy import field_from_dspy

            field = field_from_dspy(field)
        if not isinstance(field, Field):
            raise ValueError(f"Field values must be Field instances, but received: {field}.")
        if name == _CREATE_MODEL_MODULE:
            # DSPy hands the fields to pydantic's create_model, which takes ``__module__`` as its own parameter:
            # the field silently disappears (after the checks above). Kept so "__module__ -> answer" builds as
            # in DSPy 3.4.1, with only `answer` (docs/signatures.md).
            continue
        changes = {} if field.annotation is type_ else {"annotation": type_}
        fixed[name] = _finalize(name, field, **changes)
    namespace = {
        "__dspex_fields__": fixed,
        # pydantic's create_model drops a falsy __doc__, so "" instructions fall back to the default ones.
        "__doc__": instructions or None,
        "__module__": __name__,
        "__qualname__": signature_name,
    }
    return SignatureMeta(signature_name, (Signature,), namespace)


def is_dspy_signature(obj: Any) -> bool:
    """A ``dspy.Signature`` class, recognised by its MRO so that dspy is never imported to check."""
    return (
        isinstance(obj, type)
        and not isinstance(obj, SignatureMeta)
        and any(c.__name__ == "Signature" and c.__module__.startswith("dspy.") for c in obj.__mro__)
    )


def ensure_signature(signature: Any, instructions: str | None = None) -> type[Signature] | None:
    """Accept what DSPy's modules accept: a string, a native Signature class, or a dspy.Signature class."""
    if signature is None:
        return None
    if isinstance(signature, str):
        return Signature(signature, instructions)  # custom types are found in the caller's frames
    if instructions is not None:
        raise ValueError("Don't specify instructions when initializing with a Signature")
    if isinstance(signature, SignatureMeta):
        return signature
    if is_dspy_signature(signature):
        from ._from_dspy import from_dspy_signature

        return from_dspy_signature(signature)
    raise SignatureTypeError(
        f"Expected a signature string like 'question -> answer' or a Signature class, got {signature!r}."
    )
