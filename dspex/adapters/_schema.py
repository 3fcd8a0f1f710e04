"""Type notes and JSON schemas shown to the LM, and the structured-output model sent as ``response_format``.

All of this depends only on the signature, so callers compute it once per signature class. pydantic is
imported here only when a field's type needs a JSON schema.
"""

from __future__ import annotations

import contextvars
import enum
import inspect
import json
import logging
from collections.abc import Mapping
from typing import Any, Callable, Literal, TypeVar, get_origin

from ..signature import MISSING, Field

__all__ = ["type_note", "json_schema", "built_quietly", "schema_generator", "has_open_ended_mapping",
           "structured_output_model", "response_format"]

logger = logging.getLogger("dspy.adapters.json_adapter")   # where DSPy's JSONAdapter warns
_T = TypeVar("_T")


def _is_subclass(annotation: Any, base: type) -> bool:
    try:
        return inspect.isclass(annotation) and issubclass(annotation, base)
    except TypeError:
        return False


def _type_first(d: Any) -> Any:
    """``type`` first, then keys sorted, at every level (DSPy's readability reordering)."""
    if isinstance(d, Mapping):
        return {k: _type_first(v) for k, v in sorted(d.items(), key=lambda item: (item[0] != "type", item[0]))}
    if isinstance(d, list):
        return [_type_first(item) for item in d]
    return d


def json_schema(annotation: Any) -> dict[str, Any]:
    from pydantic import TypeAdapter

    return _type_first(TypeAdapter(annotation).json_schema(schema_generator=schema_generator()))


# pydantic warns while it renders some schemas (a default it cannot serialize, ...). DSPy renders its prompts anew
# on every call, so it warns on every call; whoever caches a rendering keeps only one that did not warn
# (``built_quietly``). (Context variables: threads and tasks each count their own.)
_warnings_seen: contextvars.ContextVar[int] = contextvars.ContextVar("dspex_schema_warnings", default=0)
_silenced: contextvars.ContextVar[bool] = contextvars.ContextVar("dspex_schema_silenced", default=False)
_generator: list[Any] = []


def built_quietly(build: Callable[[], _T], silent: bool = False) -> tuple[_T, bool]:
    """``build()`` and whether it may be cached: False when pydantic warned while rendering a schema for it, as
    DSPy's rendering then warns on every call and so must native's. ``silent``: count the warnings without
    emitting them, for a rendering made ahead of the moment DSPy makes it (a plan's reminder is built before any
    request is), whose user then renders it anew, warnings and all, if it was not quiet."""
    before = _warnings_seen.get()
    token = _silenced.set(True) if silent else None
    try:
        value = build()
    finally:
        if token is not None:
            _silenced.reset(token)
    return value, _warnings_seen.get() == before


def schema_generator() -> Any:
    """pydantic's own schema generator, counting the warnings it emits (it still emits them, as DSPy's does):
    pass it as ``schema_generator=`` to every JSON schema rendered for a prompt or a parse."""
    if not _generator:
        from pydantic.json_schema import GenerateJsonSchema

        class CountingGenerator(GenerateJsonSchema):
            def emit_warning(self, kind: Any, detail: str) -> None:
                if self.render_warning_message(kind, detail) is not None:
                    _warnings_seen.set(_warnings_seen.get() + 1)
                    if _silenced.get():
                        return
                super().emit_warning(kind, detail)

        _generator.append(CountingGenerator)
    return _generator[0]


def type_note(name: str, field: Field) -> str:
    """The placeholder DSPy writes for a field in the structure block: ``{name}`` plus an optional note."""
    t = field.annotation
    if field.kind == "input" or t is str or _is_reasoning(t):  # Reasoning reads as a str to adapters
        desc = ""
    elif t is bool:
        desc = "must be True or False"
    elif t in (int, float):
        desc = f"must be a single {t.__name__} value"
    elif _is_subclass(t, enum.Enum):
        desc = f"must be one of: {'; '.join(str(member.value) for member in t)}"
    elif hasattr(t, "__origin__") and t.__origin__ is Literal:
        desc = f"must exactly match (no extra characters) one of: {'; '.join([str(x) for x in t.__args__])}"
    elif _is_code(t) and t.description():   # Code's type description already says it all
        desc = ""
    else:
        desc = f"must adhere to the JSON schema: {json.dumps(json_schema(t), ensure_ascii=False)}"
    note = (" " * 8) + f"# note: the value you produce {desc}" if desc else ""
    return f"{{{name}}}{note}"


def _is_code(annotation: Any) -> bool:
    from ..types import content_type_name

    return content_type_name(annotation) == "Code"


def _is_reasoning(annotation: Any) -> bool:
    from ..types import is_reasoning

    return is_reasoning(annotation)


def has_open_ended_mapping(outputs: Mapping[str, Field]) -> bool:
    return any(get_origin(f.annotation) is dict for f in outputs.values())


def _enforce_required(part: dict[str, Any]) -> None:
    """OpenAI structured outputs: every object lists all its properties as required and forbids extras."""
    if part.get("type") == "object":
        props = part.get("properties")
        if props is not None:
            part["required"] = list(props.keys())
            part["additionalProperties"] = False
            for sub in props.values():
                if isinstance(sub, dict):
                    _enforce_required(sub)
        else:
            part["properties"] = {}
            part["required"] = []
            part["additionalProperties"] = False
    if part.get("type") == "array" and isinstance(part.get("items"), dict):
        _enforce_required(part["items"])
    for key in ("$defs", "definitions"):
        if key in part:
            for sub in part[key].values():
                _enforce_required(sub)


def structured_output_model(outputs: Mapping[str, Field], native_tool_calls: bool = False) -> Any:
    """DSPy's ``DSPyProgramOutputs`` pydantic model, whose ``model_json_schema()`` is the strict schema; a
    ToolCalls output is left out when the tool calls come back natively."""
    import pydantic

    from ..types import is_tool_calls

    for name, field in outputs.items():
        if get_origin(field.annotation) is dict:
            raise ValueError(
                f"Field '{name}' has an open-ended mapping type which is not supported by Structured Outputs."
            )
    fields = {name: (f.annotation, ... if f.default is MISSING else f.default) for name, f in outputs.items()
              if not (native_tool_calls and is_tool_calls(f.annotation))}
    model = pydantic.create_model(
        "DSPyProgramOutputs", __config__=pydantic.ConfigDict(extra="forbid"), **fields  # type: ignore[call-overload]
    )
    schema = model.model_json_schema(schema_generator=schema_generator())
    for prop in schema.get("properties", {}).values():
        prop.pop("json_schema_extra", None)
    _enforce_required(schema)
    model.model_json_schema = lambda *args, **kwargs: schema  # type: ignore[method-assign]
    return model


def response_format(lm: Any, outputs: Mapping[str, Field], native_tool_calls: bool = True) -> Any:
    """What JSONAdapter puts in ``response_format``, or ``None`` to leave the kwargs alone."""
    from ..types import is_tool_calls

    if "response_format" not in getattr(lm, "supported_params", set()):
        return None
    has_tool_calls = any(is_tool_calls(f.annotation) for f in outputs.values())
    if has_open_ended_mapping(outputs) or (not native_tool_calls and has_tool_calls) \
            or not getattr(lm, "supports_response_schema", False):
        return {"type": "json_object"}
    import pydantic

    try:
        return structured_output_model(outputs, native_tool_calls)
    except (ValueError, pydantic.PydanticInvalidForJsonSchema, pydantic.PydanticSchemaGenerationError):
        logger.warning("Failed to build structured output schema; using JSON mode before execution.")
        return {"type": "json_object"}
