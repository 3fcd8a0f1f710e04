"""The bridge installed into :mod:`dspex.hooks` once DSPy is loaded: native modules as DSPy citizens.

What it gives native code (see docs/inside-dspy.md for the precedence table):

* settings: the default LM is the innermost of ``dspex.native.settings.context``, ``dspy.context``,
  ``dspex.configure`` and ``dspy.configure``; DSPy's configured adapter becomes its parity-proven native twin;
* a ``dspy.BaseLM`` is called the way DSPy's adapter calls it (inside ``adapter_message_call``, so 3.4's
  "messages= is deprecated" warning stays DSPy's own business);
* while a routed module runs natively (:func:`running_natively`), each native predictor call keeps DSPy's
  books for its DSPy twin: module callbacks, ``caller_modules`` (module history), the trace optimizers
  bootstrap from, and DSPy's Prediction type; adapter callbacks see format and parse, tool callbacks each call
  an agent makes of its tools (``_tools``).

Outside such a call (a plain ``dspex.native`` module, a shadow candidate on a worker) nothing is recorded.

This module is the :class:`Bridge` object and the adapter callbacks; what it reads of DSPy's settings is in
``_precedence``, the books and the routed module's native run (``run_root``) in ``_native_run``.
"""

from __future__ import annotations

import contextvars
import copy
from typing import Any, Callable

import dspy
from dspy.clients import _deprecation
from dspy.clients._deprecation import adapter_message_call
from dspy.dsp.utils.settings import settings as dspy_settings
from dspy.dsp.utils.settings import thread_local_overrides
from dspy.utils.callback import with_callbacks

from dspex import hooks
from dspex.errors import ConfigError

from ._capabilities import acapability_scope, capability_scope, plans_capabilities
from ._lm import as_dspy_lm, lm_class, record_lm_call
from ._native_run import (_ROOT, _abooks, _books, _root, _root_callbacks, _traced, extend_trace, trace_scope,
                          twin_predictor)
from ._precedence import _callbacks, _settings_module, native_adapter_for
from ._tools import agent_tools

__all__ = ["install_bridge"]

# What adapter_message_call sets; set directly on the hot path (a context manager costs more than the call).
_ADAPTER_CALL: contextvars.ContextVar = _deprecation._adapter_call


