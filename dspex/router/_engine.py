"""The other implementation of a routed module, kept in step with the module's one state.

A routed module is a module of one implementation (its *shape*, see ``_variants``). The other one is an engine:
an instance built from the same constructor arguments, whose predictors are paired with the module's by
``named_predictors()`` name. Before each call the engine takes the module's state, predictor by predictor:
demos, config, lm and signature (converted between dspy and native signatures, cached). So whatever an optimizer,
``load`` or the user wrote on the module is what the engine runs; the engine holds no state of its own.

A native engine's predictors point at their DSPy twins (``_dspex_twin``): trace entries and callbacks name the
object DSPy's optimizers know. So do its other sub-modules (BestOfN's wrapped module, ReAct's extract), for whose
calls DSPy fires module callbacks too. (Attempt copies deep-copy the twins with the same memo, as DSPy's attempts
are copies of its module.)
"""

from __future__ import annotations

import logging
import operator
import weakref
from typing import Any

from dspex import hooks
from dspex.errors import ConfigError

__all__ = ["Engine", "native_signature", "own_attr"]

_log = logging.getLogger("dspex.router")
# ``own_attr(module, "_dspex")``: an attribute read past DSPy 3.4's ``Module.__getattribute__``, a Python function (it
# warns on a direct ``.forward`` read) that every read on a DSPy-shaped routed module pays, about 0.2 us each. The
# routed call's own reads (its routing, the module's state) take this road; a missing attribute still raises.
own_attr = object.__getattribute__
_native_sigs: "weakref.WeakKeyDictionary[Any, tuple[str, Any, str]]" = weakref.WeakKeyDictionary()


def native_signature(sig: Any) -> tuple[Any, str]:
    """``(native Signature, "")`` for any signature, or ``(None, why native cannot serve it)``."""
    from dspex.signature import SignatureMeta, ensure_signature

    from ._sigprep import unsupported_reason

    if isinstance(sig, SignatureMeta):
        return sig, ""
    instructions = getattr(sig, "instructions", None)
    try:
        cached = _native_sigs.get(sig)
    except TypeError:
        cached = None
    if cached is not None and cached[0] == instructions:
        return cached[1], cached[2]
    try:
        native = _with_native_agent_types(ensure_signature(sig))
        why = unsupported_reason(native)
        result = (None, f"unsupported field types: {why}") if why else (native, "")
    except Exception as exc:  # noqa: BLE001 - any signature native cannot read is served by DSPy
        result = (None, f"signature not readable natively ({type(exc).__name__}: {exc})")
    try:
        _native_sigs[sig] = (instructions, *result)
    except TypeError:
        pass
    return result


_AGENT_TYPES = {"history": "History", "tool_calls": "ToolCalls", "tool_call_results": "ToolCallResults",
                "reasoning": "Reasoning"}


def _with_native_agent_types(sig: Any) -> Any:
    """DSPy's agent types in a converted signature (dspy.History, dspy.ToolCalls...) as dspex's: the engine is a
    native module, and its agents read and build dspex.types values."""
    from dspex.types import native_class as agent_class
    from dspex.types import role_of

    changed = {}
    for name, field in sig.fields.items():
        annotation = field.annotation
        role = role_of(annotation) if isinstance(annotation, type) else None
        if role in _AGENT_TYPES and not annotation.__module__.startswith("dspex."):
            changed[name] = field.replace(annotation=agent_class(_AGENT_TYPES[role]))
    if not changed:
        return sig
    from dspex.signature import make_signature

    return make_signature({**sig.fields, **changed}, sig.instructions, signature_name=sig.__name__)


class _Pair:
    __slots__ = ("path", "owner", "engine", "sig_from", "get")

    def __init__(self, path: str, owner: Any, engine: Any) -> None:
        self.path, self.owner, self.engine, self.sig_from = path, owner, engine, None
        self.get = _getter(path)


def _getter(path: str) -> Any:
    """How to find the object at ``path`` in the module again (checked on every call: kept cheap)."""
    if path == "self":
        return lambda owner: owner
    if path.isidentifier():
        return operator.attrgetter(path)
    from dspex.native import get_by_path

    return lambda owner: get_by_path(owner, path)


