"""ChatAdapter: DSPy 3.4.1's default prompt format (``[[ ## field ## ]]`` sections), byte for byte.

Formatting and parsing follow ``dspy/adapters/chat_adapter.py`` and ``base.py``; the per-signature parts come
from a cached :class:`~dspex.adapters._plan.Plan`, so a call renders only its own values.
"""

from __future__ import annotations

import weakref
from typing import Any, Mapping

from ..errors import AdapterParseError
from ..signature import Signature, SignatureMeta
from . import _call
from ._markers import START, expand_markers
from ._plan import Plan, build_plan, field_descriptions, fill_defaults, parse_error, task_description, type_info
from ._schema import built_quietly, type_note
from ._sections import wanted_sections
from ._values import format_field_value

__all__ = ["ChatAdapter", "INCOMPLETE_DEMO_PREFIX"]

INCOMPLETE_DEMO_PREFIX = "This is an example of the task, though some input or output fields are not supplied."
_MISSING_IN_DEMO = "Not supplied for this particular example. "
_MISSING_IN_HISTORY = "Not supplied for this conversation history message. "


def _as_signature(signature: Any) -> Any:
    if isinstance(signature, SignatureMeta) and signature is not Signature:
        return signature
    from ..signature import ensure_signature

    return ensure_signature(signature)


_lazy: dict[str, Any] = {}


def _format_with_history() -> Any:
    """``_history.format_with_history``, imported on the first signature with a History input, then kept."""
    format_with_history = _lazy.get("format_with_history")
    if format_with_history is None:
        from ._history import format_with_history

        _lazy["format_with_history"] = format_with_history
    return format_with_history


