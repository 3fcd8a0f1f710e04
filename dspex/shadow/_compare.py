"""Per-field comparison of the control's and candidate's results, with comparators derived from the signature.

A comparator is ``fn(control_value, candidate_value) -> bool`` (True: equal). Names: ``exact`` (same type and
value; ``True`` is not ``1``), ``tolerance`` (numbers within float tolerance), ``structural`` (containers and
models compared element-wise, models by class name and ``model_dump``, floats with tolerance), ``ignore``.
"""

from __future__ import annotations

import enum
import functools
import inspect
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import ConfigError
from ._jsonsafe import prediction_fields

__all__ = ["Rules", "compare_results", "compare_errors", "comparator_for", "resolve_comparator", "output_fields_of", "MISSING_VALUE"]

Comparator = Callable[[Any, Any], bool]
MISSING_VALUE = "<missing>"
_MISSING = object()


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _close(a: float, b: float, rel: float, abs_: float) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def exact(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def make_tolerance(rel: float = 1e-9, abs_: float = 1e-12) -> Comparator:
    def tolerance(a: Any, b: Any) -> bool:
        if _is_number(a) and _is_number(b) and (isinstance(a, float) or isinstance(b, float)):
            return type(a) is type(b) and _close(float(a), float(b), rel, abs_)
        return exact(a, b)

    return tolerance


def make_structural(rel: float = 1e-9, abs_: float = 1e-12) -> Comparator:
    def structural(a: Any, b: Any) -> bool:
        if hasattr(a, "model_dump") and hasattr(b, "model_dump") and not isinstance(a, type):
            return type(a).__name__ == type(b).__name__ and structural(a.model_dump(), b.model_dump())
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            return type(a) is type(b) and a.keys() == b.keys() and all(structural(a[k], b[k]) for k in a)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(structural(x, y) for x, y in zip(a, b))
        if isinstance(a, float) and isinstance(b, float):
            return _close(a, b, rel, abs_)
        stores = getattr(a, "_store", None), getattr(b, "_store", None)
        if isinstance(stores[0], dict) and isinstance(stores[1], dict) and type(a).__name__ == type(b).__name__:
            # a dspy.Prediction and a native one (inside a list, say: Parallel's result) are equal when their fields
            # are; ``dspy.Prediction.__eq__`` insists on its own class
            return structural(stores[0], stores[1])
        return exact(a, b)

    return structural


def _ignore(a: Any, b: Any) -> bool:
    return True


def resolve_comparator(spec: Any, rel: float, abs_: float) -> tuple[str, Comparator]:
    """A comparator from a name, ``("tolerance", rel[, abs])``, or a callable; bad specs raise ConfigError."""
    if callable(spec):
        return getattr(spec, "__name__", "custom"), spec
    if isinstance(spec, (tuple, list)) and spec and spec[0] == "tolerance":
        r = float(spec[1]) if len(spec) > 1 else rel
        a = float(spec[2]) if len(spec) > 2 else abs_
        return f"tolerance(rel={r:g}, abs={a:g})", make_tolerance(r, a)
    table: dict[str, Callable[[], Comparator]] = {
        "exact": lambda: exact,
        "tolerance": lambda: make_tolerance(rel, abs_),
        "structural": lambda: make_structural(rel, abs_),
        "ignore": lambda: _ignore,
    }
    if isinstance(spec, str) and spec in table:
        return spec, table[spec]()
    raise ConfigError(
        f"Unknown shadow comparator {spec!r}: use 'exact', 'tolerance', ('tolerance', rel), 'structural', "
        "'ignore' or a callable (control_value, candidate_value) -> bool."
    )


def comparator_for(annotation: Any) -> str:
    """The comparator name a field's type implies: exact for scalars and choices, tolerance for float."""
    if annotation is None:
        return "structural"
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "exact"
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        kinds = {comparator_for(a) for a in args}
        return kinds.pop() if len(kinds) == 1 else "structural"
    if annotation is float:
        return "tolerance"
    if annotation in (str, int, bool) or (isinstance(annotation, type) and issubclass(annotation, enum.Enum)):
        return "exact"
    return "structural"


def output_fields_of(signature: Any) -> dict[str, Any]:
    """``{name: annotation}`` of a native or DSPy signature's outputs (both expose ``output_fields``)."""
    fields = getattr(signature, "output_fields", None) if signature is not None else None
    if not isinstance(fields, Mapping):
        return {}
    return {name: getattr(f, "annotation", None) for name, f in fields.items()}


def _takes_two(fn: Callable[..., Any]) -> bool:
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) == 2


