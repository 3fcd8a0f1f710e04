"""TwoStepAdapter: DSPy 3.4.1's two-LM adapter, natively.

Step one asks the main LM in plain prose (a task description as the system message, ``name: value`` lines as the
user message, demos likewise); step two hands each completion to ``extraction_model`` through a ChatAdapter call
on the signature ``text -> <the outputs>`` whose instructions ask to extract the fields verbatim. A failed
extraction is re-raised as TwoStepAdapter's parse error quoting the inner one. DSPy's two paths differ and both
are kept: the sync call is DSPy's base ``Adapter.__call__`` (ChatAdapter's driver here, ``_call.run``: tool kwargs
dropped or sent for native function calling, native reasoning and citations, an empty completion refused, native
tool calls read into a ``ToolCalls`` output); the async call sends the kwargs as given, extracts whatever text
there is (``None`` included), and reads native tool calls into a ``ToolCalls`` output. No JSON fallback:
TwoStepAdapter is not a ChatAdapter in DSPy.
"""

from __future__ import annotations

import weakref
from typing import Any, Mapping

from .. import hooks
from ..errors import AdapterParseError
from ._lm_call import acall_lm
from ._plan import Plan, field_descriptions
from .chat import ChatAdapter

__all__ = ["TwoStepAdapter"]

_EXTRACTORS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
_ADAPTER_KEYWORDS = ("callbacks", "use_native_function_calling", "native_response_types", "parallel_tool_calls")


def _extractor_signature(signature: Any) -> Any:
    """``text -> <signature's outputs>`` with DSPy's extraction instructions (built once per signature)."""
    made = _EXTRACTORS.get(signature)
    if made is None:
        from ..signature import InputField, make_signature

        fields = {"text": (str, InputField())}
        fields.update({name: (f.annotation, f) for name, f in signature._output_fields.items()})
        names = ", ".join(f"`{name}`" for name in signature._output_fields)
        # DSPy's text carries the indentation of its source line after the first sentence.
        instructions = (f"The input is a text that should contain all the necessary information to produce the fields "
                        f"{names}.             Your job is to extract the fields from the text verbatim. Extract "
                        "precisely the appropriate value (content) for each field.")
        made = _EXTRACTORS[signature] = make_signature(fields, instructions)
    return made


