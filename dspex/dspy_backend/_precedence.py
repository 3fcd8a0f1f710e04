"""What a native call sees of DSPy's settings, and in which order (docs/inside-dspy.md has the precedence table).

The default LM is the innermost of ``dspex.native.settings.context``, ``dspy.context``, ``dspex.configure`` and
``dspy.configure``; DSPy's configured adapter becomes its parity-proven native twin; callbacks are DSPy's
configured ones, then the instance's own. DSPy's dicts are read directly: a ``dspy.context`` holds a full copy of
the config, so the thread / task's overrides, when set, are the whole of what it sees.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any

import dspy
from dspy.dsp.utils.settings import thread_local_overrides

__all__ = ["default_lm", "configured_adapter", "native_adapter_for"]

# The module, not the ``settings`` object of the same name its package exports: dspy.configure writes here.
_settings_module = sys.modules["dspy.dsp.utils.settings"]
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


def _seen() -> dict[str, Any]:
    """DSPy's settings as this thread / task sees them (a ``dspy.context`` holds a full copy), read directly."""
    overrides = thread_local_overrides.get()
    return overrides if overrides else _settings_module.main_thread_config


def _callbacks(instance: Any = None) -> list[Any]:
    overrides = thread_local_overrides.get()
    configured = (overrides if overrides else _settings_module.main_thread_config).get("callbacks") or []
    own = (None if instance is None else own_attr(instance, "callbacks")) or []
    return [*configured, *own] if configured or own else []


_get = object.__getattribute__


def own_attr(obj: Any, name: str) -> Any:
    """``getattr(obj, name, None)`` past DSPy 3.4's ``Module.__getattribute__``, a Python function (it warns on a
    direct ``.forward`` read) that every read on a ``dspy.Module`` pays, about 0.2 us: the native call's books read
    the module's callbacks and signature on every call. A miss takes ``getattr``'s own road (``__getattr__``)."""
    try:
        return _get(obj, name)
    except AttributeError:
        return getattr(obj, name, None)
