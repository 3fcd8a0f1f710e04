"""A pytest plugin that points DSPy's own unit tests at dspex: ``dspy.Predict``, ``ChainOfThought``, ``ReAct``,
``ReActV2``, ``MultiChainComparison``, ``BestOfN``, ``Refine`` and ``Parallel`` (the names tests import from ``dspy``)
become the routed ``dspex`` classes, on the route given by ``DSPY_SUITE_ROUTE``
(``native``, ``dspy`` or ``shadow``). Each test's outcome, and whether it built a dspex module at all, is written
as JSON lines to ``DSPY_SUITE_OUT``. Loaded by ``tools/dspy_suite/run.py``; not part of the dspex package.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

_built = {"count": 0}
# The DSPy classes replaced by their routed dspex twins (module types with a native implementation).
ROUTED = ("Predict", "ChainOfThought", "ReAct", "ReActV2", "MultiChainComparison", "BestOfN", "Refine", "Parallel")


def pytest_configure(config: Any) -> None:
    import dspy

    import dspex
    from dspex import registry
    from dspex.router import RoutedModule

    # Resolve DSPy's own classes first: the routed classes extend them, and must not extend themselves.
    for name in ROUTED:
        registry.resolve(f"dspy:{name}")
    original_init = RoutedModule.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        _built["count"] += 1
        original_init(self, *args, **kwargs)

    RoutedModule.__init__ = counting_init  # type: ignore[method-assign]
    for name in ROUTED:
        setattr(dspy, name, getattr(dspex, name))


@pytest.fixture(autouse=True)
def _dspex_route(tmp_path: Any) -> Any:
    import dspex
    import dspex.router

    route = os.environ.get("DSPY_SUITE_ROUTE", "native")
    dspex.router.reset()
    shadow = {"log_path": str(tmp_path / "dspex-shadow")}
    if route == "native":
        # Native wherever it can serve the call (a signature with types native lacks goes to DSPy, as in
        # production), and no fallback: a native failure shows as the failure it is, not as DSPy answering.
        dspex.configure(implementation_preference="native_first", allow_fallback=False, shadow=shadow)
    else:
        types = ("predict", "chain_of_thought", "react", "react_v2", "multi_chain_comparison", "best_of_n", "refine",
                 "parallel")
        dspex.configure(module_overrides={t: route for t in types}, shadow=shadow)
    yield
    dspex.shutdown(timeout=5)
    dspex.router.reset()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> Any:
    before = _built["count"]
    outcomes: list[str] = []
    item._dspex_outcomes = outcomes  # type: ignore[attr-defined]
    yield
    out = os.environ.get("DSPY_SUITE_OUT")
    if out:
        failed = "failed" in outcomes
        outcome = "failed" if failed else ("skipped" if "skipped" in outcomes else "passed")
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"test": item.nodeid, "outcome": outcome, "dspex": _built["count"] > before}) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    report = (yield).get_result()
    outcomes = getattr(item, "_dspex_outcomes", None)
    if outcomes is not None and (report.when == "call" or report.outcome != "passed"):
        outcomes.append(report.outcome)
