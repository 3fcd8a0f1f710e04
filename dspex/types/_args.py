"""Checking and converting the arguments an LM chose for a tool, with DSPy 3.4.1's ``Tool`` errors.

DSPy validates each argument against its JSON schema with ``jsonschema.validate`` (re-checking the schema on
every call) and then converts it with a one-field pydantic model named ``Wrapper`` built per call. The result
and the errors are what matter (an ``Execution error in ...`` observation quotes them), so here:

* a value that plainly satisfies a plain schema (``{"type": "integer"}`` and an ``int``) skips jsonschema; any
  other value goes through ``jsonschema.validate`` itself, so its verdict and message are jsonschema's;
* a value whose type already is the exact scalar annotation skips pydantic; anything else goes through a
  ``Wrapper`` model (cached per annotation), so conversions and error texts are pydantic's.

jsonschema and pydantic are imported only when a value takes those paths.
"""

from __future__ import annotations

from typing import Any

__all__ = ["plainly_valid", "check_against_schema", "wrapper_for", "needs_conversion"]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
_PLAIN_KEYS = frozenset({"type", "default", "description", "title"})
_SCALARS = frozenset({str, int, float, bool})
_wrappers: dict[int, tuple[Any, Any]] = {}


def _plain_scalar(value: Any, schema: Any) -> bool:
    if type(schema) is not dict or not schema.keys() <= _PLAIN_KEYS:
        return False
    if not isinstance(schema.get("description", ""), str) or not isinstance(schema.get("title", ""), str):
        return False
    allowed = _JSON_TYPES.get(schema.get("type"))  # type: ignore[arg-type]
    return allowed is not None and type(value) in allowed and (type(value) is not float or value == value)


def plainly_valid(value: Any, schema: Any) -> bool:
    """True only when jsonschema would certainly accept ``value`` (a scalar, or a list of scalars, of a plain
    type). False means "ask jsonschema", not "invalid"."""
    if _plain_scalar(value, schema):
        return True
    if type(schema) is not dict or schema.get("type") != "array" or type(value) is not list:
        return False
    if not schema.keys() <= _PLAIN_KEYS | {"items"} or type(schema.get("items")) is not dict:
        return False
    if not isinstance(schema.get("description", ""), str) or not isinstance(schema.get("title", ""), str):
        return False
    items = schema["items"]
    return all(_plain_scalar(v, items) for v in value)


def check_against_schema(name: str, value: Any, schema: dict[str, Any]) -> None:
    """``jsonschema.validate``; a ValidationError becomes DSPy's ``ValueError("Arg x is invalid: ...")``."""
    from jsonschema import ValidationError, validate

    try:
        validate(instance=value, schema=schema)
    except ValidationError as e:
        raise ValueError(f"Arg {name} is invalid: {e.message}")


def wrapper_for(annotation: Any) -> Any:
    """The ``Wrapper`` model DSPy builds per call (``value: annotation``), built once per annotation."""
    entry = _wrappers.get(id(annotation))
    if entry is not None and entry[0] is annotation:
        return entry[1]
    from pydantic import create_model

    model = create_model("Wrapper", value=(annotation, ...))
    if len(_wrappers) > 1024:
        _wrappers.clear()
    _wrappers[id(annotation)] = (annotation, model)
    return model


def needs_conversion(annotation: Any, value: Any) -> bool:
    """Whether ``value`` must go through the ``Wrapper`` model (False: it is already exactly right)."""
    return not (type(value) is annotation and annotation in _SCALARS)
