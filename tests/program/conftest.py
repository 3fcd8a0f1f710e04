"""Program-level tests: whole DSPy programs built with dspy modules (P) and with dspex modules (P'), on every route.

Each test starts with a clean router, no DSPEX_* env, a scratch cwd, DSPy's settings as a fresh program has them
(``dspy.configure`` with the scripted LM, no adapter, no callbacks) and a shadow log in tmp_path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dspy
import pytest

import dspex
import dspex.router
from program_support import FieldLM, route_to

ROUTES = ("native", "dspy", "shadow", "fractional")


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    for name in list(os.environ):
        if name.startswith("DSPEX_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    dspex.router.reset()
    dspex.shadow.reset()
    dspex.native.settings.configure(lm=None)
    dspy.configure(lm=FieldLM(), adapter=None, callbacks=[], track_usage=False)
    yield
    dspex.shutdown(timeout=5)
    dspex.router.reset()
    dspex.native.settings.configure(lm=None)
    dspy.configure(lm=None, adapter=None, callbacks=[], track_usage=False)


@pytest.fixture(params=ROUTES)
def route(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    route_to(request.param, tmp_path)
    return request.param


@pytest.fixture
def events() -> Any:
    """Collect telemetry events: ``events(name)`` subscribes and returns the list it fills."""
    from dspex import telemetry

    detachers: list[Any] = []

    def subscribe(name: str) -> list[tuple[str, dict, dict]]:
        seen: list[tuple[str, dict, dict]] = []
        detachers.append(telemetry.attach(name, lambda e, m, md: seen.append((e, dict(m), dict(md)))))
        return seen

    yield subscribe
    for detach in detachers:
        detach()