class Engine:
    """``instance``: the other side's module. ``side``: ``native`` or ``dspy`` (what the instance is)."""

    def __init__(self, instance: Any, side: str) -> None:
        self.instance = instance
        self.side = side
        self.pairs: list[_Pair] | None = None    # paired on first use
        self._status: tuple[tuple[Any, ...], tuple[bool, str]] | None = None

    # --- pairing -------------------------------------------------------------------------------------------
    def _pair(self, owner: Any) -> None:
        from dspex.native import Predict as NativePredict

        mine, theirs = _predictors(owner), _predictors(self.instance)
        strays = [name for name in theirs if name not in mine]
        if strays:
            raise ConfigError(
                f"{type(owner).__name__}: the {self.side} implementation has predictors {strays} that the module does "
                f"not have (it has {list(mine)}). Name them alike in both implementations, so they share demos and "
                "instructions."
            )
        unused = [name for name in mine if name not in theirs]
        if unused and self.pairs is None:
            _log.warning("dspex: %s's %s implementation does not use the predictors %s; their demos and instructions "
                         "play no part on that route.", type(owner).__name__, self.side, unused)
        self.pairs = [_Pair(path, p, theirs[path]) for path, p in mine.items() if path in theirs]
        twinned = _twin_sub_modules(owner, self.instance)
        for pair in self.pairs:
            if isinstance(pair.engine, NativePredict):
                pair.engine._dspex_twin = pair.owner
                twinned = True
        if twinned:
            # A twin is a DSPy predictor, so dspy is loaded: load the bridge now, before the engine's first call
            # reads ``hooks.bridge`` (in a fresh process that call once ran without it and left DSPy's trace empty,
            # so BootstrapFewShot lost the first example's demo).
            hooks.current()

    def _current(self, owner: Any) -> bool:
        pairs = self.pairs
        if pairs is None:
            return False
        try:
            for pair in pairs:
                if pair.get(owner) is not pair.owner:
                    return False
        except (AttributeError, LookupError, ValueError, TypeError):
            return False
        return True

    # --- taking the module's state -------------------------------------------------------------------------
    def native_status(self, owner: Any) -> tuple[bool, str]:
        """Whether every predictor's current signature (and decision fields) can run natively; cached until a
        predictor's signature or decision fields change."""
        if not self._current(owner):
            try:
                self._pair(owner)
            except ConfigError as exc:   # the module's predictors were replaced (a mock, a function): DSPy serves it
                self.pairs = None
                return False, str(exc)
        status = self._status
        if status is not None and len(status[0]) == len(self.pairs):
            for pair, sig in zip(self.pairs, status[0]):
                state = own_attr(pair.owner, "__dict__")
                if state.get("signature") is not sig or state.get("fields"):
                    break
            else:
                return status[1]
        result: tuple[bool, str] = (True, "")
        for pair in self.pairs:
            if getattr(pair.owner, "fields", None):
                result = (False, f"predictor `{pair.path}` uses DSPy's experimental decision fields")
                break
            native, why = native_signature(pair.owner.signature)
            if native is None:
                result = (False, f"predictor `{pair.path}`: {why}")
                break
        if result[0]:
            self._status = (tuple(p.owner.signature for p in self.pairs), result)
        return result

    def sync(self, owner: Any) -> Any:
        """Copy the module's state onto the engine; returns the engine instance, ready to call."""
        if not self._current(owner):
            self._pair(owner)
        to_native = self.side == "native"
        for pair in self.pairs:
            # Read the module's own attributes from its __dict__, read past DSPy's __getattribute__ (``own_attr``):
            # this runs on every native call.
            src, dst = own_attr(pair.owner, "__dict__"), pair.engine
            dst.demos = src["demos"]
            dst.config = src["config"]
            dst.lm = src["lm"] if to_native else _as_dspy_lm(src["lm"])
            sig = src["signature"]
            if pair.sig_from is not sig:
                dst.signature = native_signature(sig)[0] if to_native else _to_dspy_signature(sig)
                pair.sig_from = sig
        return self.instance


def _twin_sub_modules(owner: Any, instance: Any) -> bool:
    """Point a native engine's sub-modules that are not predictors (BestOfN's wrapped module, ReAct's extract) at
    the module's own at the same path, as its predictors are: DSPy fires module callbacks for those too."""
    from dspex.native import Module as NativeModule
    from dspex.native import Predict as NativePredict
    from dspex.native import get_by_path

    if not isinstance(instance, NativeModule):
        return False
    twinned = False
    for path, sub in instance.named_sub_modules():
        if path == "self" or isinstance(sub, NativePredict):
            continue
        try:
            theirs = get_by_path(owner, path.removeprefix("self."))
        except (AttributeError, LookupError, TypeError):
            theirs = None
        if theirs is not None and not isinstance(theirs, NativeModule):
            sub._dspex_twin = theirs
            twinned = True
    return twinned


def _predictors(module: Any) -> dict[str, Any]:
    """``named_predictors()`` of a module (of what a factory built, for a hosted one); none if it has no such API."""
    target = getattr(module, "__dict__", {}).get("_dspex_hosted", module)
    walk = getattr(target, "named_predictors", None)
    return dict(walk()) if callable(walk) else {}


def _as_dspy_lm(lm: Any) -> Any:
    from dspex.dspy_backend import as_dspy_lm

    return as_dspy_lm(lm)


def _to_dspy_signature(sig: Any) -> Any:
    from dspex.dspy_backend import dspy_signature

    return dspy_signature(sig)
