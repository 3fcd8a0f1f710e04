"""Red-team differential tests: dspex.native against the real DSPy 3.4.1, with generators of their own.

Every test here is marked ``differential`` and runs in the normal suite. Example counts are small by default
(the folder stays under about two minutes); ``HYPOTHESIS_PROFILE=ci`` raises them (see ``diff_support.examples``).
Profiles are not registered or loaded here: Hypothesis profiles are global and the parity suite owns its own.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "differential: red-team differential tests against the pinned real DSPy")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "tests/differential/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.differential)
