"""Shadow-mode fixtures: a fresh shadow runtime per test, writing to a temporary log."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import dspex.shadow as shadow
from dspex.shadow import ShadowSettings
from shadow_support import ScriptedLM


@pytest.fixture
def log_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "logs" / "divergences.jsonl"
    shadow.reset(ShadowSettings(log_path=str(path), timeout_s=5.0))
    yield path
    shadow.reset()


@pytest.fixture
def lm() -> ScriptedLM:
    return ScriptedLM()