@dataclass(frozen=True)
class Rules:
    """The comparison rules for one module: field comparators, ignore rules, float tolerance."""

    comparators: Mapping[str, Any]
    ignore: tuple[Any, ...] = ()
    rel: float = 1e-9
    abs_: float = 1e-12

    @classmethod
    def for_module(cls, settings: Any, module_type: str, module_name: str | None) -> "Rules":
        """Most specific wins: the instance's name, then its module type, then ``"*"``."""
        keys = ["*", module_type] + ([module_name] if module_name else [])
        comparators: dict[str, Any] = {}
        ignore: list[Any] = []
        for key in keys:
            comparators.update(settings.comparators.get(key, {}))
            ignore.extend(settings.ignore.get(key, ()))
        try:
            return _cached_rules(tuple(comparators.items()), tuple(ignore), settings.float_rel_tol, settings.float_abs_tol)
        except TypeError:  # an unhashable spec (e.g. a list): build it uncached
            return _cached_rules.__wrapped__(tuple(comparators.items()), tuple(ignore), settings.float_rel_tol,
                                             settings.float_abs_tol)

    def comparator(self, name: str, annotation: Any, value: Any) -> tuple[str, Comparator]:
        spec = self.comparators.get(name)
        if spec is None:
            spec = comparator_for(annotation) if annotation is not None else "structural"
        return resolve_comparator(spec, self.rel, self.abs_)


@functools.lru_cache(maxsize=256)
def _cached_rules(comparators: tuple[tuple[str, Any], ...], ignore: tuple[Any, ...], rel: float, abs_: float) -> Rules:
    for _, spec in comparators:
        resolve_comparator(spec, rel, abs_)     # fail early on a bad spec
    return Rules(dict(comparators), ignore, rel, abs_)


def _fields(result: Any) -> dict[str, Any]:
    fields = prediction_fields(result)
    if fields is None:
        return {"value": result}
    completions = getattr(result, "completions", None)
    store = getattr(completions, "_completions", None) if completions is not None else None
    if isinstance(store, Mapping) and store and len(next(iter(store.values()))) > 1:
        fields["completions"] = {k: list(v) for k, v in store.items()}
    return fields


def compare_results(control: Any, candidate: Any, signature: Any, rules: Rules) -> dict[str, dict[str, Any]]:
    """``{field: {control, candidate, comparator}}`` for every field that differs and is not ignored."""
    if rules.ignore and any(callable(r) and _takes_two(r) and r(control, candidate) for r in rules.ignore):
        return {}
    ours, theirs = _fields(control), _fields(candidate)
    annotations = output_fields_of(signature)
    names: list[str] = list(dict.fromkeys([*annotations, *ours, *theirs]))
    ignored = {r for r in rules.ignore if isinstance(r, str)}
    field_rules = [r for r in rules.ignore if callable(r) and not _takes_two(r)]
    diffs: dict[str, dict[str, Any]] = {}
    for name in names:
        if name in ignored:
            continue
        a, b = ours.get(name, _MISSING), theirs.get(name, _MISSING)
        if a is _MISSING and b is _MISSING:
            continue
        label, fn = rules.comparator(name, annotations.get(name), a)
        if a is not _MISSING and b is not _MISSING:
            try:
                if fn(a, b):
                    continue
            except Exception as exc:  # noqa: BLE001 - a broken comparator is reported, never raised
                label = f"{label} (raised {type(exc).__name__}: {exc})"
        if any(rule(name, a, b) for rule in field_rules):
            continue
        diffs[name] = {
            "control": MISSING_VALUE if a is _MISSING else a,
            "candidate": MISSING_VALUE if b is _MISSING else b,
            "comparator": label,
        }
    return diffs


def compare_errors(control: BaseException | None, candidate: BaseException | None) -> bool:
    """Scientist's compare_errors: the same class name and message count as the same behaviour."""
    if control is None or candidate is None:
        return control is candidate
    return type(control).__name__ == type(candidate).__name__ and str(control) == str(candidate)

