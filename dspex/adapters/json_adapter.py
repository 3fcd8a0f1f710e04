"""JSONAdapter: DSPy 3.4.1's JSON prompt format and parser, and ChatAdapter's fallback.

Inputs are still ``[[ ## field ## ]]`` sections; outputs are one JSON object. With an LM that declares
``response_format`` in ``supported_params``, the request asks for JSON mode or (``supports_response_schema``)
a structured-output pydantic model built exactly as DSPy builds ``DSPyProgramOutputs``.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from ..errors import AdapterParseError
from ._coerce import loads_like_json_repair, parse_value
from ._plan import Plan, fill_defaults, type_info
from ._schema import built_quietly, has_open_ended_mapping, response_format, type_note
from ._sections import first_balanced_braces
from ._values import to_json_text
from .chat import ChatAdapter

__all__ = ["JSONAdapter"]


class JSONAdapter(ChatAdapter):
    """Ask for, and parse, one JSON object holding every output field."""

    def __init__(self, use_native_function_calling: bool = True, parallel_tool_calls: bool | None = None) -> None:
        super().__init__(
            use_native_function_calling=use_native_function_calling, parallel_tool_calls=parallel_tool_calls
        )

    # --- request shape ----------------------------------------------------------------------------------------
    def _prepare_response_format(self, lm: Any, lm_kwargs: dict[str, Any], signature: Any) -> None:
        if "response_format" not in getattr(lm, "supported_params", set()):
            return
        plan = self.plan(signature)
        outputs = plan.signature._output_fields
        fc = bool(self.use_native_function_calling)
        if has_open_ended_mapping(outputs) or not getattr(lm, "supports_response_schema", False) or (
                not fc and plan.roles is not None and plan.roles.tool_output is not None):
            lm_kwargs["response_format"] = {"type": "json_object"}
            return
        key = ("response_format", fc)
        fmt = plan.extra.get(key)
        if fmt is None:
            fmt, quiet = built_quietly(lambda: response_format(lm, outputs, fc))
            if quiet:   # else DSPy builds it (and warns) on every call: so does this
                plan.extra[key] = fmt
        lm_kwargs["response_format"] = dict(fmt) if isinstance(fmt, dict) else fmt

    # --- system and user messages -----------------------------------------------------------------------------
    def format_field_structure(self, signature: Any) -> str:
        outputs = {n: type_note(n, f) for n, f in signature._output_fields.items()}
        parts = [
            "All interactions will be structured in the following way, with the appropriate values filled in.",
            "Inputs will have the following structure:",
            self._placeholders(signature._input_fields),
            "Outputs will be a JSON object with the following fields.",
            json.dumps(outputs, indent=2, ensure_ascii=False),
        ]
        return "\n\n".join(parts).strip()

    def user_message_output_requirements(self, signature: Any) -> str:
        fields = ", then ".join(f"`{n}`{type_info(f)}" for n, f in signature._output_fields.items())
        return f"Respond with a JSON object in the following order of fields: {fields}."

    def _assistant_content(self, plan: Plan, outputs: Mapping[str, Any], missing: str | None) -> str:
        return to_json_text({slot.name: outputs.get(slot.name, missing) for slot in plan.outputs}, indent=2)

    # --- parsing ----------------------------------------------------------------------------------------------
    def parse(self, signature: Any, completion: str) -> dict[str, Any]:
        """The output fields of the first JSON object in ``completion`` (repaired if need be)."""
        plan = self.plan(signature)
        sig = plan.signature
        fields = loads_like_json_repair(completion)
        if not isinstance(fields, dict):
            found = first_balanced_braces(completion)
            if found is not None:
                completion = found
                fields = loads_like_json_repair(completion)
        if not isinstance(fields, dict):
            raise AdapterParseError(
                adapter_name="JSONAdapter",
                signature=sig,
                lm_response=completion,
                message="LM response cannot be serialized to a JSON object.",
            )
        slots = plan.by_name
        fields = {k: v for k, v in fields.items() if k in slots}
        for k in list(fields):  # the JSON's own key order decides which bad field is reported
            try:
                fields[k] = parse_value(fields[k], slots[k].annotation)
            except ValueError as exc:
                raise AdapterParseError(
                    adapter_name=type(self).__name__,
                    signature=sig,
                    lm_response=completion,
                    message=f"Failed to parse field {k}: {exc}",
                    parsed_result=fields,
                ) from exc
        fields = fill_defaults(plan, fields)
        if len(fields) != len(slots):
            raise AdapterParseError(
                adapter_name="JSONAdapter", signature=sig, lm_response=completion, parsed_result=fields
            )
        return fields

