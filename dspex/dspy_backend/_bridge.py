"""The bridge installed into :mod:`dspex.hooks` once DSPy is loaded: native modules as DSPy citizens.

What it gives native code (see docs/inside-dspy.md for the precedence table):

* settings: the default LM is the innermost of ``dspex.native.settings.context``, ``dspy.context``,
  ``dspex.configure`` and ``dspy.configure``; DSPy's configured adapter becomes its parity-proven native twin;
* a ``dspy.BaseLM`` is called the way DSPy's adapter calls it (inside ``adapter_message_call``, so 3.4's
  "messages= is deprecated" warning stays DSPy's own business);
* while a routed module runs natively (:func:`running_natively`), each native predictor call keeps DSPy's
  books for its DSPy twin: module callbacks, ``caller_modules`` (module history), the trace optimizers
  bootstrap from, and DSPy's Prediction type; adapter callbacks see format and parse.

Outside such a call (a plain ``dspex.native`` module, a shadow candidate on a worker) nothing is recorded.
"""

from __future__ import annotations

import contextvars
import sys
import weakref
from typing import Any, Callable

import dspy
from dspy.clients import _deprecation
from dspy.clients._deprecation import adapter_message_call
from dspy.dsp.utils.settings import settings as dspy_settings
from dspy.dsp.utils.settings import thread_local_overrides
from dspy.dsp.utils.utils import dotdict
from dspy.utils.callback import with_callbacks

from dspex import hooks
from dspex.errors import ConfigError

from ._capabilities import acapability_scope, capability_scope, plans_capabilities
from ._lm import as_dspy_lm, lm_class, record_lm_call
from ._values import to_dspy_error, to_dspy_prediction

__all__ = ["install_bridge", "running_natively", "run_root", "arun_root", "native_adapter_for", "default_lm",
           "configured_adapter"]

# The module, not the ``settings`` object of the same name its package exports: dspy.configure writes here.
_settings_module = sys.modules["dspy.dsp.utils.settings"]
# What adapter_message_call sets; set directly on the hot path (a context manager costs more than the call).
_ADAPTER_CALL: contextvars.ContextVar = _deprecation._adapter_call
_ROOT = hooks.native_root
_twins: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def default_lm(own: Any, local: dict[str, Any] | None) -> Any:
    """The innermost default LM: dspex context > dspy.context > dspex.configure > dspy.configure."""
    if local is not None and local.get("lm") is not None:
        return local["lm"]
    main_lm = _settings_module.main_thread_config.get("lm")
    ctx_lm = thread_local_overrides.get().get("lm", main_lm)
    if ctx_lm is not None and ctx_lm is not main_lm:
        return ctx_lm
    return own if own is not None else ctx_lm


def configured_adapter() -> Any:
    """The adapter DSPy's settings hold for this thread / task (None: DSPy's default ChatAdapter)."""
    overrides = thread_local_overrides.get()
    return (overrides if overrides else _settings_module.main_thread_config).get("adapter")


def native_adapter_for(adapter: Any) -> Any:
    """The native twin of a DSPy adapter (same class and options), or None when native has none."""
    if adapter is None:
        return None
    twin = _twins.get(adapter) if _weakable(adapter) else None
    if twin is None:
        twin = _make_twin(adapter)
        if twin is not None and _weakable(adapter):
            _twins[adapter] = twin
    return twin


def _weakable(obj: Any) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


def _make_twin(adapter: Any) -> Any:
    from dspex.adapters import ChatAdapter, JSONAdapter, TwoStepAdapter, XMLAdapter

    if isinstance(adapter, ChatAdapter):  # already a native adapter (TwoStepAdapter included)
        return adapter
    from dspy.adapters.base import _DEFAULT_NATIVE_RESPONSE_TYPES as default_types  # what DSPy's adapters default to

    if getattr(adapter, "callbacks", None) or list(getattr(adapter, "native_response_types", default_types)) != list(default_types):
        return None
    if type(adapter) is dspy.JSONAdapter:
        return JSONAdapter(adapter.use_native_function_calling, adapter.parallel_tool_calls)
    if type(adapter) is dspy.ChatAdapter:
        return ChatAdapter(adapter.use_native_function_calling, adapter.use_json_adapter_fallback,
                           adapter.parallel_tool_calls)
    if type(adapter) is dspy.XMLAdapter:
        return XMLAdapter(adapter.use_native_function_calling, adapter.use_json_adapter_fallback,
                          adapter.parallel_tool_calls)
    if type(adapter) is dspy.TwoStepAdapter:   # its extraction LM is called as any LM is, through this bridge
        return TwoStepAdapter(adapter.extraction_model, use_native_function_calling=adapter.use_native_function_calling,
                              parallel_tool_calls=adapter.parallel_tool_calls)
    return None