class ChatAdapter:
    """Format a signature's prompt, call the LM, parse ``[[ ## field ## ]]`` sections; retry as JSON on failure."""

    _plans: "weakref.WeakKeyDictionary[Any, Plan]" = weakref.WeakKeyDictionary()

    # The plan decides what a class's subclasses may take straight from it: one plain completion parsed from the
    # plan, a request without demos built from it and no response format to choose. A subclass that formats,
    # parses or asks its own way is called through its own methods.
    _fast_parse = True
    _plain_request = True
    _own_request = True   # ChatAdapter's ``_request`` (the plan's renderer), which the plain round trip renders with

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plans = weakref.WeakKeyDictionary()  # plans depend on the class's formatting methods
        cls._fast_parse = cls.parse is ChatAdapter.parse and cls._parse is ChatAdapter._parse
        cls._plain_request = (cls.format is ChatAdapter.format and cls._plain_messages is ChatAdapter._plain_messages
                              and cls._prepare_response_format is ChatAdapter._prepare_response_format)
        cls._own_request = cls._request is ChatAdapter._request

    def __init__(
        self,
        use_native_function_calling: bool = False,
        use_json_adapter_fallback: bool = True,
        parallel_tool_calls: bool | None = None,
    ) -> None:
        self.use_native_function_calling = use_native_function_calling
        self.use_json_adapter_fallback = use_json_adapter_fallback
        self.parallel_tool_calls = parallel_tool_calls
        # The plans this adapter used lately, by id(signature) (checked against the plan's weak reference): an
        # agent's call alternates between a few signatures (the call's, its history-less rest, the results').
        self._recent: dict[int, Plan] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # --- per-signature plan -----------------------------------------------------------------------------------
    def plan(self, signature: Any) -> Plan:
        """The signature's cached prompt parts for this adapter class."""
        recent = self._recent
        plan = recent.get(id(signature))
        if plan is not None and plan.signature_ref() is signature:
            return plan
        try:
            plan = self._plans[signature]
        except KeyError:
            if not isinstance(signature, SignatureMeta):
                return self.plan(_as_signature(signature))
            plan = build_plan(signature, self.user_message_output_requirements)
            plan.plain = self._fast_parse and self._plain_request and self._own_request and plan.roles is None
            if plan.plain:   # its round trips, bound once (_call.plain_trips)
                plan.trip, plan.atrip = _call.plain_trips(plan)
            self._plans[signature] = plan
        except TypeError:  # not weak-referenceable: a dspy signature or a string
            return self.plan(_as_signature(signature))
        if len(recent) >= 16:
            recent.clear()
        recent[id(signature)] = plan
        return plan

    # --- system message ---------------------------------------------------------------------------------------
    def format_system_message(self, signature: Any) -> str:
        return (
            f"{self.format_field_description(signature)}\n"
            f"{self.format_field_structure(signature)}\n"
            f"{self.format_task_description(signature)}"
        )

    def format_field_description(self, signature: Any) -> str:
        return (
            f"Your input fields are:\n{field_descriptions(signature._input_fields)}\n"
            f"Your output fields are:\n{field_descriptions(signature._output_fields)}"
        )

    def _placeholders(self, fields: Mapping[str, Any]) -> str:
        return "\n\n".join(f"[[ ## {n} ## ]]\n{type_note(n, f)}" for n, f in fields.items()).strip()

    def format_field_structure(self, signature: Any) -> str:
        parts = [
            "All interactions will be structured in the following way, with the appropriate values filled in.",
            self._placeholders(signature._input_fields),
            self._placeholders(signature._output_fields),
            "[[ ## completed ## ]]\n",
        ]
        return "\n\n".join(parts).strip()

    def format_task_description(self, signature: Any) -> str:
        return task_description(signature.instructions)

    def user_message_output_requirements(self, signature: Any) -> str:
        fields = ", then ".join(f"`[[ ## {n} ## ]]`{type_info(f)}" for n, f in signature._output_fields.items())
        return (
            "Respond with the corresponding output fields, starting with the field "
            f"{fields}, and then ending with the marker for `[[ ## completed ## ]]`."
        )

    # --- messages ---------------------------------------------------------------------------------------------
    def format(self, signature: Any, demos: list[Any], inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The chat messages DSPy's adapter sends: system, demo pairs (incomplete ones first), the request."""
        plan = self.plan(signature)
        if plan.roles is not None and plan.roles.history is not None:
            return _format_with_history()(self, plan.signature, demos, inputs, plan.roles.history)
        if not demos and type(demos) is list:
            return self._plain_messages(plan, inputs)
        messages: list[dict[str, Any]] = [{"role": "system", "content": self._system(plan)}]
        for message in self._format_demos(plan, demos):  # DSPy iterates whatever it is given: None is a TypeError
            if message["role"] == "user" and START in message["content"]:
                message = expand_markers(message)
            messages.append(message)
        messages.append(self._request(plan, inputs))
        return messages

    def _system(self, plan: Plan) -> str:
        system = plan.system
        if system is None:
            system, quiet = built_quietly(lambda: self.format_system_message(plan.signature))
            if quiet:   # else DSPy renders it (and warns) on every call: so does this
                plan.system = system
        return system

    def _plain_messages(self, plan: Plan, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
        """System and request: the messages of every call without demos."""
        system = plan.system
        if system is None:
            system = self._system(plan)
        return [{"role": "system", "content": system}, self._request(plan, inputs)]

    def _request(self, plan: Plan, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The final user message: the call's input values, then the output reminder (the plan renders it)."""
        return plan.render(inputs)

    def format_user_message_content(
        self,
        signature: Any,
        inputs: Mapping[str, Any],
        prefix: str = "",
        suffix: str = "",
        main_request: bool = False,
    ) -> str:
        """DSPy's user-message body for any signature; uncached, for one-off signatures (e.g. a ReAct trajectory)."""
        signature = _as_signature(signature)
        parts = [prefix]
        for name, field in signature._input_fields.items():
            if name in inputs:
                parts.append(f"[[ ## {name} ## ]]\n{format_field_value(field.annotation is str, inputs.get(name))}")
        if main_request:
            parts.append(self.user_message_output_requirements(signature))
        parts.append(suffix)
        return "\n\n".join(parts).strip()

    def format_assistant_message_content(
        self, signature: Any, outputs: Mapping[str, Any], missing_field_message: str | None = None
    ) -> str:
        return self._assistant_content(self.plan(signature), outputs, missing_field_message)

    def format_demos(self, signature: Any, demos: list[Any]) -> list[dict[str, Any]]:
        return self._format_demos(self.plan(signature), demos)

    def _demo_user_content(self, plan: Plan, demo: Mapping[str, Any], prefix: str) -> str:
        parts = [prefix]
        for slot in plan.inputs:
            if slot.name in demo:
                parts.append(slot.header + format_field_value(slot.is_str, demo.get(slot.name)))
        parts.append("")
        return "\n\n".join(parts).strip()

    def _assistant_content(self, plan: Plan, outputs: Mapping[str, Any], missing: str | None) -> str:
        parts = []
        for slot in plan.outputs:
            value = outputs.get(slot.name, missing)  # a str renders as itself
            parts.append(slot.header + (value if type(value) is str else format_field_value(slot.is_str, value)))
        return "\n\n".join(parts).strip() + "\n\n[[ ## completed ## ]]\n"

    def _format_demos(self, plan: Plan, demos: list[Any]) -> list[dict[str, Any]]:
        complete, incomplete = [], []
        names = [s.name for s in plan.inputs] + list(plan.output_names)
        for demo in demos:
            if all(k in demo and demo[k] is not None for k in names):
                complete.append(demo)
            elif any(s.name in demo for s in plan.inputs) and any(k in demo for k in plan.output_names):
                incomplete.append(demo)
        messages: list[dict[str, Any]] = []
        for demo in incomplete:
            messages.append({"role": "user", "content": self._demo_user_content(plan, demo, INCOMPLETE_DEMO_PREFIX)})
            messages.append({"role": "assistant", "content": self._assistant_content(plan, demo, _MISSING_IN_DEMO)})
        for demo in complete:
            messages.append({"role": "user", "content": self._demo_user_content(plan, demo, "")})
            messages.append({"role": "assistant", "content": self._assistant_content(plan, demo, _MISSING_IN_HISTORY)})
        return messages

    # --- parsing ----------------------------------------------------------------------------------------------
    def parse(self, signature: Any, completion: str) -> dict[str, Any]:
        """The output fields found in ``completion``; AdapterParseError (DSPy's wording) when any is missing."""
        return self._parse(self.plan(signature), completion)

    def _parse(self, plan: Plan, completion: str) -> dict[str, Any]:
        if plan.reader is not None and type(completion) is str:
            fields = plan.reader(completion)   # the completion that follows the prompt exactly: every output, in order
            if fields is not None:
                for slot in plan.parsed:
                    text = fields[slot.name]
                    try:
                        fields[slot.name] = slot.parse(text)
                    except ValueError as e:
                        raise parse_error(plan, slot.name, text, completion, e)
                return fields
        slots = plan.by_name
        fields = {}
        for k, v in wanted_sections(completion, slots):
            parse = slots[k].parse
            try:
                fields[k] = v if parse is None else parse(v)
            except ValueError as e:
                raise parse_error(plan, k, v, completion, e)
        if tuple(fields) != plan.output_names:  # else every output is there, in order: nothing to fill
            fields = fill_defaults(plan, fields)
        if len(fields) != len(slots):
            raise AdapterParseError(
                adapter_name="ChatAdapter", signature=plan.signature, lm_response=completion, parsed_result=fields
            )
        return fields

    # --- calling the LM ---------------------------------------------------------------------------------------
    def _prepare_response_format(self, lm: Any, lm_kwargs: dict[str, Any], signature: Any) -> None:
        """ChatAdapter leaves ``response_format`` alone; JSONAdapter picks JSON mode or a schema here."""

    def _json_fallback(self) -> "ChatAdapter | None":
        from .json_adapter import JSONAdapter

        if isinstance(self, JSONAdapter) or not self.use_json_adapter_fallback:
            return None
        return JSONAdapter(
            use_native_function_calling=self.use_native_function_calling, parallel_tool_calls=self.parallel_tool_calls
        )

    # Format, call ``lm(messages=..., **lm_kwargs)``, parse, with one JSONAdapter retry on a parse error: the
    # sync and async drivers of ``_call``, used as methods (no extra frame on every call).
    __call__ = _call.run
    acall = _call.arun
    # The plain round trip for a plan with ``plan.plain`` set (a call without demos or LM kwargs, no DSPy bridge):
    # ``adapter.round_trip(adapter.plan(signature), lm, inputs)`` is what ``adapter(lm, {}, signature, [], inputs)``
    # returns, without re-deciding per call what the plan already knows (it is the plan's own ``trip``).
    round_trip = _call.plain
    around_trip = _call.aplain
