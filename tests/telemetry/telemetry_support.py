"""Helpers for the telemetry tests: an LM server reply in Predict's format, flag files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dspex.lm.testing import last_user_message

VARIANTS = {"native": "native", "dspy": "dspy", "shadow": "shadow"}


def answer(request: dict[str, Any]) -> str:
    """Predict/ChainOfThought-shaped answer echoing the question (the last user message's first field)."""
    text = last_user_message(request)
    question = text.split("\n", 2)[1] if text.startswith("[[ ## ") else text
    return f"[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\nA:{question}\n\n[[ ## completed ## ]]"


def write_flags(path: Path, flags: dict[str, Any]) -> str:
    path.write_text(json.dumps({"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": flags}))
    return str(path)
