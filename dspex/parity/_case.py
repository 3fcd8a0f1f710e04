"""A parity case as plain data, and the one construction routine both implementations go through.

The same ``_build_signature`` code runs for DSPy and for native, with only the library's ``Signature`` /
``InputField`` / ``OutputField`` swapped in (a :class:`Kit`), so any difference between the two built modules
comes from the libraries, never from the harness.
"""

from __future__ import annotations

import copy
import enum
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence, Union, get_args, get_origin

__all__ = ["NO_DEFAULT", "FieldSpec", "SignatureSpec", "LMSpec", "DemoSpec", "Case", "Kit", "annotation_expr",
           "build_signature", "run_with_names", "CLASS_EXTRAS"]


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()

SignatureForm = Literal["string", "string_types", "class", "dict", "dspy_class", "subclass"]


@dataclass(frozen=True)
class FieldSpec:
    """One field. ``annotation=None`` means "no annotation" (``"a -> b"`` or a class attribute without a hint)."""

    name: str
    kind: Literal["input", "output"]
    annotation: Any = None
    desc: str | None = None
    constraints: tuple[tuple[str, Any], ...] = ()
    default: Any = NO_DEFAULT
    default_factory: Any = None   # a Factory: the field's ``default_factory=`` (then no ``default``)

    def field_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(self.constraints)
        if self.desc is not None:
            kwargs["desc"] = self.desc
        if self.default is not NO_DEFAULT:
            kwargs["default"] = self.default
        if self.default_factory is not None:
            kwargs["default_factory"] = self.default_factory
        return kwargs


@dataclass(frozen=True, eq=False)
class Factory:
    """A field's ``default_factory``: a fresh copy of ``value`` on every call (a mutable default is never shared)."""

    value: Any

    def __call__(self) -> Any:
        return copy.deepcopy(self.value)

    def __repr__(self) -> str:
        return f"lambda: {self.value!r}"


@dataclass(frozen=True)
class SignatureSpec:
    """A signature in one of four forms: a string, a class statement, a dict of fields, or a dspy class given
    to both sides (users migrating hand their existing ``dspy.Signature`` classes to native modules)."""

    fields: tuple[FieldSpec, ...]
    instructions: str | None = None
    form: SignatureForm = "string"
    name: str = "ParitySignature"
    names: tuple[tuple[str, Any], ...] = ()  # custom type names visible to string signatures (module globals)
    raw: str | None = None  # a verbatim signature string (error cases); overrides ``fields``
    transforms: tuple[tuple[Any, ...], ...] = ()  # class-method calls applied after building, in order
    extras: tuple[str, ...] = ()  # what else a class statement's body holds (CLASS_EXTRAS), in class forms
    dspy_fields: bool = False  # class / dict forms: native's signature built with DSPy's InputField / OutputField

    @property
    def inputs(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.kind == "input"]

    @property
    def outputs(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.kind == "output"]

    def as_string(self) -> str:
        if self.raw is not None:
            return self.raw

        def part(fs: list[FieldSpec]) -> str:
            return ", ".join(f.name if f.annotation is None else f"{f.name}: {annotation_expr(f.annotation)}" for f in fs)

        return f"{part(self.inputs)} -> {part(self.outputs)}"


@dataclass(frozen=True)
class LMSpec:
    """How to build each side's scripted LM: its script and the attributes DSPy's adapters read."""

    script: tuple[Any, ...] = ()
    kwargs: dict[str, Any] | None = None  # None: BaseLM's defaults (temperature=None, max_tokens=None)
    supported_params: tuple[str, ...] = ()
    supports_response_schema: bool = False


@dataclass(frozen=True)
class DemoSpec:
    """A demo as a plain dict or as a ``dspy.Example`` (what optimizers produce)."""

    values: dict[str, Any]
    as_example: bool = False


@dataclass(frozen=True)
class RationaleSpec:
    """ChainOfThought's ``rationale_field=``: DSPy's own field on the DSPy side; on the native side DSPy's too (read
    by duck typing) or, with ``native_own``, native's field of the same kind and arguments."""

    kind: Literal["output", "input"] = "output"
    desc: str | None = None
    prefix: str | None = None
    native_own: bool = False

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in (("desc", self.desc), ("prefix", self.prefix)) if v is not None)
        return f"{'native' if self.native_own else 'dspy'}.{self.kind.capitalize()}Field({args})"


