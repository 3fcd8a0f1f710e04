"""Parsing ``"question, ctx: list[str] -> answer: int"`` into fields, as DSPy 3.4.1 does.

The grammar is Python's own: each side of ``->`` is parsed as a function's parameter list, and each annotation
is evaluated node by node against a fixed table of names (``typing``'s, ``NoneType``, a few builtins, then any
importable module). DSPy's quirks are kept on purpose: defaults, ``*args`` and ``**kwargs`` are dropped silently,
a repeated name keeps one field, and ``custom_types`` replaces the table's ``NoneType`` entry.
Where DSPy lets a raw ``SyntaxError`` or ``TypeError`` escape, this module raises :class:`SignatureError` naming
the offending text (docs/signatures.md has the table). ``dspy`` itself is never imported: a ``dspy.*`` type in
a string resolves only if the caller already imported dspy (and is then reported by ``unsupported_fields``);
otherwise it is an :class:`UnsupportedTypeError` naming the field. Either way the module routes to DSPy.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import contextvars
import importlib
import re
import sys
import typing
from typing import Any, Iterator, Mapping

from ..errors import NotReplayableError, SignatureError, UnsupportedTypeError
from ._field import IS_TYPE_UNDEFINED, Field, InputField, OutputField

__all__ = ["parse_signature_string", "detect_custom_types_from_caller", "type_names", "data_only"]

_BUILTIN_TYPES = (int, str, float, bool, list, tuple, dict, set, frozenset, complex, bytes, bytearray)
_TYPE_PATTERN = re.compile(r":\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")
_MAX_FRAMES = 100
# Set while a signature string comes from data (a divergence log, a corpus case): names resolve only to typing's
# names and builtins, never by importing a module (DSPy's fallback for an unknown name).
_DATA_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("dspex_signature_data_only", default=False)


@contextlib.contextmanager
def data_only() -> Iterator[None]:
    """Parse signature strings as data: an unknown name raises NotReplayableError instead of importing it."""
    token = _DATA_ONLY.set(True)
    try:
        yield
    finally:
        _DATA_ONLY.reset(token)


class _DspyName(Exception):
    """Raised inside annotation evaluation when the text names ``dspy``; turned into UnsupportedTypeError."""


def type_names(custom_types: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The name table DSPy's ``make_signature`` builds: note it has no ``NoneType`` once custom types are given."""
    if not custom_types:
        return None
    names = dict(typing.__dict__)
    names.update(custom_types)
    return names


def parse_signature_string(text: str, names: dict[str, Any] | None = None) -> dict[str, tuple[Any, Field]]:
    """``{name: (type, field)}`` in DSPy's order: inputs, then outputs. ``names`` as from :func:`type_names`."""
    if text.count("->") != 1:
        raise ValueError(f"Invalid signature format: '{text}', must contain exactly one '->'.")
    inputs_str, outputs_str = text.split("->")
    if names is None:
        names = _default_names()
    inputs = list(_parse_side(text, inputs_str, names, "input"))
    outputs = list(_parse_side(text, outputs_str, names, "output"))
    duplicates = sorted({n for n, *_ in inputs}.intersection(n for n, *_ in outputs))
    if duplicates:
        raise ValueError(
            f"Input and output fields must have distinct names, but found duplicates: '{', '.join(duplicates)}'."
        )
    fields: dict[str, tuple[Any, Field]] = {}
    for name, type_, undefined in inputs:
        fields[name] = (type_, InputField(**{IS_TYPE_UNDEFINED: undefined}))
    for name, type_, _ in outputs:
        fields[name] = (type_, OutputField())
    return fields


def _parse_side(text: str, part: str, names: dict[str, Any] | None, side: str) -> Iterator[tuple[str, Any, bool]]:
    try:
        args = ast.parse(f"def f({part}): pass").body[0].args.args  # type: ignore[attr-defined]
    except SyntaxError as exc:
        raise SignatureError(
            f"Invalid signature {text!r}: the {side} fields {part.strip()!r} are not a comma-separated list of "
            f"`name` or `name: type` ({exc.msg}). Field names must be Python identifiers (not keywords such as "
            "`class`), and brackets must balance."
        ) from None
    for arg in args:
        if arg.annotation is None:
            yield arg.arg, str, True
            continue
        try:
            yield arg.arg, _evaluate(arg.annotation, names), False
        except _DspyName:
            raise UnsupportedTypeError(
                arg.arg, ast.unparse(arg.annotation), "dspy types in signature strings are resolved only by DSPy"
            ) from None
        except TypeError as exc:
            raise SignatureError(
                f"Invalid signature {text!r}: the type `{ast.unparse(arg.annotation)}` of field `{arg.arg}` is not "
                f"a valid type expression ({exc})."
            ) from None


