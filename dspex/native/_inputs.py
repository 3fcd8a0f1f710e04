"""Per-signature facts a call needs (computed once per signature class) and DSPy's input warnings.

DSPy re-reads ``signature.input_fields`` (a fresh dict of pydantic fields) several times per call; the native
path reads a frozen :class:`InputPlan` cached per signature class instead. The warnings keep DSPy's texts.
"""

from __future__ import annotations

import types
import weakref
from itertools import repeat
from typing import Any, Callable, Literal, Union, get_args, get_origin

from ..signature import MISSING, check_signature, ensure_signature
from ..signature import annotation_allows_none

__all__ = ["InputPlan", "plan_for", "warn_about_inputs", "annotation_allows_none", "CALL_KEYWORDS", "check_postprocess"]

CALL_KEYWORDS = frozenset({"signature", "new_signature", "demos", "config", "lm", "prediction"})
# DSPy ends a call with ``self._forward_postprocess(completions, signature, **inputs)``: an input named like one
# of those parameters fails there, after the LM call (``signature`` is taken as a per-call signature earlier).
_POSTPROCESS_PARAMS = frozenset({"completions"})




class InputPlan:
    """What one signature's calls need to know about its inputs, precomputed.

    Cached in a ``WeakKeyDictionary`` keyed on the signature class, so the plan holds its signature *weakly*:
    a cached value that held its own key strongly would keep every signature ever seen alive (20,000 distinct
    signatures kept ~150 MB). Whoever calls with a plan holds the signature, so ``plan.signature`` is alive then.
    """

    __slots__ = ("_signature", "names", "name_set", "plain", "defaults", "not_optional", "typed",
                 "round_trip", "around_trip", "adapter", "__weakref__")

    @property
    def signature(self) -> Any:
        return self._signature()

    def __init__(self, signature: Any) -> None:
        fields = signature._input_fields
        self._signature = weakref.ref(signature)
        self.names: tuple[str, ...] = tuple(fields)
        self.name_set: frozenset[str] = frozenset(fields)
        # A call whose keywords are exactly the inputs (plus ``lm``) may take Predict's plain path, unless an
        # input is named like one of the call's own keywords (``config``, ``demos``, ...), which DSPy pops first.
        self.plain: bool = self.name_set.isdisjoint(CALL_KEYWORDS | _POSTPROCESS_PARAMS)
        # Only a plain ``default`` is filled in, not a ``default_factory`` (pydantic keeps those apart; so does DSPy).
        self.defaults: tuple[tuple[str, Any], ...] = tuple(
            (k, f.default) for k, f in fields.items() if f.default is not MISSING
        )
        self.not_optional: tuple[str, ...] = tuple(
            k for k, f in fields.items() if not annotation_allows_none(f.annotation)
        )
        self.typed: tuple[tuple[str, Any, Callable[[Any], bool]], ...] = tuple(
            (k, f.annotation, _checker(f.annotation)) for k, f in fields.items() if not f.type_undefined
        )
        # The default ChatAdapter's plain round trips for the signature (its plan's ``trip`` / ``atrip``, sync and
        # async; False if that plan is not plain) and that adapter (``adapter``, their first argument), set by
        # Predict on its first plain call (None until then).
        self.round_trip: Any = None
        self.around_trip: Any = None
        self.adapter: Any = None


# signature class (native, or a dspy class mapped to its native twin) -> plan; weak: see InputPlan.
_PLANS: "weakref.WeakKeyDictionary[Any, InputPlan]" = weakref.WeakKeyDictionary()


def plan_for(signature: Any) -> InputPlan:
    """The plan of a signature given in any form DSPy accepts (string, native or dspy Signature class)."""
    if not isinstance(signature, str):
        plan = _PLANS.get(signature)
        if plan is not None:
            return plan
    native = ensure_signature(signature)
    plan = _PLANS.get(native)
    if plan is None:
        check_signature(native)  # a per-call signature= with an unsupported type fails like a constructor
        plan = _PLANS[native] = InputPlan(native)
    if not isinstance(signature, str) and signature is not native:
        _PLANS[signature] = plan
    return plan


def check_postprocess(inputs: dict[str, Any]) -> None:
    """DSPy's TypeError for an input named ``completions``, raised where DSPy raises it: after the LM call."""
    if "completions" in inputs:
        raise TypeError("Predict._forward_postprocess() got multiple values for argument 'completions'")


_LOGGERS: dict[str, Any] = {}


def _logger(name: str) -> Any:
    """``logging.getLogger(name)``, looked up once per name (``getLogger`` takes logging's lock every time, and
    always returns the same object for a name)."""
    logger = _LOGGERS.get(name)
    if logger is None:
        import logging  # only when there is something to say: ``import logging`` is ~10 ms of ``import dspex.native``

        logger = _LOGGERS[name] = logging.getLogger(name)
    return logger


