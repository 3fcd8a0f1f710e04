"""A pydantic ``response_format`` as DSPy 3.4.1 sends it: the class's JSON schema in OpenAI's strict form.

DSPy's JSONAdapter (and dspex's) asks for structured outputs with a pydantic model class as ``response_format``;
``dspy.LM`` turns it into ``{"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}`` with the
schema made strict by ``_strict_json_schema`` (dspy/clients/legacy_requests.py), the OpenAI SDK's
``to_strict_json_schema`` rules. This is that function, so the same schema reaches the server (a class cannot be
sent as JSON at all).
"""

from __future__ import annotations

from typing import Any

__all__ = ["strict_json_schema"]


def strict_json_schema(schema: Any, *, root: dict[str, Any] | None = None) -> Any:
    """Every property required, objects closed, ``None`` defaults dropped, a lone ``allOf`` and a ``$ref`` with
    siblings unravelled (a generated schema with defaults or an optional submodel is refused by strict mode)."""
    if not isinstance(schema, dict):
        return schema
    root = schema if root is None else root
    out = dict(schema)
    for key in ("$defs", "definitions"):
        if isinstance(out.get(key), dict):
            out[key] = {name: strict_json_schema(sub, root=root) for name, sub in out[key].items()}
    if out.get("type") == "object" and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if isinstance(out.get("properties"), dict):
        out["required"] = list(out["properties"])
        out["properties"] = {name: strict_json_schema(sub, root=root) for name, sub in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = strict_json_schema(out["items"], root=root)
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = [strict_json_schema(item, root=root) for item in out["anyOf"]]
    if isinstance(out.get("allOf"), list):
        if len(out["allOf"]) == 1:
            out.update(strict_json_schema(out.pop("allOf")[0], root=root))
        else:
            out["allOf"] = [strict_json_schema(item, root=root) for item in out["allOf"]]
    if "default" in out and out["default"] is None:
        del out["default"]
    ref = out.get("$ref")
    if isinstance(ref, str) and len(out) > 1:
        resolved = _resolve_ref(root, ref)
        if isinstance(resolved, dict):
            out = {**strict_json_schema(resolved, root=root), **{k: v for k, v in out.items() if k != "$ref"}}
    return out


def _resolve_ref(root: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"response_format schema has a $ref {ref!r} outside the schema; only '#/...' is supported")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            raise ValueError(f"response_format schema: $ref {ref!r} does not resolve inside the schema")
    return node
