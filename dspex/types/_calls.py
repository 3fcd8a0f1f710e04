"""``ToolCalls`` and ``ToolCallResults``: the calls an LM asks for and what the tools answered, shaped (fields,
JSON schema, validation, serialisation and error texts) exactly as DSPy 3.4.1's, so a prompt that shows them
and a parse that reads them are the same on both sides. pydantic models, imported on first use.
"""

from __future__ import annotations

import inspect
from typing import Any

import pydantic
from pydantic import TypeAdapter

from ._base import Type

__all__ = ["ToolCalls", "ToolCallResults", "provider_call_to_dict"]


def _is_call_dict(data: dict[str, Any]) -> bool:
    return ("name" in data and ("args" in data or "arguments" in data)) or "function" in data


def _normalize_call(data: Any) -> dict[str, Any]:
    """One call in DSPy's shape (``{"id", "name", "args"}``) from DSPy's or a provider's (``function.arguments``)."""
    if not isinstance(data, dict):
        raise ValueError(f"Received invalid tool call value for `dspy.ToolCalls`: {data}")
    if "function" in data:
        function = data.get("function") or {}
        if not isinstance(function, dict):
            raise ValueError(f"Received invalid function value for `dspy.ToolCalls`: {function}")
        arguments = function.get("arguments", {})
        name = function.get("name") or data.get("name")
    else:
        arguments = data.get("args", data.get("arguments", {}))
        name = data.get("name")
    if isinstance(arguments, str):
        import json_repair

        arguments = json_repair.loads(arguments)
    elif not isinstance(arguments, dict):
        arguments = {}
    return {"id": data.get("id") or data.get("call_id"), "name": name, "args": arguments}


def _field(value: Any, key: str, default: Any = None) -> Any:
    return value.get(key, default) if isinstance(value, dict) else getattr(value, key, default)


def provider_call_to_dict(tool_call: Any) -> dict[str, Any]:
    """A ``tool_calls`` entry of an LM response (dict or object; Chat Completions or Responses API shape)."""
    function = _field(tool_call, "function", {}) or {}
    arguments = _field(function, "arguments", None) or _field(tool_call, "arguments", {})
    if isinstance(arguments, str):
        import json_repair

        parsed = json_repair.loads(arguments)
    elif isinstance(arguments, dict):
        parsed = arguments
    else:
        parsed = {}
    return {
        "id": _field(tool_call, "call_id") or _field(tool_call, "id"),
        "name": _field(function, "name") or _field(tool_call, "name"),
        "args": parsed,
    }


