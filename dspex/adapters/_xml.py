"""XMLAdapter's value <-> XML rules (DSPy 3.4.1's ``XMLAdapter``), as plain functions.

Which outputs are nested XML (lists, dicts, typed dicts and pydantic models, DSPy's own models excepted), the
skeleton shown for them (from the type's JSON schema: ``$ref`` followed once, the first non-null ``anyOf``
branch, arrays as ``<item>``, objects as their properties, ``...`` for a leaf), a value written as XML (list
items as ``<item>``, dict keys that are not identifiers as ``<entry key="...">``, ``&`` and ``<`` escaped), and
parsed elements turned back into plain data by the same schema. pydantic is imported only when a schema is.
"""

from __future__ import annotations

import types
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any, Union, get_args, get_origin
from xml.sax.saxutils import quoteattr

__all__ = ["uses_nested_xml", "xml_schema", "value_to_xml", "elements_to_value", "group_children", "escape",
           "json_schema_of"]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _is_base_model(cls: Any) -> bool:
    return isinstance(cls, type) and any(c.__name__ == "BaseModel" and c.__module__ == "pydantic.main"
                                         for c in cls.__mro__)


def _is_typeddict(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, dict) and hasattr(annotation, "__total__")


# DSPy's own models (``dspy.Image``, ``dspy.ToolCalls``...) are written as one value, by their module; the native
# twins of those types (``dspex.types``: what native ReActV2's signature holds) stand for them.
_DSPY_TYPE_MODULES = ("dspy.", "dspex.types.")


def uses_nested_xml(annotation: Any) -> bool:
    """Whether an output of this type is written as nested XML (``Optional[X]`` looks at ``X``)."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1 and get_origin(annotation) in (Union, types.UnionType):
        annotation = args[0]
    origin = get_origin(annotation)
    item = get_args(annotation)[0] if origin is list and get_args(annotation) else annotation
    if _is_base_model(item) and item.__module__.startswith(_DSPY_TYPE_MODULES):
        return False
    return origin in (list, dict) or _is_typeddict(annotation) or _is_base_model(annotation)


def json_schema_of(annotation: Any) -> dict[str, Any]:
    """``TypeAdapter(annotation).json_schema(by_alias=False)``, the schema the XML rules read (its warnings
    counted: see ``_schema.built_quietly``)."""
    from ._coerce import type_adapter
    from ._schema import schema_generator

    return type_adapter(annotation).json_schema(by_alias=False, schema_generator=schema_generator())


def xml_schema(tag: str, annotation: Any) -> str:
    schema = json_schema_of(annotation)
    return _schema_xml(tag, schema, schema.get("$defs", {}), frozenset())


def _schema_xml(tag: str, schema: dict[str, Any], defs: dict[str, Any], seen: frozenset[str]) -> str:
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return f"<{tag}>...</{tag}>"
        return _schema_xml(tag, defs[name], defs, seen | {name})
    choices = schema.get("anyOf")
    if choices:
        branch = next((s for s in choices if s.get("type") != "null"), choices[0])
        return _schema_xml(tag, branch, defs, seen)
    if schema.get("type") == "array":
        return f"<{tag}>{_schema_xml('item', schema.get('items', {}), defs, seen)}</{tag}>"
    inner = "".join(_schema_xml(name, sub, defs, seen) for name, sub in schema.get("properties", {}).items())
    return f"<{tag}>{inner}</{tag}>" if inner else f"<{tag}>...</{tag}>"


def value_to_xml(value: Any, tag: str, key: str | None = None) -> str:
    """A JSON-like value (what ``serialize_for_json`` gives) written as XML under ``tag``."""
    attrs = "" if key is None else f" key={quoteattr(key)}"
    if isinstance(value, list):
        inner = "".join(value_to_xml(item, "item") for item in value)
        return f"<{tag}{attrs}>{inner}</{tag}>" if inner else f"<{tag}{attrs} />"
    if isinstance(value, dict):
        parts = []
        for name, child in value.items():
            name = str(name)
            if (name[:1] + name[1:].replace("-", "_").replace(".", "_")).isidentifier():
                parts.append(value_to_xml(child, name))
            else:
                parts.append(value_to_xml(child, "entry", name))
        return f"<{tag}{attrs}>{''.join(parts)}</{tag}>"
    if value is None:
        return f"<{tag}{attrs} />"
    return f"<{tag}{attrs}>{escape(str(value))}</{tag}>"


def group_children(element: ET.Element) -> dict[str, list[ET.Element]]:
    """Children by tag, in document order; an ``<entry key="k">`` counts as ``k``."""
    groups: dict[str, list[ET.Element]] = defaultdict(list)
    for child in element:
        name = child.attrib.get("key", child.tag) if child.tag == "entry" else child.tag
        groups[name].append(child)
    return groups


def _text(element: ET.Element) -> str:
    return (element.text or "").strip()


def elements_to_value(elements: list[ET.Element], schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """Plain data from the elements found for one field, read by the field type's JSON schema."""
    schema = defs.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
    first = elements[0]
    choices = schema.get("anyOf")
    if choices:
        if {"type": "null"} in choices and not list(first) and not _text(first):
            return None
        choices = [c for c in choices if c.get("type") != "null"]
        schema = choices[0]
        if list(first):
            schema = next((c for c in choices if c.get("type") != "string"), schema)
    if schema.get("type") == "array":
        if len(elements) == 1 and not list(first):
            text = _text(first)
            if not text or text.startswith("["):
                return text if text else []
        if len(elements) == 1:
            items = group_children(first).get("item")
            if items:
                elements = items
        return [elements_to_value([e], schema.get("items", {}), defs) for e in elements]
    if schema.get("type") == "string" and list(first):
        return (first.text or "") + "".join(ET.tostring(child, encoding="unicode") for child in first)
    children = group_children(first)
    if not children:
        if schema.get("type") == "object" and not _text(first):
            return {}
        values = [_text(e) for e in elements]
        return values[0] if len(values) == 1 else values
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", {})
    if not isinstance(extra, dict):
        extra = {}
    return {name: elements_to_value(found, properties.get(name, extra), defs) for name, found in children.items()}