@dataclass
class Case:
    module: Literal["predict", "cot"]
    signature: SignatureSpec
    inputs: dict[str, Any] = field(default_factory=dict)
    lm: LMSpec = field(default_factory=LMSpec)
    demos: tuple[DemoSpec, ...] | None = None
    demos_via: Literal["call", "attribute"] = "call"
    config: dict[str, Any] | None = None  # per-call ``config=``
    module_config: dict[str, Any] = field(default_factory=dict)  # constructor ``**config``
    positional: tuple[Any, ...] = ()  # positional call arguments (both modules must refuse them)
    pass_lm: bool = True  # False: call without ``lm=`` and with no global LM configured
    lm_via: Literal["call", "module"] = "call"  # "module": the LM is set on the module (``module.set_lm(lm)``)
    call_signature: SignatureSpec | None = None  # a per-call ``signature=`` override
    adapter: Literal["chat", "json", "chat_no_fallback"] = "chat"  # the configured adapter for the call
    repeat: int = 1  # call the same module this many times (the script runs on across calls)
    callbacks: bool | str = False  # True: callbacks=[a recorder] (events compared with the logs); "broken": raises


@dataclass(frozen=True)
class Kit:
    """A library's signature-building vocabulary."""

    signature: Any
    input_field: Callable[..., Any]
    output_field: Callable[..., Any]


def annotation_expr(annotation: Any) -> str:
    """Write an annotation the way a user types it in a signature string."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is type(None):
        return "None"
    if origin is Literal:
        return f"Literal[{', '.join(_literal_expr(a) for a in args)}]"
    if origin is Union:
        non_none = [a for a in args if a is not type(None)]
        if len(args) == 2 and len(non_none) == 1:
            return f"Optional[{annotation_expr(non_none[0])}]"
        return f"Union[{', '.join(annotation_expr(a) for a in args)}]"
    if origin is types.UnionType:
        return " | ".join(annotation_expr(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", None) or str(origin).replace("typing.", "")
        inner = ", ".join("..." if a is Ellipsis else annotation_expr(a) for a in args)
        return f"{name}[{inner}]" if args else name
    if annotation is typing.Any:
        return "Any"
    if getattr(annotation, "__module__", None) == "datetime":
        return f"datetime.{annotation.__name__}"   # resolved through the importable module, as users write it
    return getattr(annotation, "__name__", repr(annotation))


def _literal_expr(value: Any) -> str:
    return f"{type(value).__name__}.{value.name}" if isinstance(value, enum.Enum) else repr(value)


def run_with_names(names: dict[str, Any], fn: Callable[[], Any]) -> Any:
    """Call ``fn`` from a frame whose globals hold ``names``, as if the user's module had defined them.

    DSPy resolves custom type names in signature strings by walking the caller's frames; running the module
    construction in such a frame is how a user's own code looks to it.
    """
    if not names:
        return fn()
    namespace: dict[str, Any] = dict(names)
    namespace["__parity_fn"] = fn
    exec("__parity_result = __parity_fn()", namespace)  # noqa: S102 - a fixed snippet, no user text
    return namespace["__parity_result"]


def build_signature(spec: SignatureSpec, kit: Kit) -> Any:
    """The signature object handed to a module constructor (a string, or a class built through ``kit``)."""
    base = _build_base(spec, kit)
    if not spec.transforms:
        return base
    signature = kit.signature(base) if isinstance(base, str) else base
    for op, *args in spec.transforms:
        signature = _transform(signature, kit, op, args)
    return signature


# What users put in a signature class besides fields: DSPy (pydantic) skips some and refuses others; a class is
# "nested" only when defined in the body (same module, qualname under the class's).
CLASS_EXTRAS = ("nested class", "class from another module", "class from elsewhere", "class named like it",
                "method", "classvar", "classvar as text", "private", "partial", "property", "plain value")


def _add_extra(extra: str, name: str, namespace: dict[str, Any], annotations: dict[str, Any]) -> None:
    def helper_class(module: str, qualname: str) -> type:
        return type("Helper", (), {"__module__": module, "__qualname__": qualname})

    values: dict[str, Any] = {
        "nested class": lambda: helper_class("parity_case", f"{name}.Helper"),
        "class from another module": lambda: helper_class("elsewhere", f"{name}.Helper"),
        "class from elsewhere": lambda: helper_class("parity_case", "Other.Helper"),
        "class named like it": lambda: helper_class("parity_case", f"{name}Helper"),
        "method": lambda: (lambda self: 1), "classvar": lambda: 3, "classvar as text": lambda: 3, "private": dict,
        "partial": lambda: functools.partial(print, 1), "property": lambda: property(lambda self: 1),
        "plain value": lambda: 3,
    }
    attr = {"private": "_cache", "classvar": "limit", "classvar as text": "limit", "plain value": "limit"}.get(extra,
                                                                                                          "Helper")
    namespace[attr] = values[extra]()
    if extra == "classvar":
        annotations[attr] = typing.ClassVar[int]
    elif extra == "classvar as text":   # ``from __future__ import annotations``: both spellings users write
        annotations[attr] = "typing.ClassVar[int]" if len(name) % 2 else "ClassVar[int]"


def _class_statement(name: str, fields: Sequence[FieldSpec], doc: str | None, kit: Kit, base: Any,
                     extras: Sequence[str] = ()) -> Any:
    """What ``class name(base): \"\"\"doc\"\"\" ...fields ...extras`` makes, via ``type()``."""
    namespace: dict[str, Any] = {"__module__": "parity_case", "__qualname__": name}
    if doc is not None:
        namespace["__doc__"] = doc
    annotations: dict[str, Any] = {}
    for f in fields:
        maker = kit.input_field if f.kind == "input" else kit.output_field
        namespace[f.name] = maker(**f.field_kwargs())
        if f.annotation is not None:
            annotations[f.name] = f.annotation
    for extra in extras:
        _add_extra(extra, name, namespace, annotations)
    namespace["__annotations__"] = annotations
    return type(kit.signature)(name, (base,), namespace)


