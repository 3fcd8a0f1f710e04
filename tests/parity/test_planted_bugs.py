"""The gate's power on bugs it once missed: each is planted in-process, one line of native source changed and
the module re-executed from that text (never committed), and the CI gate at a third of its budget
(``dspex parity --examples 333 --seed 20261125``) must report it.

Before the wrong-shape hunt (dspex/parity/_hunt.py) the CI gate needed 678 Predict examples for the first and
missed the bool-for-int bug at 1,000 examples a module.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import types
import weakref
from typing import Any, Literal

import pytest

from dspex.adapters import ChatAdapter

CI_SEED = 20261125
THIRD_OF_CI_BUDGET = 333

# name -> (module, the line as it is, the line as the bug has it,
#          (parser, text, annotation, DSPy's value, the bug's value)): the probe shows the plant is live.
PLANTS: dict[str, tuple[str, str, str, tuple[str, str, Any, Any, Any]]] = {
    "str | None answers no longer validated as DSPy validates them": (
        "dspex.adapters._coerce", "if type(None) in args and str in args:", "if False:",
        ("parse_value", "123", str | None, "123", "raises")),
    "int answered true: isinstance for type(...) is (ChatAdapter text)": (
        "dspex.adapters._coerce", "return candidate if type(candidate) is annotation else",
        "return candidate if isinstance(candidate, annotation) else", ("text_parser", "true", int, 1, True)),
    "int answered true: isinstance for type(...) is (any parsed value)": (
        "dspex.adapters._coerce", "if annotation in _EXACT and type(candidate) is annotation:",
        "if annotation in _EXACT and isinstance(candidate, annotation):", ("parse_value", "True", int, 1, True)),
    # Found by mutation testing (mutmut's ``_clean_literal__mutmut_31``): DSPy strips one pair of *quotes*.
    "Literal answer wrapped in any one character at both ends stripped (*yes* read as yes)": (
        "dspex.adapters._coerce", r"""if len(v) > 1 and v[0] == v[-1] and v[0] in "\"'":""",
        "if len(v) > 1 and v[0] == v[-1]:", ("parse_value", "*yes*", Literal["yes", "no"], "raises", "yes")),
}


def _planted(module_name: str, line: str, bug: str) -> dict[str, Any]:
    """The module's namespace as it is with ``line`` replaced by ``bug``."""
    module = importlib.import_module(module_name)
    source = inspect.getsource(module)
    assert source.count(line) == 1, f"{module_name} changed: plant {line!r} by hand"
    namespace: dict[str, Any] = {"__name__": module_name, "__package__": module.__package__,
                                 "__file__": module.__file__}
    exec(compile(source.replace(line, bug), module.__file__ or module_name, "exec"), namespace)  # noqa: S102
    return namespace


def _plant(monkeypatch: pytest.MonkeyPatch, module_name: str, line: str, bug: str) -> dict[str, Any]:
    """Swap every function of the module for its planted twin, wherever dspex imported it by name."""
    namespace = _planted(module_name, line, bug)
    module = sys.modules[module_name]
    swaps = {id(obj): namespace[name] for name, obj in vars(module).items()
             if isinstance(obj, types.FunctionType) and obj.__module__ == module_name}
    for other in [m for name, m in list(sys.modules.items()) if name.startswith("dspex.") and m is not None]:
        for attr, obj in list(vars(other).items()):
            if id(obj) in swaps:
                monkeypatch.setattr(other, attr, swaps[id(obj)])
    for adapter in [ChatAdapter, *ChatAdapter.__subclasses__()]:   # plans hold the parsers they were built with
        monkeypatch.setattr(adapter, "_plans", weakref.WeakKeyDictionary())
    # and Predict's input plans hold the round trip bound to the default ChatAdapter's plan (native/predict.py)
    monkeypatch.setattr(importlib.import_module("dspex.native._inputs"), "_PLANS", weakref.WeakKeyDictionary())
    return namespace


@pytest.mark.parametrize("name", list(PLANTS))
def test_ci_gate_catches_planted_bug_within_a_third_of_its_budget(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dspex.parity.runner import run_suite

    module_name, line, bug, (parser, text, annotation, dspy_value, bug_value) = PLANTS[name]

    def parse(namespace: Any) -> Any:
        return namespace.parse_value(text, annotation) if parser == "parse_value" else \
            namespace.text_parser(annotation)(text)

    def outcome(namespace: Any) -> Any:
        try:
            return parse(namespace)
        except Exception:   # noqa: BLE001 - which error is the gate's business; here only that one is raised
            return "raises"

    original = outcome(sys.modules[module_name])
    assert original == dspy_value and type(original) is type(dspy_value)
    planted = outcome(types.SimpleNamespace(**_plant(monkeypatch, module_name, line, bug)))
    assert planted == bug_value and type(planted) is type(bug_value)   # the plant is live: a bug to be found

    report = run_suite((), THIRD_OF_CI_BUDGET, CI_SEED, corpus_dir=os.devnull, shrink=False, fail_fast=True)

    failed = [m for m in report.modules.values() if m.status == "failed"]
    statuses = {m: (r.status, r.note, str(r.failure)[:300]) for m, r in report.modules.items()}   # (fail_fast: an error stops it too)
    assert failed, f"the CI gate at {THIRD_OF_CI_BUDGET} examples a module missed the planted bug: {name}; {statuses}"
    assert failed[0].failure["first_failing_example"] <= THIRD_OF_CI_BUDGET
    diff = failed[0].failure["diff"]   # a difference the plant makes: a value, an error, or a retry it skips
    assert any(f"[{aspect}]" in diff for aspect in ("result", "error", "calls")), diff
