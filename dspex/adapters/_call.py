"""One adapter round trip: prepare kwargs, format, call the LM, turn its outputs into field dicts.

Mirrors DSPy 3.4.1's ``Adapter.__call__`` / ``acall`` and ``_call_postprocess`` for signatures without tool or
native-response fields; those with history, tool, tool-call or reasoning fields take ``_roles``. The sync and async twins sit side by side and share everything but the LM call.
``lm_kwargs`` is mutated in place, as DSPy does, so a JSON retry sees what the first attempt left in it.
"""

from __future__ import annotations

from typing import Any, Mapping

from .. import hooks
from ..errors import AdapterParseError

__all__ = ["run", "arun", "prepare", "postprocess"]

_EMPTY = "The LM returned an empty or null response."
_TOOL_KEYS = ("tools", "tool_choice", "parallel_tool_calls")


def prepare(
    adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any], inputs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Adjust ``lm_kwargs`` as DSPy does and return the messages to send."""
    adapter._prepare_response_format(lm, lm_kwargs, signature)
    if lm_kwargs and not adapter.use_native_function_calling:  # (most calls have no LM kwargs at all)
        for key in _TOOL_KEYS:
            lm_kwargs.pop(key, None)
    bridge = hooks.bridge
    if bridge is None:
        messages = adapter.format(signature, demos, inputs)
    else:  # DSPy is loaded: its adapter callbacks see the formatting, as they do in DSPy
        messages = bridge.format(adapter, signature, demos, inputs)
    if lm_kwargs and lm_kwargs.get("parallel_tool_calls") is not None:
        lm_kwargs.setdefault("tool_choice", "auto")
    return messages


def postprocess(adapter: Any, signature: Any, outputs: Any) -> list[dict[str, Any]]:
    """Parse each completion; a dict's ``logprobs`` ride along; an empty one fails the whole call."""
    plan = adapter.plan(signature)
    bridge = hooks.bridge
    values = []
    for output in outputs:
        logprobs = None
        text = output
        if isinstance(output, dict):
            text = output.get("text")
            logprobs = output.get("logprobs")
        if not text:
            raise AdapterParseError(
                adapter_name=type(adapter).__name__,
                signature=plan.signature,
                lm_response=str(output),
                message=_EMPTY,
            )
        if bridge is None:
            value = adapter.parse(plan.signature, text)
        else:
            value = bridge.parse(adapter, plan.signature, text)
        if plan.any_optional_output:
            from ._plan import fill_defaults

            value = fill_defaults(plan, value)
        if len(value) != len(plan.output_names):  # parse already returns every output when it succeeds
            for name in plan.output_names:
                value.setdefault(name, None)
        if logprobs:
            value["logprobs"] = logprobs
        values.append(value)
    return values


def run(
    adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any], inputs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    roles = adapter.plan(signature).roles
    if roles is not None:  # history, tools, tool calls or reasoning fields (see _roles)
        from . import _roles

        return _roles.run(adapter, lm, lm_kwargs, adapter.plan(signature).signature, demos, inputs, roles)
    messages = prepare(adapter, lm, lm_kwargs, signature, demos, inputs)
    bridge = hooks.bridge
    outputs = lm(messages=messages, **lm_kwargs) if bridge is None else bridge.call_lm(lm, messages, lm_kwargs)
    return postprocess(adapter, signature, outputs)


async def arun(
    adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any], inputs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    roles = adapter.plan(signature).roles
    if roles is not None:
        from . import _roles

        return await _roles.arun(adapter, lm, lm_kwargs, adapter.plan(signature).signature, demos, inputs, roles)
    messages = prepare(adapter, lm, lm_kwargs, signature, demos, inputs)
    bridge = hooks.bridge
    if bridge is not None:
        return postprocess(adapter, signature, await bridge.acall_lm(lm, messages, lm_kwargs))
    acall = getattr(lm, "acall", None)
    if acall is not None:
        outputs = await acall(messages=messages, **lm_kwargs)
    else:
        import asyncio  # only async callers pay for importing asyncio

        outputs = await asyncio.to_thread(lambda: lm(messages=messages, **lm_kwargs))
    return postprocess(adapter, signature, outputs)
