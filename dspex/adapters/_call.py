"""One adapter round trip: prepare kwargs, format, call the LM, turn its outputs into field dicts.

Mirrors DSPy 3.4.1's ``Adapter.__call__`` / ``acall`` and ``_call_postprocess`` for signatures without tool or
native-response fields; those with history, tool, tool-call or reasoning fields take ``_roles``. The sync and async twins sit side by side and share everything but the LM call.
``lm_kwargs`` is mutated in place, as DSPy does, so a JSON retry sees what the first attempt left in it.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .. import hooks
from ..errors import AdapterParseError, lm_failed
from ._lm_call import acall_lm
from . import _roles  # history, tool, tool-call and reasoning fields (loaded with the plans anyway)

__all__ = ["run", "arun", "plain", "aplain", "plain_trips", "prepare", "postprocess"]

_EMPTY = "The LM returned an empty or null response."
_TOOL_KEYS = ("tools", "tool_choice", "parallel_tool_calls")


def prepare(
    adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any], inputs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Adjust ``lm_kwargs`` as DSPy does and return the messages to send."""
    if not adapter._plain_request or lm_kwargs:   # a response format to choose, or LM kwargs to adjust
        adapter._prepare_response_format(lm, lm_kwargs, signature)
        if lm_kwargs and not adapter.use_native_function_calling:
            for key in _TOOL_KEYS:
                lm_kwargs.pop(key, None)
    bridge = hooks.bridge
    if bridge is not None and bridge.adapter_events():   # DSPy's adapter callbacks see the formatting
        messages = bridge.format(adapter, signature, demos, inputs)
    else:
        messages = adapter.format(signature, demos, inputs)
    if lm_kwargs and lm_kwargs.get("parallel_tool_calls") is not None:
        lm_kwargs.setdefault("tool_choice", "auto")
    return messages


def postprocess(adapter: Any, signature: Any, outputs: Any) -> list[dict[str, Any]]:
    """Parse each completion; a dict's ``logprobs`` ride along; an empty one fails the whole call."""
    return _postprocess(adapter, adapter.plan(signature), outputs)


def _postprocess(adapter: Any, plan: Any, outputs: Any) -> list[dict[str, Any]]:
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
        # DSPy rebuilds every parse in signature order, keeping only output fields (TwoStep's extraction may add
        # logprobs, or, for an output named ``text``, answer its fields in another order): the same keys in
        # another order are rebuilt too.
        if plan.any_optional_output or tuple(value) != plan.output_names:
            from ._plan import fill_defaults

            value = fill_defaults(plan, value)
        if len(value) != len(plan.output_names):  # parse already returns every output when it succeeds
            for name in plan.output_names:
                value.setdefault(name, None)
        if logprobs:
            value["logprobs"] = logprobs
        values.append(value)
    return values


# The two drivers, twins side by side: the same steps, only the LM call differs. A request the plan renders whole
# (system and inputs: no demos, no LM kwargs, no adapter callbacks) and a single plain completion are read straight
# from the plan. A parse error gets DSPy's one JSONAdapter retry. (ChatAdapter's ``__call__`` / ``acall`` are these.)
def run(
    adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any], inputs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Format, call ``lm(messages=..., **lm_kwargs)``, parse; one JSONAdapter retry on a parse error."""
    bridge = hooks.bridge
    if bridge is not None and bridge.plans_capabilities(lm):   # a dspy.LM: DSPy's capability planning scope
        with bridge.capability_scope(lm, lm_kwargs):
            return _run(adapter, lm, lm_kwargs, signature, demos, inputs)
    return _run(adapter, lm, lm_kwargs, signature, demos, inputs)


async def arun(
    adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any], inputs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The async twin of ``run``: ``await lm.acall(...)`` if the LM has it, else the sync call in a thread."""
    bridge = hooks.bridge
    if bridge is not None and bridge.plans_capabilities(lm):
        async with bridge.acapability_scope(lm, lm_kwargs):
            return await _arun(adapter, lm, lm_kwargs, signature, demos, inputs)
    return await _arun(adapter, lm, lm_kwargs, signature, demos, inputs)


def _run(
    adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any], inputs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    plan = adapter.plan(signature)
    if plan.plain and not lm_kwargs and not demos and type(demos) is list and (
            hooks.bridge is None or not hooks.bridge.adapter_events()):
        return plain(adapter, plan, lm, inputs, lm_kwargs)
    try:
        if plan.roles is not None:  # history, tools, tool calls or reasoning fields (see _roles)
            return _roles.run(adapter, lm, lm_kwargs, plan.signature, demos, inputs, plan.roles)
        bridge = hooks.bridge
        bare = (adapter._plain_request and not lm_kwargs and not demos and type(demos) is list
                 and (bridge is None or not bridge.adapter_events()))
        messages = adapter._plain_messages(plan, inputs) if bare else \
            prepare(adapter, lm, lm_kwargs, signature, demos, inputs)
        try:
            outputs = lm(messages=messages, **lm_kwargs) if bridge is None else bridge.call_lm(lm, messages, lm_kwargs)
        except Exception as exc:
            lm_failed(exc)
            raise
        if bare and adapter._fast_parse and type(outputs) is list and len(outputs) == 1:
            text = outputs[0]
            if type(text) is str and text:
                return [adapter._parse(plan, text)]
        return _postprocess(adapter, plan, outputs)
    except AdapterParseError:
        fallback = adapter._json_fallback()
        if fallback is None:
            raise
        return fallback(lm, lm_kwargs, signature, demos, inputs)


