"""Module types and their implementations, as plain data.

Each module type names where its native and DSPy classes live (``"package.module:Attr"`` strings, resolved only
when a call needs them, so reading the registry imports neither side). A built-in without a native class is
DSPy-only and says why (``program_of_thought``, ``code_act``, ``rlm``, ``knn``): the registry lists only
implementations that exist. User types join with :func:`dspex.register`, which adds a :class:`ModuleSpec` here
and returns a routed class.
"""

from __future__ import annotations

import importlib
import re
import threading
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

__all__ = ["IMPLEMENTATIONS", "ModuleSpec", "BUILTINS", "lookup", "module_types", "add", "resolve", "native_class", "implementations"]

# What a routing decision can choose: the one list every part of dspex checks against.
IMPLEMENTATIONS = ("native", "dspy", "shadow")

# Why the DSPy-only built-ins stay DSPy-only (shown by ``dspex status``, route events and docs/migration/status.md).
_EXECUTES_CODE = ("DSPy-only by design: it executes model-written code in DSPy's {where}; a native twin would add a "
                  "second code-execution surface, not remove one")
_KNN_WHY = ("DSPy-only: neighbours are ranked by numpy float32 dot products through numpy's unstable argsort, "
            "whose rounding and tie order cannot be reproduced exactly without numpy, and its vectorizer is a "
            "dspy.Embedder; a numpy-backed twin would only repeat DSPy's code")


@dataclass(frozen=True, slots=True)
class ModuleSpec:
    """One module type. ``native``/``dspy``: a class (or factory) or a ``"module:attr"`` path; None = absent."""

    module_type: str
    native: Any = None
    dspy: Any = None
    signature_arg: bool = True     # the first positional (or ``signature=``) constructor arg is a signature
    wraps_module: bool = False     # BestOfN / Refine: ``module=`` is a module (routed by router/_wrapping)
    note: str = ""                 # why native is missing (shown in reasons and ``info()``)
    builtin: bool = False
    lm_kwarg: bool = False         # calls take ``lm=`` as DSPy's Predict does (else a call's lm= is its default LM)

    @property
    def flag_key(self) -> str:
        return f"dspex.{self.module_type}"


def _builtin(module_type: str, cls: str, native: bool, **kw: Any) -> ModuleSpec:
    return ModuleSpec(
        module_type=module_type,
        native=f"dspex.native:{cls}" if native else None,
        dspy=f"dspy:{cls}",
        note=kw.pop("note", ""),
        builtin=True,
        **kw,
    )


BUILTINS: dict[str, ModuleSpec] = {
    s.module_type: s
    for s in (
        _builtin("predict", "Predict", True, lm_kwarg=True),
        _builtin("chain_of_thought", "ChainOfThought", True, lm_kwarg=True),
        # Listed with a native path: they become available the moment dspex.native exports them.
        _builtin("react", "ReAct", True, lm_kwarg=True),   # DSPy's ReAct passes a call's lm= to its predictors
        _builtin("react_v2", "ReActV2", True),  # experimental in DSPy 3.4.1, as natively
        _builtin("multi_chain_comparison", "MultiChainComparison", True),
        _builtin("best_of_n", "BestOfN", True, signature_arg=False, wraps_module=True),
        _builtin("refine", "Refine", True, signature_arg=False, wraps_module=True),
        _builtin("parallel", "Parallel", True, signature_arg=False),
        # A function in both libraries: routed as a callable object (dspex.majority calls one).
        ModuleSpec("majority", native="dspex.native:Majority", dspy="dspex.router._functions:DSPyMajority",
                   signature_arg=False, builtin=True),
        _builtin("program_of_thought", "ProgramOfThought", False,
                 note=_EXECUTES_CODE.format(where="Deno/Pyodide sandbox")),
        _builtin("code_act", "CodeAct", False, note=_EXECUTES_CODE.format(where="Deno/Pyodide sandbox, with tools")),
        _builtin("rlm", "RLM", False, note=_EXECUTES_CODE.format(where="REPL interpreter (recursive sub-LM calls)")),
        _builtin("knn", "KNN", False, signature_arg=False, note=_KNN_WHY),
    )
}

_user: dict[str, ModuleSpec] = {}
_resolved: dict[Any, Any] = {}
_lock = threading.Lock()
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def lookup(module_type: str) -> ModuleSpec:
    """The spec of ``module_type``; a ConfigError listing the known types when there is none."""
    spec = _user.get(module_type) or BUILTINS.get(module_type)
    if spec is None:
        raise ConfigError(
            f"Unknown module type {module_type!r}. Known types: {sorted(module_types())}. "
            "Register your own with dspex.register(name, native=..., dspy=...)."
        )
    return spec


def module_types() -> list[str]:
    return [*BUILTINS, *_user]


def add(spec: ModuleSpec) -> ModuleSpec:
    """Register a user type (replacing an earlier registration of the same name); built-in names are refused."""
    if not _NAME.match(spec.module_type):
        raise ConfigError(
            f"Module type {spec.module_type!r} must be lower_snake_case (it becomes flag key 'dspex.<name>')."
        )
    if spec.module_type in BUILTINS:
        raise ConfigError(f"{spec.module_type!r} is a built-in module type; register yours under another name.")
    if spec.native is None and spec.dspy is None:
        raise ConfigError(f"dspex.register({spec.module_type!r}) needs at least one of native= or dspy=.")
    with _lock:
        _user[spec.module_type] = spec
    return spec


def resolve(target: Any) -> Any:
    """Import a ``"module:attr"`` path once (cached); anything else is returned as is. Raises ImportError/AttributeError."""
    if not isinstance(target, str):
        return target
    try:
        return _resolved[target]
    except KeyError:
        pass
    mod_name, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(mod_name), attr)
    _resolved[target] = obj
    return obj


def native_class(spec: ModuleSpec) -> tuple[Any, str]:
    """``(native class or None, why not)``. A built-in's native class exists once ``dspex.native`` exports it."""
    if spec.native is None:
        return None, spec.note or "no native implementation registered"
    try:
        return resolve(spec.native), ""
    except (ImportError, AttributeError) as exc:
        note = spec.note or f"native implementation {spec.native!r} is not importable"
        return None, f"{note} ({type(exc).__name__}: {exc})"


def implementations(module_type: str) -> dict[str, str]:
    """``{"native": status, "dspy": status}`` for humans and ``dspex status``: 'available' or why not."""
    spec = lookup(module_type)
    native, why = native_class(spec)
    out = {"native": "available" if native is not None else why}
    if spec.dspy is None:
        out["dspy"] = "not registered"
    elif isinstance(spec.dspy, str) and spec.dspy.startswith(("dspy:", "dspex.router._functions:")):
        out["dspy"] = "available (needs the dspex[dspy] extra)"
    else:
        out["dspy"] = "available"
    return out
