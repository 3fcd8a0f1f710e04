"""Telemetry tests: a clean router per test, a loopback LM server answering Predict's format, metrics reset."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

import dspex
import dspex.metrics
import dspex.router
import dspex.shadow
from dspex.lm.testing import OpenAICompatServer
from telemetry_support import answer


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("DSPEX_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    dspex.router.reset()
    dspex.shadow.reset()   # shadow's counters are process-wide: an earlier test's comparisons would count here
    dspex.metrics.reset()
    yield
    dspex.router.reset()
    while dspex.metrics.enabled():
        dspex.metrics.disable()
    dspex.metrics.reset()


@pytest.fixture
def server() -> Iterator[OpenAICompatServer]:
    with OpenAICompatServer(answer) as s:
        yield s


@pytest.fixture
def lm(server: OpenAICompatServer) -> Any:
    return dspex.LM("openai/test", api_base=server.api_base, api_key="k", cache=False)