async def _arun(
    adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any], inputs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    plan = adapter.plan(signature)
    if plan.plain and not lm_kwargs and not demos and type(demos) is list and (
            hooks.bridge is None or not hooks.bridge.adapter_events()):
        return await aplain(adapter, plan, lm, inputs, lm_kwargs)
    try:
        if plan.roles is not None:
            return await _roles.arun(adapter, lm, lm_kwargs, plan.signature, demos, inputs, plan.roles)
        bridge = hooks.bridge
        bare = (adapter._plain_request and not lm_kwargs and not demos and type(demos) is list
                 and (bridge is None or not bridge.adapter_events()))
        messages = adapter._plain_messages(plan, inputs) if bare else \
            prepare(adapter, lm, lm_kwargs, signature, demos, inputs)
        outputs = await acall_lm(lm, messages, lm_kwargs)
        if bare and adapter._fast_parse and type(outputs) is list and len(outputs) == 1:
            text = outputs[0]
            if type(text) is str and text:
                return [adapter._parse(plan, text)]
        return _postprocess(adapter, plan, outputs)
    except AdapterParseError:
        fallback = adapter._json_fallback()
        if fallback is None:
            raise
        return await fallback.acall(lm, lm_kwargs, signature, demos, inputs)


# The plain round trip, twins side by side: a ChatAdapter's own plan (``plan.plain``: no agent roles), no demos, no
# LM kwargs for the adapter to adjust (Predict's plain call may pass its config: a temperature, say) and no adapter
# callbacks to report to (DSPy's, through the bridge). Nothing varies but the input values
# and the LM's answer, so the request is rendered by the plan and a single plain completion is parsed from it;
# anything else takes the general parse and errors above. With DSPy loaded the LM is called the way DSPy's adapter
# calls it (``bridge.call_lm``); a ``dspy.LM``'s capability planning scope is the caller's (``run``, or Predict's
# choice of the general path). The twins are closures built once per plain plan (``ChatAdapter.plan`` keeps them as
# ``plan.trip`` / ``plan.atrip``), so what the plan fixes is read from the closure, not looked up on every call;
# Predict's commonest call comes straight to ``plan.trip``.
def plain_trips(plan: Any) -> tuple[Callable[..., list[dict[str, Any]]], Callable[..., Any]]:
    """``(trip, atrip)``: ``trip(adapter, lm, inputs, lm_kwargs=None)`` renders system and request from the plan,
    calls ``lm(messages=..., **lm_kwargs)``, parses; one JSONAdapter retry on a parse error. ``atrip`` is its async
    twin: ``await lm.acall(...)`` if the LM has it, else the sync call in a thread.

    ``lm_kwargs`` is the call's own dict, if it has one: nothing a ChatAdapter would adjust (no tool keys), and the
    retry fills it in as DSPy's does. The canonical reader reads the parse only when no output needs converting
    (only str outputs); otherwise ``adapter._parse``."""
    render = plan.render
    reader = plan.reader if not plan.parsed else None

    def trip(adapter: Any, lm: Any, inputs: Mapping[str, Any], lm_kwargs: dict[str, Any] | None = None) -> Any:
        system = plan.system
        if system is None:
            system = adapter._system(plan)
        messages = [{"role": "system", "content": system}, render(inputs)]
        bridge = hooks.bridge
        try:
            try:
                if bridge is not None:
                    outputs = bridge.call_lm(lm, messages, lm_kwargs or {})
                else:
                    outputs = lm(messages=messages, **lm_kwargs) if lm_kwargs else lm(messages=messages)
            except Exception as exc:
                lm_failed(exc)
                raise
            if type(outputs) is list and len(outputs) == 1:
                text = outputs[0]
                if type(text) is str and text:
                    fields = reader(text) if reader is not None else None
                    return [fields if fields is not None else adapter._parse(plan, text)]
            return _postprocess(adapter, plan, outputs)
        except AdapterParseError:
            fallback = adapter._json_fallback()
            if fallback is None:
                raise
            return fallback(lm, {} if lm_kwargs is None else lm_kwargs, plan.signature, [], inputs)

    async def atrip(adapter: Any, lm: Any, inputs: Mapping[str, Any], lm_kwargs: dict[str, Any] | None = None) -> Any:
        system = plan.system
        if system is None:
            system = adapter._system(plan)
        messages = [{"role": "system", "content": system}, render(inputs)]
        try:
            outputs = await acall_lm(lm, messages, lm_kwargs or {})
            if type(outputs) is list and len(outputs) == 1:
                text = outputs[0]
                if type(text) is str and text:
                    fields = reader(text) if reader is not None else None
                    return [fields if fields is not None else adapter._parse(plan, text)]
            return _postprocess(adapter, plan, outputs)
        except AdapterParseError:
            fallback = adapter._json_fallback()
            if fallback is None:
                raise
            return await fallback.acall(lm, {} if lm_kwargs is None else lm_kwargs, plan.signature, [], inputs)

    return trip, atrip


def plain(
    adapter: Any, plan: Any, lm: Any, inputs: Mapping[str, Any], lm_kwargs: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The plain round trip of a plain ``plan`` (``ChatAdapter.round_trip``): ``plan.trip``."""
    return plan.trip(adapter, lm, inputs, lm_kwargs)


async def aplain(
    adapter: Any, plan: Any, lm: Any, inputs: Mapping[str, Any], lm_kwargs: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The async twin of ``plain``: ``plan.atrip``."""
    return await plan.atrip(adapter, lm, inputs, lm_kwargs)