def _root() -> Any:
    active = _ROOT.get()
    return None if active is None else active[0]


def _root_callbacks() -> bool:
    return bool(getattr(_root(), "callbacks", None))


def _callbacks(instance: Any = None) -> list[Any]:
    overrides = thread_local_overrides.get()
    configured = (overrides if overrides else _settings_module.main_thread_config).get("callbacks") or []
    own = getattr(instance, "callbacks", None) or []
    return [*configured, *own] if configured or own else []


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
        return _books(twin, kwargs, lambda kw: _traced(twin, kw, run(kw)))

    async def arun_predict(self, predictor: Any, kwargs: dict[str, Any], run: Callable[..., Any]) -> Any:
        root = _root()
        if root is None:
            return await run(kwargs)
        twin = predictor._dspex_twin
        if twin is root:
            return _traced(twin, kwargs, await run(kwargs))

        async def inner(kw: dict[str, Any]) -> Any:
            return _traced(twin, kw, await run(kw))

        return await _abooks(twin, kwargs, inner)

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
        return with_callbacks(format)(_dspy_adapter(adapter), _dspy_signature(signature), demos, inputs)

    def parse(self, adapter: Any, signature: Any, completion: Any) -> Any:
        if _ROOT.get() is None or not _callbacks():
            return adapter.parse(signature, completion)

        def parse(self: Any, signature: Any, completion: Any) -> Any:  # noqa: ARG001
            return adapter.parse(native_sig, completion)

        native_sig = signature
        return with_callbacks(parse)(_dspy_adapter(adapter), _dspy_signature(signature), completion)


def _dspy_signature(native_sig: Any) -> Any:
    from ._signature import to_dspy_signature

    try:
        return to_dspy_signature(native_sig)
    except Exception:  # noqa: BLE001 - callbacks then see the native signature
        return native_sig


_ADAPTERS: dict[type, Any] = {}


def _dspy_adapter(native_adapter: Any) -> Any:
    """The DSPy adapter object adapter callbacks are told about (DSPy's class of the same name)."""
    from dspex.adapters import JSONAdapter

    cls = dspy.JSONAdapter if isinstance(native_adapter, JSONAdapter) else dspy.ChatAdapter
    configured = dspy_settings.adapter
    if type(configured) is cls:
        return configured
    if cls not in _ADAPTERS:
        _ADAPTERS[cls] = cls()
    return _ADAPTERS[cls]


def _seen() -> dict[str, Any]:
    """DSPy's settings as this thread / task sees them (a ``dspy.context`` holds a full copy), read directly."""
    overrides = thread_local_overrides.get()
    return overrides if overrides else _settings_module.main_thread_config


def _traced(twin: Any, inputs: dict[str, Any], pred: Any) -> Any:
    """DSPy's trace entry ``(predictor, inputs, prediction)``, with DSPy's Prediction and types, when tracing is on.

    The native module itself goes on with its own prediction (a native agent reads its ToolCalls, History...);
    the routed call's result is converted once, at the end (``run_root``)."""
    seen = _seen()
    trace = seen.get("trace")
    size = seen.get("max_trace_size", 10_000)
    if trace is not None and size > 0:
        if len(trace) >= size:
            trace.pop(0)
        trace.append((twin, {**inputs}, to_dspy_prediction(pred, twin.signature)))
    return pred


def _with_caller(module: Any, run: Callable[[dict[str, Any]], Any], kwargs: dict[str, Any]) -> Any:
    """``run(kwargs)`` with ``module`` appended to DSPy's ``caller_modules`` (what ``dspy.context`` would do,
    without a context manager: this wraps every native call inside a DSPy program)."""
    overrides = thread_local_overrides.get()
    main = _settings_module.main_thread_config
    callers = list((overrides if "caller_modules" in overrides else main).get("caller_modules") or [])
    callers.append(module)
    token = thread_local_overrides.set(dotdict({**main, **overrides, "caller_modules": callers}))
    try:
        return run(kwargs)
    finally:
        thread_local_overrides.reset(token)