def warn_about_inputs(logger_name: str, plan: InputPlan, inputs: dict[str, Any], check_types: bool) -> None:
    """Log DSPy's three input warnings (extra fields, type mismatches, missing fields); never raises."""
    name_set = plan.name_set
    exact = inputs.keys() == name_set  # the common case: exactly the signature's inputs, nothing to report
    extra = [] if exact or inputs.keys() <= name_set else [k for k in inputs if k not in name_set]
    if extra:
        _logger(logger_name).warning(
            "Input contains fields not in signature. These fields will be ignored: %s. Expected fields: %s.",
            extra,
            list(plan.names),
        )
    if check_types:
        for name, expected, compatible in plan.typed:
            if name in inputs:
                value = inputs[name]
                if value is not None and not compatible(value):
                    _logger(logger_name).warning(
                        "Type mismatch for field '%s': expected %s based on given Signature, "
                        "but the provided value is incompatible: %s.",
                        name,
                        type_name(expected),
                        value,
                    )
    if exact or all(map(inputs.__contains__, plan.not_optional)):
        return
    missing = [k for k in plan.not_optional if k not in inputs]
    if missing:
        present = [k for k in plan.names if k in inputs]
        _logger(logger_name).warning(
            "Not all input fields were provided to module. Present: %s. Missing: %s.", present, missing
        )


_TYPE_NAMES: dict[int, tuple[Any, str]] = {}


def type_name(annotation: Any) -> str:
    """DSPy's short name for an annotation in the type-mismatch warning, made once per annotation object:
    Refine's feedback call warns about three inputs on every attempt. Keyed by identity, not equality
    (``int | None == Optional[int]``, yet DSPy names them differently); each entry holds its annotation, so
    its id is not reused while cached."""
    cached = _TYPE_NAMES.get(id(annotation))
    if cached is not None and cached[0] is annotation:
        return cached[1]
    name = _type_name(annotation)
    if len(_TYPE_NAMES) < 1024:
        _TYPE_NAMES[id(annotation)] = (annotation, name)
    return name


def _type_name(annotation: Any) -> str:
    """``list[int]``, ``Literal['a', 'b']``: DSPy's spelling of an annotation."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is None:
        return annotation.__name__ if hasattr(annotation, "__name__") else str(annotation)
    if origin is Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    if args:
        inner = ", ".join("..." if a is Ellipsis else _type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    return getattr(origin, "__name__", str(origin))


def _checker(expected: Any) -> Callable[[Any], bool]:
    """``lambda value: _compatible(value, expected)``, specialised once per field for the common annotations
    (checked on every call with typed inputs; typing's ``get_origin``/``get_args`` per value would dominate)."""
    if expected is str:
        return lambda v: isinstance(v, str) or (isinstance(v, list) and all(map(isinstance, v, repeat(str))))
    if expected is Any:
        return lambda v: True
    origin = get_origin(expected)
    if origin is None and isinstance(expected, type):
        return _instance_of(expected)
    args = get_args(expected)
    if origin is list and len(args) == 1 and args[0] is not Any and get_origin(args[0]) is None \
            and isinstance(args[0], type):
        item = _instance_of(args[0])
        return lambda v: isinstance(v, list) and all(map(item, v))
    return lambda v: _compatible(v, expected)


def _instance_of(expected: type) -> Callable[[Any], bool]:
    """``isinstance(v, expected)``; for an agent type (DSPy's or dspex's Tool, History, ToolCalls, ...), an
    instance of either's class of that role. A routed agent's predictor keeps DSPy's annotations (``list[dspy.Tool]``)
    while the native agent passes its own Tools and History: DSPy's agent passes DSPy's, and does not warn."""
    from ..types import role_of

    role = role_of(expected)
    if role is None:
        return lambda v: isinstance(v, expected)
    return lambda v: isinstance(v, expected) or role_of(type(v)) == role


def _same_role(value: Any, expected: type) -> bool:
    """An agent value of the other library's class for this role (see ``_instance_of``)."""
    from ..types import role_of

    role = role_of(expected)
    return role is not None and role_of(type(value)) == role


def _compatible(value: Any, expected: Any) -> bool:
    # A ``str`` field may be given a list of strings (DSPy renders it as a numbered list).
    if expected is str and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return True
    return _check_type(value, expected)


def _check_type(value: Any, expected: Any) -> bool:
    """DSPy's stdlib stand-in for ``typeguard.check_type``; unknown annotations count as mismatches, as there."""
    if expected is Any:
        return True
    origin = get_origin(expected)
    args = get_args(expected)
    if origin is Union or origin is types.UnionType:
        return any(_check_type(value, a) for a in args)
    if origin is Literal:
        return value in args
    if origin is list:
        return isinstance(value, list) and (not args or all(_check_type(v, args[0]) for v in value))
    if origin is dict:
        if not isinstance(value, dict):
            return False
        return not args or all(_check_type(k, args[0]) and _check_type(v, args[1]) for k, v in value.items())
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if not args:
            return True
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_check_type(v, args[0]) for v in value)
        return len(value) == len(args) and all(_check_type(v, a) for v, a in zip(value, args))
    if origin is set or origin is frozenset:
        return isinstance(value, origin) and (not args or all(_check_type(v, args[0]) for v in value))
    if isinstance(expected, type):
        return isinstance(value, expected) or _same_role(value, expected)
    return False
