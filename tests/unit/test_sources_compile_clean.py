"""Every source file compiles without a warning.

A compile-time warning (an invalid escape sequence in a docstring, say) fires once, on the first import of a fresh
install, inside whatever call imports the module first: the parity gate then sees a warning on native's side
that DSPy's side did not have. A warm ``__pycache__`` hides it locally, so check the sources directly.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for folder in ("dspex", "benchmarks", "tests") for p in (ROOT / folder).rglob("*.py"))


def test_there_are_sources_to_check() -> None:
    assert len(SOURCES) > 50


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_source_compiles_without_warnings(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