def _build_base(spec: SignatureSpec, kit: Kit) -> Any:
    if spec.form == "string":
        text = spec.as_string()
        return text if spec.instructions is None else kit.signature(text, spec.instructions)
    if spec.form == "string_types":   # the user's types handed over explicitly: resolved anywhere in the string
        return kit.signature(spec.as_string(), spec.instructions, custom_types=dict(spec.names))
    if spec.form == "dict":
        fields = {
            f.name: (f.annotation, (kit.input_field if f.kind == "input" else kit.output_field)(**f.field_kwargs()))
            for f in spec.fields
        }
        return kit.signature(fields, spec.instructions)
    if spec.form == "subclass":  # the first fields on a base class with the instructions, the rest on a subclass
        split = max(1, len(spec.fields) // 2)
        base = _class_statement(f"{spec.name}Base", spec.fields[:split], spec.instructions, kit, kit.signature)
        return _class_statement(spec.name, spec.fields[split:], None, kit, base, spec.extras)
    # "class" (and "dspy_class", built with dspy's kit by the caller)
    return _class_statement(spec.name, spec.fields, spec.instructions, kit, kit.signature, spec.extras)


def _transform(signature: Any, kit: Kit, op: str, args: list[Any]) -> Any:
    """One of the Signature class methods users chain (``append``, ``with_instructions``, ...)."""
    if op in ("with_instructions", "append_instructions", "delete"):
        return getattr(signature, op)(args[0])
    if op == "with_updated_fields":
        name, annotation, desc, *more = args
        return signature.with_updated_fields(name, type_=annotation, desc=desc, **(more[0] if more else {}))
    if op in ("append", "prepend", "insert"):
        field = args[-1]
        maker = kit.input_field if field.kind == "input" else kit.output_field
        new = maker(**field.field_kwargs())
        if op == "insert":
            return signature.insert(args[0], field.name, new, type_=field.annotation)
        return getattr(signature, op)(field.name, new, type_=field.annotation)
    raise ValueError(f"unknown signature transform {op!r}")


def is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)
