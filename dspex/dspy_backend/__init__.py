"""DSPy's side of dspex: building and calling real DSPy modules, and the bridge that makes native modules DSPy
citizens inside a DSPy program. Importing this package does not import dspy; its modules that do are loaded
only when a call goes to DSPy or once dspy is already imported.
"""

from __future__ import annotations

from typing import Any

from ._backend import DSPyBackend, dspy_signature, dspy_version, import_dspy
from ._signature import to_dspy_signature

__all__ = [
    "DSPyBackend", "dspy_signature", "dspy_version", "import_dspy", "to_dspy_signature", "install_bridge",
    "as_dspy_lm", "native_adapter_for", "default_lm", "run_root", "arun_root", "running_natively",
    "to_dspy_prediction", "to_dspy_error", "configured_adapter", "to_dspy_tool", "to_dspy_value",
]

_LAZY = {
    "as_dspy_lm": "._lm",
    "native_adapter_for": "._precedence", "default_lm": "._precedence", "configured_adapter": "._precedence",
    "run_root": "._native_run", "arun_root": "._native_run", "running_natively": "._native_run",
    "to_dspy_tool": "._types", "to_dspy_value": "._types", "to_dspy_prediction": "._values", "to_dspy_error": "._values",
}


def install_bridge() -> None:
    """Install the bridge into :mod:`dspex.hooks` (dspy must already be importable)."""
    from ._bridge import install_bridge as install

    install()


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dspex.dspy_backend' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
