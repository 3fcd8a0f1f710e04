"""The baseline half of ``run.py``: records each DSPy test's outcome on real DSPy, with no dspex in the way."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> Any:
    outcomes: list[str] = []
    item._dspex_outcomes = outcomes  # type: ignore[attr-defined]
    yield
    out = os.environ.get("DSPY_SUITE_OUT")
    if out:
        outcome = "failed" if "failed" in outcomes else ("skipped" if "skipped" in outcomes else "passed")
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"test": item.nodeid, "outcome": outcome, "dspex": False}) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    report = (yield).get_result()
    outcomes = getattr(item, "_dspex_outcomes", None)
    if outcomes is not None and (report.when == "call" or report.outcome != "passed"):
        outcomes.append(report.outcome)
