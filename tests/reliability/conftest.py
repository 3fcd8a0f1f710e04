"""Reliability tests: a clean router and shadow runtime per test, an echo LM, telemetry capture."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import pytest

import dspex
import dspex.router
import dspex.shadow
from dspex import telemetry
from reliability_support import EchoLM


@pytest.fixture
def lm() -> EchoLM:
    return EchoLM()


@pytest.fixture(autouse=True)
def clean_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """No settings, no flag source, no DSPEX_* env, a cwd without [tool.dspex], shadow logs in tmp_path."""
    for name in list(os.environ):
        if name.startswith("DSPEX_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    dspex.router.reset()
    dspex.shadow.reset()
    yield
    dspex.router.reset()
    dspex.shadow.reset()


@pytest.fixture
def events() -> Any:
    """``events(name)`` subscribes to a telemetry event and returns the list it fills."""
    detachers: list[Callable[[], None]] = []

    def subscribe(name: str) -> list[tuple[str, dict, dict]]:
        seen: list[tuple[str, dict, dict]] = []
        detachers.append(telemetry.attach(name, lambda e, m, md: seen.append((e, dict(m), dict(md)))))
        return seen

    yield subscribe
    for d in detachers:
        d()