def _default_names() -> dict[str, Any]:
    names = dict(typing.__dict__)
    names["NoneType"] = type(None)
    return names


def _evaluate(node: ast.AST, names: dict[str, Any] | None) -> Any:
    """DSPy's ``_parse_type_node``: evaluate an annotation's syntax tree against the name table."""
    if names is None:
        names = _default_names()
    if isinstance(node, ast.Name):
        return _resolve_name(node.id, names)
    if isinstance(node, ast.Attribute):
        base = _evaluate(node.value, names)
        if hasattr(base, node.attr):
            return getattr(base, node.attr)
        if isinstance(node.value, ast.Name) and f"{node.value.id}.{node.attr}" in names:
            return names[f"{node.value.id}.{node.attr}"]
        raise ValueError(f"Unknown attribute: {node.attr} on {base}")
    if isinstance(node, ast.Subscript):
        base_type = _evaluate(node.value, names)
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        args = tuple(_evaluate(elt, names) for elt in elts)
        if base_type is typing.Union:
            return typing.Union[args]
        if base_type is typing.Optional:
            if len(args) != 1:
                raise ValueError("Optional must have exactly one type argument")
            return typing.Optional[args[0]]
        return base_type[args]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _evaluate(node.left, names), _evaluate(node.right, names)
        if right is type(None):
            return typing.Optional[left]
        if left is type(None):
            return typing.Optional[right]
        return typing.Union[left, right]
    if isinstance(node, ast.Tuple):
        return tuple(_evaluate(elt, names) for elt in node.elts)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Field":
        return _pydantic_field(node, names)
    raise ValueError(
        f"Failed to parse string-base Signature due to unhandled AST node type in annotation: {ast.dump(node)}. "
        "Please consider using class-based DSPy Signatures instead."
    )


def _resolve_name(name: str, names: dict[str, Any]) -> Any:
    if name in names:
        return names[name]
    for t in _BUILTIN_TYPES:
        if t.__name__ == name:
            return t
    if _DATA_ONLY.get():
        raise NotReplayableError(
            f"the signature names {name!r}, which is neither a builtin nor a typing name; dspex does not import "
            "code named by log or corpus data. Pass a factory that builds the module (dspex shadow replay "
            "--factory package.module:callable, or check_case(case, factory=...))."
        )
    if name == "dspy":
        if "dspy" not in sys.modules:  # resolving it would import DSPy: report the field unsupported instead
            raise _DspyName(name)
        names[name] = sys.modules["dspy"]
        return names[name]
    try:
        module = importlib.import_module(name)
    except ImportError:
        raise ValueError(f"Unknown name: {name}") from None
    names[name] = module
    return module


def _pydantic_field(node: ast.Call, names: dict[str, Any]) -> Any:
    """``Field(ge=0)`` inside ``Annotated[...]``: a real pydantic field, so pydantic is imported only here."""
    from pydantic import Field as PydanticField

    kwargs = {
        kw.arg: kw.value.value if isinstance(kw.value, ast.Constant) else _evaluate(kw.value, names)
        for kw in node.keywords
    }
    return PydanticField(**kwargs)  # type: ignore[arg-type]


def detect_custom_types_from_caller(text: str) -> dict[str, Any] | None:
    """Find the signature's custom type names in the caller's frames, as DSPy's SignatureMeta does.

    Only names right after a ``:`` are looked for (so ``list[MyModel]`` is not, exactly as in DSPy). The walk
    starts at the first frame outside dspex, so ``dspex.native.Predict("q: MyModel -> a")`` finds ``MyModel``
    where the user wrote the call, and dspex's own module globals never shadow a user's type.
    """
    needed: set[str] = set()
    for type_name in _TYPE_PATTERN.findall(text):
        base = type_name.split(".")[0]
        if base not in typing.__dict__ and base not in builtins.__dict__:
            needed.add(base)
    if not needed:
        return None
    found: dict[str, Any] = {}
    frame = sys._getframe(1)
    while frame is not None and _is_dspex_frame(frame):
        frame = frame.f_back
    count = 0
    try:
        while frame is not None and needed and count < _MAX_FRAMES:
            count += 1
            for name in list(needed):
                if name in frame.f_locals:
                    found[name] = frame.f_locals[name]
                    needed.discard(name)
                elif name in frame.f_globals:
                    found[name] = frame.f_globals[name]
                    needed.discard(name)
            frame = frame.f_back
    finally:
        del frame
    return found or None


def _is_dspex_frame(frame: Any) -> bool:
    module = frame.f_globals.get("__name__", "")
    return module == "dspex" or module.startswith("dspex.")