class ToolCalls(Type):
    # The tool calls of one LM turn, with the results once they ran. No docstring, on purpose: pydantic would put
    # it in the JSON schema the prompt shows, and DSPy's class has none.

    class ToolCall(Type):
        id: str | None = None
        name: str
        args: dict[str, Any] = pydantic.Field(json_schema_extra={"additionalProperties": True})

        @classmethod
        def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
            schema = handler.resolve_ref_schema(super().__get_pydantic_json_schema__(core_schema, handler))
            properties = schema.get("properties")
            if isinstance(properties, dict):
                properties.pop("id", None)  # the LM never writes ids: they are the provider's or ours
            required = schema.get("required")
            if isinstance(required, list):
                schema["required"] = [f for f in required if f != "id"]
            return schema

        def format(self) -> dict[str, Any]:
            return {"name": self.name, "args": self.args}

        def execute(self, functions: Any = None) -> Any:
            """Run this call: ``functions`` maps names to functions (or lists Tools); None looks in the caller."""
            func = None
            if functions is None:
                frame = inspect.currentframe().f_back  # type: ignore[union-attr]
                try:
                    func = frame.f_locals.get(self.name) or frame.f_globals.get(self.name)  # type: ignore[union-attr]
                finally:
                    del frame
            elif isinstance(functions, dict):
                func = functions.get(self.name)
            elif isinstance(functions, list):
                func = next((t.func for t in functions if t.name == self.name), None)
            if func is None:
                raise ValueError(
                    f"Tool function '{self.name}' not found. Please pass the tool functions to the `execute` method."
                )
            try:
                return func(**(self.args or {}))
            except Exception as e:
                raise RuntimeError(f"Error executing tool '{self.name}': {e}") from e

    tool_calls: list[ToolCall]
    tool_call_results: Any | None = None

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler.resolve_ref_schema(super().__get_pydantic_json_schema__(core_schema, handler))
        properties = schema.get("properties")
        if isinstance(properties, dict):
            properties.pop("tool_call_results", None)
        required = schema.get("required")
        if isinstance(required, list):
            schema["required"] = [f for f in required if f != "tool_call_results"]
        return schema

    @classmethod
    def from_dict_list(cls, tool_calls_dicts: list[dict[str, Any]]) -> "ToolCalls":
        return cls(tool_calls=[cls.ToolCall(**_normalize_call(item)) for item in tool_calls_dicts])

    @classmethod
    def description(cls) -> str:
        return (
            "Tool calls must be a JSON object with `tool_calls`, a list of calls. "
            "Each call must include `name` and `args`. "
            'Example: {"tool_calls": [{"name": "search", "args": {"query": "cats"}}]}'
        )

    def format(self) -> dict[str, Any]:
        return {"tool_calls": [call.format() for call in self.tool_calls]}

    @pydantic.model_serializer()
    def serialize_model(self) -> Any:
        data = self.format()
        if self.tool_call_results is not None:
            results = self.tool_call_results
            data["tool_call_results"] = TypeAdapter(type(results)).dump_python(results, mode="json")
        return data

    @pydantic.model_validator(mode="before")
    @classmethod
    def validate_input(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if isinstance(data, list) and all(isinstance(item, dict) and _is_call_dict(item) for item in data):
            return {"tool_calls": [cls.ToolCall(**_normalize_call(item)) for item in data]}
        if isinstance(data, dict):
            if "tool_calls" in data:
                calls = data["tool_calls"]
                if isinstance(calls, list):
                    normalized: dict[str, Any] = {
                        "tool_calls": [cls.ToolCall(**_normalize_call(i)) if isinstance(i, dict) else i for i in calls]
                    }
                    if "tool_call_results" in data:
                        normalized["tool_call_results"] = data["tool_call_results"]
                    return normalized
            elif _is_call_dict(data):
                return {"tool_calls": [cls.ToolCall(**_normalize_call(data))]}
        raise ValueError(f"Received invalid value for `dspy.ToolCalls`: {data}")


class ToolCallResults(pydantic.BaseModel):
    # What each tool call returned (or the error it became), matched to its call by ``call_id``. No docstring:
    # it would enter the JSON schema (DSPy's class has none).

    class ToolCallResult(pydantic.BaseModel):
        call_id: str | None = None
        name: str
        value: Any
        is_error: bool = False

    tool_call_results: list[ToolCallResult]

    @classmethod
    def from_tool_calls_and_values(
        cls, tool_calls: Any, values: list[Any], is_errors: list[bool] | None = None
    ) -> "ToolCallResults":
        if isinstance(tool_calls, ToolCalls):
            tool_calls = tool_calls.tool_calls
        if len(tool_calls) != len(values):
            raise ValueError("`tool_calls` and `values` must have the same length.")
        if is_errors is None:
            is_errors = [False] * len(tool_calls)
        elif len(is_errors) != len(tool_calls):
            raise ValueError("`is_errors` must have the same length as `tool_calls` when provided.")
        return cls(tool_call_results=[
            cls.ToolCallResult(call_id=call.id, name=call.name, value=value, is_error=is_error)
            for call, value, is_error in zip(tool_calls, values, is_errors, strict=True)
        ])

    @pydantic.model_validator(mode="before")
    @classmethod
    def validate_input(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if isinstance(data, list):
            return {"tool_call_results": data}
        if isinstance(data, dict):
            if "tool_call_results" in data:
                return data
            if {"name", "value"}.issubset(data):
                return {"tool_call_results": [data]}
        raise ValueError(f"Received invalid value for `dspy.ToolCallResults`: {data}")