class TwoStepAdapter(ChatAdapter):
    """``TwoStepAdapter(extraction_model)``: prose from the main LM, fields extracted by ``extraction_model``."""

    def __init__(self, extraction_model: Any, **kwargs: Any) -> None:
        unknown = [k for k in kwargs if k not in _ADAPTER_KEYWORDS]
        if unknown:
            raise TypeError(f"Adapter.__init__() got an unexpected keyword argument '{unknown[0]}'")
        super().__init__(use_native_function_calling=bool(kwargs.get("use_native_function_calling", False)),
                         use_json_adapter_fallback=False, parallel_tool_calls=kwargs.get("parallel_tool_calls"))
        if not callable(extraction_model):
            raise ValueError("extraction_model must be an instance of dspy.BaseLM")
        self.extraction_model = extraction_model
        self._extract = ChatAdapter()

    def __repr__(self) -> str:
        return f"TwoStepAdapter(extraction_model={self.extraction_model!r})"

    # --- step one: the prose prompt --------------------------------------------------------------------------------
    def format_system_message(self, signature: Any) -> str:
        return self.format_task_description(signature)

    def format_task_description(self, signature: Any) -> str:
        parts = [
            "You are a helpful assistant that can solve tasks based on user input.",
            "As input, you will be provided with:\n" + field_descriptions(signature._input_fields),
            "Your outputs must contain:\n" + field_descriptions(signature._output_fields),
            "You should lay out your outputs in detail so that your answer can be understood by another agent",
        ]
        if signature.instructions:
            parts.append(f"Specific instructions: {signature.instructions}")
        return "\n".join(parts)

    def user_message_output_requirements(self, signature: Any) -> str:
        return ""   # the prose prompt has no format reminder

    def _user_text(self, plan: Plan, inputs: Mapping[str, Any], prefix: str) -> str:
        parts = [prefix]
        parts += [f"{slot.name}: {inputs.get(slot.name, '')}" for slot in plan.inputs if slot.name in inputs]
        parts.append("")
        return "\n\n".join(parts).strip()

    def _demo_user_content(self, plan: Plan, demo: Mapping[str, Any], prefix: str) -> str:
        return self._user_text(plan, demo, prefix)

    def _assistant_content(self, plan: Plan, outputs: Mapping[str, Any], missing: str | None) -> str:
        return "\n\n".join(f"{name}: {outputs.get(name, missing)}" for name in plan.output_names
                           if name in outputs).strip()

    def format(self, signature: Any, demos: list[Any], inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
        plan = self.plan(signature)
        return [{"role": "system", "content": self._system(plan)}, *self._format_demos(plan, demos),
                {"role": "user", "content": self._user_text(plan, inputs, "")}]

    def format_user_message_content(self, signature: Any, inputs: Mapping[str, Any], prefix: str = "",
                                    suffix: str = "", main_request: bool = False) -> str:
        plan = self.plan(signature)
        parts = [prefix, *(f"{s.name}: {inputs.get(s.name, '')}" for s in plan.inputs if s.name in inputs), suffix]
        return "\n\n".join(parts).strip()

    def format_assistant_message_content(self, signature: Any, outputs: Mapping[str, Any],
                                         missing_field_message: str | None = None) -> str:
        return self._assistant_content(self.plan(signature), outputs, missing_field_message)

    # --- step two: extraction --------------------------------------------------------------------------------------
    def parse(self, signature: Any, completion: str) -> dict[str, Any]:
        sig = self.plan(signature).signature
        try:
            return self._extract(self.extraction_model, {}, _extractor_signature(sig), [], {"text": completion})[0]
        except AdapterParseError as e:
            raise AdapterParseError(adapter_name="TwoStepAdapter", signature=sig, lm_response=completion,
                                    message=f"Failed to parse response from the original completion: {e}") from e

    async def acall(self, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any],
                    inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
        sig = self.plan(signature).signature
        bridge = hooks.bridge
        messages = self.format(sig, demos, inputs) if bridge is None else bridge.format(self, sig, demos, inputs)
        outputs = await acall_lm(lm, messages, lm_kwargs)
        extractor = _extractor_signature(sig)
        values = []
        for output in outputs:
            logprobs = tool_calls = None
            text = output
            if isinstance(output, dict):
                text = output["text"]
                logprobs = output.get("logprobs")
                tool_calls = output.get("tool_calls")
            try:
                value = (await self._extract.acall(self.extraction_model, {}, extractor, [], {"text": text}))[0]
            except AdapterParseError as e:
                raise AdapterParseError(adapter_name="TwoStepAdapter", signature=sig, lm_response=str(output),
                                        message=f"Failed to parse response from the original completion: {e}") from e
            _add_tool_calls(sig, value, tool_calls)
            if logprobs is not None:
                value["logprobs"] = logprobs
            values.append(value)
        return values


def _add_tool_calls(signature: Any, value: dict[str, Any], tool_calls: Any) -> None:
    """The async path's native tool calls, into the signature's ``ToolCalls`` output (if it has one)."""
    if not tool_calls:
        return
    from ..types import is_tool_calls

    name = next((n for n, f in signature._output_fields.items() if is_tool_calls(f.annotation)), None)
    if name is None:
        return
    import json_repair

    calls = [{"name": v["function"]["name"], "args": json_repair.loads(v["function"]["arguments"])} for v in tool_calls]
    # the class the signature names (``dspy.ToolCalls`` in a DSPy signature, as DSPy's own call makes), as _roles does
    value[name] = signature._output_fields[name].annotation.from_dict_list(calls)
