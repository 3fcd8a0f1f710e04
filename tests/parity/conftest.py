"""Hypothesis profiles for the parity suite.

``dev`` (default) is small, for iterating; ``ci`` runs hundreds of examples per property so the whole parity run
covers thousands of generated cases across Predict and ChainOfThought in a few minutes. Choose one with
``DSPEX_PARITY_PROFILE=ci`` (or ``HYPOTHESIS_PROFILE=ci``). Profiles are registered here, not in the shared
``tests/conftest.py``, and loaded at collection, after Hypothesis' own pytest plugin has configured itself.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_COMMON = dict(
    deadline=None,
    # No "explain" phase: on a failure it re-runs the test for minutes to annotate lines; the shrunk case and
    # the harness's diff already say what differs.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("dev", max_examples=int(os.environ.get("DSPEX_PARITY_EXAMPLES", "30")), **_COMMON)
settings.register_profile("ci", max_examples=int(os.environ.get("DSPEX_PARITY_EXAMPLES", "400")), **_COMMON)
settings.load_profile(os.environ.get("DSPEX_PARITY_PROFILE") or os.environ.get("HYPOTHESIS_PROFILE") or "dev")
