"""User module types the parity suite proves: declared in ``[tool.dspex] parity_modules`` or an entry point.

A declaration names a factory (``"pkg.mod:factory"``) returning a :class:`ParityModule` (or a list of them): the
module type, how to build the DSPy and the native module, and Hypothesis strategies for inputs and LM scripts.
Importing the declaring module is also what registers the type (``dspex.register``), so the gate and ``dspex
status`` load declarations before they look a flag's module type up.
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from ..environment import find_pyproject
from ..errors import ConfigError

__all__ = ["ParityModule", "ENTRY_POINT_GROUP", "declared_modules", "find_pyproject"]

ENTRY_POINT_GROUP = "dspex.modules"


@dataclass(frozen=True)
class ParityModule:
    """How to prove one module type at parity.

    ``dspy_factory()`` / ``native_factory()`` build fresh modules; ``inputs`` is a Hypothesis strategy of input
    dicts and ``script`` one of LM scripts (a tuple of answers per LM call: each a list of completions, or a
    ``Raise``). ``run_pair_options`` go to :func:`dspex.parity.harness.run_pair` (``lm_options``, ``call_kwargs``,
    ``mode``, ``invoke`` ...).
    """

    module_type: str
    dspy_factory: Callable[[], Any]
    native_factory: Callable[[], Any]
    inputs: Any
    script: Any
    run_pair_options: dict[str, Any] = field(default_factory=dict)
    source: str = "user"


def _load(target: str, source: str) -> list[ParityModule]:
    module_name, _, attr = target.partition(":")
    if not attr:
        raise ConfigError(f"{source}: {target!r} must be 'package.module:factory'.")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:  # noqa: BLE001 - ImportError, AttributeError, or the module failing as it runs
        raise ConfigError(f"{source}: cannot load {target!r} ({type(exc).__name__}: {exc}); "
                          "fix the path or install the package that defines it.") from exc
    return _as_modules(obj, target, source)


def _as_modules(obj: Any, target: str, source: str) -> list[ParityModule]:
    if callable(obj) and not isinstance(obj, ParityModule):
        obj = obj()
    items = obj if isinstance(obj, (list, tuple)) else [obj]
    for item in items:
        if not isinstance(item, ParityModule):
            raise ConfigError(f"{source}: {target!r} returned {type(item).__name__}; return a "
                              "dspex.gate.ParityModule (or a list of them).")
    return [ParityModule(**{**item.__dict__, "source": source.split(" ")[0]}) for item in items]


def declared_modules(pyproject: Path | None | bool = True, errors: list[ConfigError] | None = None) -> list[ParityModule]:
    """Declarations from ``[tool.dspex] parity_modules`` (nearest pyproject.toml) and the entry point group.

    A declaration that cannot be loaded raises ConfigError; given an ``errors`` list, it is appended there and
    the other declarations still load (commands that must work whatever else is broken, like the kill switch).
    """
    found: list[ParityModule] = []

    def load(target: str, source: str) -> list[ParityModule]:
        try:
            return _load(target, source)
        except ConfigError as exc:
            if errors is None:
                raise
            errors.append(exc)
            return []

    path = find_pyproject() if pyproject is True else (pyproject or None)
    if path is not None:
        try:
            section = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("tool", {}).get("dspex", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"Cannot read {path}: {exc}.") from exc
        targets = section.get("parity_modules", []) if isinstance(section, dict) else []
        if isinstance(targets, str) or not isinstance(targets, list):
            raise ConfigError(f"[tool.dspex] parity_modules in {path} must be a list of 'package.module:factory'.")
        for target in targets:
            found += load(str(target), f"pyproject [tool.dspex] parity_modules in {path}")
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found += load(ep.value, f"entry_point {ENTRY_POINT_GROUP}:{ep.name}")
    return found
