"""What an OpenAI model family supports, as ``dspy.LM`` 3.4.1 reports it offline (its bundled metadata).

Adapters read ``supported_params`` / ``supports_response_schema`` to decide how to ask for JSON; mirroring
DSPy's answers keeps a native module's LM calls identical to DSPy's for the same model string. Unknown models
get the base chat parameters only, which is also what ``dspy.LM`` reports for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ModelInfo", "model_info", "is_reasoning_model"]

_BASE_PARAMS = frozenset({"temperature", "max_tokens", "top_p", "stream", "stop", "max_completion_tokens", "logprobs",
                          "top_logprobs", "seed", "presence_penalty", "frequency_penalty", "logit_bias", "user"})
_TOOL_PARAMS = frozenset({"tools", "tool_choice", "parallel_tool_calls", "response_format"})
_REASONING = re.compile(r"^(?:o[1345](?:-(?:mini|nano|pro))?(?:-\d{4}-\d{2}-\d{2})?|gpt-5(?:\.\d+)*(?!-chat)(?:-.*)?)$")
_RESPONSE_SCHEMA = re.compile(r"^(?:gpt-4o(?!-audio|-realtime)|gpt-4\.1|gpt-5|o1(?!-mini|-preview)|o3|o4)")
_FUNCTION_CALLING = re.compile(r"^(?:gpt-4(?!o-audio|o-realtime)|gpt-3\.5-turbo|gpt-5|o1(?!-mini|-preview)|o3|o4)")


@dataclass(frozen=True)
class ModelInfo:
    reasoning: bool
    response_schema: bool
    function_calling: bool
    params: frozenset[str]


def is_reasoning_model(family: str) -> bool:
    """OpenAI's reasoning families (o1/o3/o4/o5, gpt-5*): ``max_completion_tokens`` and temperature 1.0 only."""
    return _REASONING.match(family.lower()) is not None


def model_info(family: str) -> ModelInfo:
    """Capabilities of a model id without its provider prefix (``gpt-4o-mini``)."""
    family = family.lower()
    reasoning = is_reasoning_model(family)
    tools = _FUNCTION_CALLING.match(family) is not None
    params = set(_BASE_PARAMS)
    if tools:
        params |= _TOOL_PARAMS
    if reasoning:
        params.add("reasoning_effort")
    return ModelInfo(reasoning, _RESPONSE_SCHEMA.match(family) is not None, tools, frozenset(params))
