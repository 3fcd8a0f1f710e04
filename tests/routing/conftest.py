"""Fixtures for the router tests: a clean router per test, an echo LM, a flag file in tmp_path, telemetry capture."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import pytest

import dspex
import dspex.router
from dspex import telemetry
from routing_helpers import EchoLM, FlagFile


@pytest.fixture
def flagfile(tmp_path: Path) -> FlagFile:
    return FlagFile(tmp_path / "test.flagd.json")


@pytest.fixture
def lm() -> EchoLM:
    return EchoLM()


@pytest.fixture(autouse=True)
def clean_router(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Each test starts with no settings, no flag source, no DSPEX_* env and a cwd without [tool.dspex]."""
    for name in list(os.environ):
        if name.startswith("DSPEX_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    dspex.router.reset()
    yield
    dspex.router.reset()


@pytest.fixture
def events() -> Any:
    """Collect telemetry events: ``events(name)`` subscribes and returns the list it fills."""
    detachers: list[Callable[[], None]] = []

    def subscribe(name: str) -> list[tuple[str, dict, dict]]:
        seen: list[tuple[str, dict, dict]] = []
        detachers.append(telemetry.attach(name, lambda e, m, md: seen.append((e, dict(m), dict(md)))))
        return seen

    yield subscribe
    for d in detachers:
        d()


