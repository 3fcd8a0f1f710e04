"""Suite-wide settings: no test may reach the internet, so DSPy/LiteLLM use their bundled model metadata."""

from __future__ import annotations

import os

# dspy.LM refreshes model metadata over the network on first use; the bundled snapshot is what tests want.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "true")
