"""JSON schemas for tool arguments, as DSPy 3.4.1's ``Tool`` derives them: pydantic's schema with every
``$ref`` expanded in place, and a parameter default written in its JSON form.

pydantic is imported here, and this module only when a tool is built from a function.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, get_origin

__all__ = ["arg_schema", "expand_refs", "json_default", "annotation_schema"]


def expand_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace each ``{"$ref": "#/$defs/X"}`` by the definition itself (recursively) and drop ``$defs``.

    A schema without ``$defs``/``definitions`` is returned as it is (the same object), as in DSPy; the
    definitions are looked up in ``$defs`` only, so a schema holding ``definitions`` alone fails with DSPy's
    ``KeyError``. Self-referencing models recurse until Python's limit, as they do in DSPy.
    """
    if "$defs" not in schema and "definitions" not in schema:
        return schema

    def resolve(obj: Any) -> Any:
        if isinstance(obj, dict):
            if "$ref" in obj:
                return resolve(schema["$defs"][obj["$ref"].split("/")[-1]])
            return {k: resolve(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [resolve(item) for item in obj]
        return obj

    resolved = resolve(schema)
    resolved.pop("$defs", None)
    return resolved


def annotation_schema(annotation: Any) -> dict[str, Any]:
    """A parameter's schema: a pydantic model's ``model_json_schema()``, else ``TypeAdapter(...).json_schema()``."""
    from pydantic import BaseModel, TypeAdapter

    origin = get_origin(annotation) or annotation
    if isinstance(origin, type) and issubclass(origin, BaseModel):
        return expand_refs(annotation.model_json_schema())
    return expand_refs(TypeAdapter(annotation).json_schema())


def json_default(value: Any) -> Any:
    """A parameter default as JSON: a Decimal as a float (a JSON number), else pydantic's jsonable form."""
    if isinstance(value, Decimal):
        return float(value)
    import pydantic_core

    try:
        return pydantic_core.to_jsonable_python(value)
    except Exception:
        return value


def arg_schema(annotation: Any, default: Any, empty: Any, arg_desc: Any, name: str) -> dict[str, Any]:
    """One argument's entry in ``Tool.args``: schema, then ``default`` (if any), then ``description``."""
    schema = annotation_schema(annotation)
    if default is not empty:
        schema["default"] = json_default(default)
    if arg_desc and name in arg_desc:
        schema["description"] = arg_desc[name]
    return schema