class Bridge:
    """The object :mod:`dspex.hooks` holds; see the module docstring."""

    def settings(self, base: dict[str, Any], local: dict[str, Any] | None) -> dict[str, Any]:
        # Read on every native call: DSPy's dicts directly (a dspy.context holds a full copy of the config).
        main = _settings_module.main_thread_config
        overrides = thread_local_overrides.get()
        seen = overrides if overrides else main
        main_lm = main.get("lm")
        ctx_lm = seen.get("lm", main_lm)
        configured = seen.get("adapter")
        warn = seen.get("warn_on_type_mismatch", True)
        plain = base["plain"] and (_ROOT.get() is None or not (seen.get("callbacks") or _root_callbacks()))
        lm = base["lm"]
        if local is not None and local.get("lm") is not None:
            pass
        elif ctx_lm is not None and (ctx_lm is not main_lm or lm is None):
            lm = ctx_lm
        if lm is base["lm"] and configured is None and warn and plain:
            return base   # DSPy changes nothing this call sees: no copy
        adapter = base["adapter"]
        if adapter is None and configured is not None:
            adapter = native_adapter_for(configured)
            if adapter is None:
                raise ConfigError(
                    f"dspy is configured with {type(configured).__name__}, which has no parity-proven native twin; "
                    "native modules would send a different prompt. Route this module to 'dspy' (routed dspex "
                    "modules do so by themselves), or configure a ChatAdapter/JSONAdapter."
                )
        return {"lm": lm, "adapter": adapter, "warn_on_type_mismatch": base["warn_on_type_mismatch"] and warn,
                "plain": plain}

    # --- the LM call ---------------------------------------------------------------------------------------
    plans_capabilities = staticmethod(plans_capabilities)   # a dspy.LM: its capabilities depend on the call
    capability_scope = staticmethod(capability_scope)
    acapability_scope = staticmethod(acapability_scope)

    def call_lm(self, lm: Any, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> Any:
        if isinstance(lm, dspy.BaseLM):   # marked as DSPy's adapter marks its own call (adapter_message_call)
            token = _ADAPTER_CALL.set((lm, messages))
            try:
                return lm(messages=messages, **kwargs)
            finally:
                _ADAPTER_CALL.reset(token)
        return lm(messages=messages, **kwargs)

    async def acall_lm(self, lm: Any, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> Any:
        if isinstance(lm, dspy.BaseLM):
            with adapter_message_call(lm, messages):
                return await lm.acall(messages=messages, **kwargs)
        acall = getattr(lm, "acall", None)
        if acall is not None:
            return await acall(messages=messages, **kwargs)
        import asyncio

        return await asyncio.to_thread(lambda: lm(messages=messages, **kwargs))

    def record_lm(self, lm: Any, prompt: Any, messages: Any, kwargs: dict[str, Any], outputs: Any,
                  response: Any) -> None:
        """A dspex.LM call in DSPy's histories and usage tracker. A dspex.LM that is a ``dspy.BaseLM`` already has
        the entry in its own history; an older one's DSPy face is its CallableLM wrapper."""
        if isinstance(lm, dspy.BaseLM):
            record_lm_call(lm, prompt, messages, kwargs, outputs, response, own_history=False)
        else:
            record_lm_call(as_dspy_lm(lm), prompt, messages, kwargs, outputs, response)

    def lm_class(self, cls: type) -> type:
        return lm_class(cls)

    # --- one native predictor call inside a routed module ---------------------------------------------------
    def run_predict(self, predictor: Any, kwargs: dict[str, Any], run: Callable[[dict[str, Any]], Any]) -> Any:
        root = _root()
        if root is None:
            return run(kwargs)
        twin = predictor._dspex_twin
        if twin is root:  # the routed module itself: its books are kept by run_root around this call
            return _traced(twin, kwargs, run(kwargs))

        def body(kw: dict[str, Any]) -> Any:
            pred = _traced(twin, kw, run(kw))
            _mirror(kwargs, kw)
            return pred

        return _books(twin, kwargs, body)

    async def arun_predict(self, predictor: Any, kwargs: dict[str, Any], run: Callable[..., Any]) -> Any:
        root = _root()
        if root is None:
            return await run(kwargs)
        twin = predictor._dspex_twin
        if twin is root:
            return _traced(twin, kwargs, await run(kwargs))

        async def inner(kw: dict[str, Any]) -> Any:
            pred = _traced(twin, kw, await run(kw))
            _mirror(kwargs, kw)
            return pred

        return await _abooks(twin, kwargs, inner)

    # --- one call of a native engine's sub-module (BestOfN's wrapped module, ReAct's extract) -----------------
    def run_module(self, module: Any, args: tuple, kwargs: dict[str, Any], forward: Callable[..., Any]) -> Any:
        """DSPy's ``Module.__call__`` books for the sub-module's twin: DSPy fires module callbacks (and records
        ``caller_modules``) for every ``dspy.Module`` a program calls, not only for its predictors."""
        twin = module._dspex_twin
        if _root() is None or twin is _root():
            return forward(*args, **kwargs)
        return _books(twin, kwargs, lambda kw: forward(*args, **kw))

    async def arun_module(self, module: Any, args: tuple, kwargs: dict[str, Any], forward: Callable[..., Any]) -> Any:
        twin = module._dspex_twin
        if _root() is None or twin is _root():
            return await forward(*args, **kwargs)

        async def inner(kw: dict[str, Any]) -> Any:
            return await forward(*args, **kw)

        return await _abooks(twin, kwargs, inner)

    # BestOfN / Refine attempts (native/_rollouts.py): each in DSPy's fresh trace; only the best one's entries kept
    trace_scope = staticmethod(trace_scope)
    extend_trace = staticmethod(extend_trace)
    twin_predictor = staticmethod(twin_predictor)   # Refine's feedback predictor, which no DSPy module holds

    def parallel_worker(self) -> None:
        """DSPy's ParallelExecutor worker rule, in the worker's own context: each item tracks usage on a deep copy of
        the caller's usage tracker, so the caller's ``get_lm_usage()`` leaves its workers' usage out, as in DSPy."""
        overrides = thread_local_overrides.get()
        tracker = overrides.get("usage_tracker")
        if tracker:
            thread_local_overrides.set({**overrides, "usage_tracker": copy.deepcopy(tracker)})

    def setting(self, name: str) -> Any:
        """What DSPy's Parallel reads from its settings (``num_threads``, ``max_errors``, ``provide_traceback``), and
        DSPy's Tool (``allow_tool_async_sync_conversion``)."""
        return getattr(dspy_settings, name)

    # --- tool callbacks: an agent's tools as its run calls them (a view reporting each call, in a routed call) --
    agent_tools = staticmethod(agent_tools)

    # --- adapter callbacks ----------------------------------------------------------------------------------
    def adapter_events(self) -> bool:
        """Whether format and parse must be reported to DSPy's callbacks (a routed native call, callbacks set)."""
        return _ROOT.get() is not None and bool(_callbacks())

    def format(self, adapter: Any, signature: Any, demos: Any, inputs: Any) -> Any:
        if _ROOT.get() is None or not _callbacks():
            return adapter.format(signature, demos, inputs)

        def format(self: Any, signature: Any, demos: Any, inputs: Any) -> Any:  # noqa: ARG001 - DSPy's signature
            return adapter.format(native_sig, demos, inputs)

        native_sig = signature
        face = _dspy_adapter(adapter)
        return _layered(format, face, "format")(face, _dspy_signature(signature), demos, inputs)

    def parse(self, adapter: Any, signature: Any, completion: Any) -> Any:
        if _ROOT.get() is None or not _callbacks():
            return adapter.parse(signature, completion)

        def parse(self: Any, signature: Any, completion: Any) -> Any:  # noqa: ARG001
            return adapter.parse(native_sig, completion)

        native_sig = signature
        face = _dspy_adapter(adapter)
        return _layered(parse, face, "parse")(face, _dspy_signature(signature), completion)


def _mirror(caller: dict[str, Any], ran: dict[str, Any]) -> None:
    """Callbacks' wrapper hands the call a copy of its keywords; the caller's dict then takes what the call left in
    that copy (keywords consumed, inputs added: Refine's ``hint_``), since the native trace records the caller's
    dict, as DSPy's records the one its adapter wrote into."""
    if ran is not caller:
        caller.clear()
        caller.update(ran)


def _dspy_signature(native_sig: Any) -> Any:
    from ._signature import to_dspy_signature

    try:
        return to_dspy_signature(native_sig)
    except Exception:  # noqa: BLE001 - callbacks then see the native signature
        return native_sig


_ADAPTERS: dict[type, Any] = {}
_DSPY_NAMES = ("JSONAdapter", "XMLAdapter", "TwoStepAdapter", "ChatAdapter")   # a native adapter's DSPy class
_LAYERS: dict[tuple[type, str], int] = {}


def _dspy_adapter(native_adapter: Any) -> Any:
    """The DSPy adapter object adapter callbacks are told about: the configured one (``dspy.configure(adapter=...)``)
    when this native adapter is its twin, as DSPy's callbacks see the object the program configured; else one of
    DSPy's class of the same name (the default ChatAdapter, the JSON fallback, TwoStep's extraction step, which DSPy
    builds fresh per call)."""
    configured = dspy_settings.adapter
    if configured is not None and native_adapter_for(configured) is native_adapter:
        return configured
    name = next((c.__name__ for c in type(native_adapter).__mro__ if c.__name__ in _DSPY_NAMES), "ChatAdapter")
    cls = getattr(dspy, name)
    if cls not in _ADAPTERS:
        _ADAPTERS[cls] = cls()
    return _ADAPTERS[cls]


def _layered(fn: Callable[..., Any], face: Any, name: str) -> Callable[..., Any]:
    """``fn`` inside as many callback layers as DSPy's adapter class has on that method: each subclass of DSPy's
    ``Adapter`` wraps ``format`` and ``parse`` again, so the inherited ``format`` of JSONAdapter and XMLAdapter fires
    two nested format events, and the native call fires the same."""
    key = (type(face), name)
    depth = _LAYERS.get(key)
    if depth is None:
        depth, method = 0, getattr(type(face), name)
        while hasattr(method, "__wrapped__"):
            depth, method = depth + 1, method.__wrapped__
        depth = _LAYERS[key] = max(depth, 1)
    for _ in range(depth):
        fn = with_callbacks(fn)
    return fn


_BRIDGE = Bridge()


def install_bridge() -> None:
    hooks.install(_BRIDGE)
