"""Integration tests talk to loopback servers only.

``dspy.LM`` 3.4.1 refreshes its model metadata from raw.githubusercontent.com (5 s timeout) the first time a
capability is read; ``LITELLM_LOCAL_MODEL_COST_MAP=true`` makes it use the bundled snapshot instead. It is set
at collection, before any test can create a ``dspy.LM``.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "true")