async def _awith_caller(module: Any, run: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    overrides = thread_local_overrides.get()
    main = _settings_module.main_thread_config
    callers = list((overrides if "caller_modules" in overrides else main).get("caller_modules") or [])
    callers.append(module)
    token = thread_local_overrides.set(dotdict({**main, **overrides, "caller_modules": callers}))
    try:
        return await run(kwargs)
    finally:
        thread_local_overrides.reset(token)


def _books(module: Any, kwargs: dict[str, Any], run: Callable[[dict[str, Any]], Any]) -> Any:
    """What ``dspy.Module.__call__`` does around ``forward``: callbacks and ``caller_modules``."""
    if not _callbacks(module):
        return _with_caller(module, run, kwargs)

    # Named and shaped as dspy.Module.__call__: callbacks get {"args": ..., "kwargs": ...}, as from DSPy.
    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
        return _with_caller(self, run, kwargs)

    return with_callbacks(__call__)(module, **kwargs)


async def _abooks(module: Any, kwargs: dict[str, Any], run: Callable[..., Any]) -> Any:
    if not _callbacks(module):
        return await _awith_caller(module, run, kwargs)

    async def acall(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await _awith_caller(self, run, kwargs)

    return await with_callbacks(acall)(module, **kwargs)


def _reraise(exc: Exception) -> None:
    converted = to_dspy_error(exc)
    if converted is exc:
        raise exc
    raise converted from exc.__cause__


def _needs_dspy_call(root: Any) -> bool:
    """Whether this native call must go through DSPy's own ``Module.__call__``: callbacks to call, usage to track,
    a ``forward`` patched onto the instance (GEPA's trace capture), or a subclass's own ``__call__``."""
    if not isinstance(root, dspy.Module):
        return False        # a factory-built module: its books are kept here
    if "forward" in vars(root) or "aforward" in vars(root) or _callbacks(root):
        return True
    seen = _seen()
    if seen.get("track_usage"):
        return True
    impl = type(root)._impl
    return impl.__call__ is not _PREDICT_CALL and impl.__call__ is not dspy.Module.__call__


_PREDICT_CALL = dspy.Predict.__call__


def _keeps_books(root: Any) -> bool:
    """DSPy keeps module books (callbacks, ``caller_modules``, history) for a ``dspy.Module`` only: ``dspy.Parallel``
    is a plain class, and an LM call under it must not try to record history on it. A factory-built module's
    books are kept here."""
    return isinstance(root, dspy.Module) or "_dspex_hosted" in vars(root)


def run_root(root: Any, args: tuple, kwargs: dict[str, Any], instance: Any) -> Any:
    """A routed module's native call, inside DSPy's own ``Module.__call__`` (callbacks, history, usage, in DSPy's
    order, and any ``forward`` an optimizer patched onto the instance): its ``forward`` runs ``instance``, the
    native engine, and hands back DSPy's Prediction and error types."""
    def run(*a: Any, **kw: Any) -> Any:
        try:
            return to_dspy_prediction(instance(*a, **kw))
        except Exception as exc:  # noqa: BLE001 - re-raised, as DSPy's class where dspex has a twin of it
            _reraise(exc)

    token = _ROOT.set((root, run))
    try:
        if not _keeps_books(root):
            return run(*args, **kwargs)
        if _needs_dspy_call(root):
            return type(root)._impl.__call__(root, *args, **kwargs)
        # Nothing DSPy's __call__ would add beyond caller_modules (no callbacks, usage tracking or forward patch):
        # the same books, kept here for a fraction of the cost.
        return _books(root, kwargs, lambda kw: run(*args, **kw))
    finally:
        _ROOT.reset(token)


async def arun_root(root: Any, args: tuple, kwargs: dict[str, Any], instance_acall: Any) -> Any:
    async def run(*a: Any, **kw: Any) -> Any:
        try:
            return to_dspy_prediction(await instance_acall(*a, **kw))
        except Exception as exc:  # noqa: BLE001
            _reraise(exc)

    token = _ROOT.set((root, run))
    try:
        if not _keeps_books(root):
            return await run(*args, **kwargs)
        if _needs_dspy_call(root):
            return await type(root)._impl.acall(root, *args, **kwargs)

        async def body(kw: dict[str, Any]) -> Any:
            return await run(*args, **kw)

        return await _abooks(root, kwargs, body)
    finally:
        _ROOT.reset(token)


def running_natively() -> Any:
    """The routed module whose native call is running in this context, if any."""
    return _root()


_BRIDGE = Bridge()


def install_bridge() -> None:
    hooks.install(_BRIDGE)
