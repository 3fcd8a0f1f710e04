"""dspex.LM records usage as dspy.LM 3.4.1 does: both clients call the same loopback server, and the usage dicts
of their history entries, of ``dspy.track_usage()`` (entries and totals) and of a prediction's ``get_lm_usage()``
must be equal, keys included (DSPy's ``prompt_tokens_details`` / ``completion_tokens_details``, None when the server
sent none; on the LiteLLM side litellm's detail fields and every extra key the server sent).
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from typing import Any, Callable

import dspy
import pytest

import dspex.native as native
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer, chat_completion

ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"
BASE = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}

USAGES: dict[str, Any] = {
    "counts only": BASE,
    "no usage": None,
    "no total": {"prompt_tokens": 10, "completion_tokens": 2},
    "cached and reasoning tokens": {**BASE, "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
                                    "completion_tokens_details": {"reasoning_tokens": 1, "audio_tokens": 0,
                                                                  "accepted_prediction_tokens": 0,
                                                                  "rejected_prediction_tokens": 0}},
    "empty details": {**BASE, "prompt_tokens_details": {}, "completion_tokens_details": None},
    "cache writes": {**BASE, "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 3}},
    "gateway cost": {**BASE, "cost": 0.001, "is_byok": False, "cost_details": {"upstream_inference_cost": 0.002}},
    "whole floats": {"prompt_tokens": 10.0, "completion_tokens": 2.0, "total_tokens": 12.0},
    "deepseek cache counts": {**BASE, "prompt_cache_hit_tokens": 6, "prompt_cache_miss_tokens": 4},
}
# lm15 side (openai/, hosted_vllm/, a bare gpt-* name) and LiteLLM side (custom_openai/, or openai/ with headers)
SIDES = {
    "openai": ("openai/gpt-4o-mini", {}),
    "vllm": ("hosted_vllm/m", {}),
    "bare gpt": ("gpt-4o-mini", {}),
    "custom_openai": ("custom_openai/m", {}),
    "openai via LiteLLM": ("openai/gpt-4o-mini", {"extra_headers": {"X-Test": "1"}}),
}


def _server(usage: Any) -> OpenAICompatServer:
    def reply(request: dict[str, Any]) -> dict[str, Any]:
        body = chat_completion([ANSWER] * (request.get("n") or 1), request.get("model", "test"))
        if usage is None:
            body.pop("usage")
        else:
            body["usage"] = copy.deepcopy(usage)
        return body

    return OpenAICompatServer(reply)


def _both(usage: Any, model: str, calls: Callable[[Any], None]) -> list[tuple[list[Any], dict[str, Any], Any]]:
    """For dspy.LM, then dspex.LM: (each history entry's usage, tracker entries, tracker totals)."""
    seen = []
    with _server(usage) as server:
        for cls in (dspy.LM, LM):
            lm = cls(model, api_base=server.api_base, api_key="k", cache=False)
            with dspy.track_usage() as tracker:
                calls(lm)
            seen.append(([entry["usage"] for entry in lm.history], dict(tracker.usage_data),
                         tracker.get_total_tokens()))
    return seen


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("usage", USAGES)
def test_usage_entries_and_totals_are_dspys(usage: str, side: str) -> None:
    model, kwargs = SIDES[side]

    def calls(lm: Any) -> None:
        lm("q", **kwargs)
        lm("q2", n=2, **kwargs)   # n requests on the lm15 side, one carrying n on the LiteLLM side
        asyncio.run(lm.acall("q3", **kwargs))

    theirs, ours = _both(USAGES[usage], model, calls)
    assert ours[0] == theirs[0]   # history entries
    assert ours[1] == theirs[1]   # what dspy.track_usage() recorded, entry by entry
    assert ours[2] == theirs[2]   # and its sums


@pytest.mark.parametrize("usage", ["counts only", "cached and reasoning tokens", "no usage"])
@pytest.mark.parametrize("side", ["openai", "custom_openai"])
def test_a_predictions_lm_usage_is_dspys(usage: str, side: str) -> None:
    model, _ = SIDES[side]
    seen = []
    with _server(USAGES[usage]) as server:
        for cls in (dspy.LM, LM):
            lm = cls(model, api_base=server.api_base, api_key="k", cache=False)
            with dspy.context(lm=lm, track_usage=True):
                pred = dspy.Predict("question -> answer", n=2)(question="q")
            usage_by_lm = pred.get_lm_usage()
            seen.append(usage_by_lm)
    assert seen[1] == seen[0]


def test_native_prediction_and_dspy_side_record_the_same_entry() -> None:
    """A native module's call lands in DSPy's tracker with the usage DSPy would have recorded."""
    seen = []
    with _server(USAGES["cached and reasoning tokens"]) as server:
        for cls, module in ((dspy.LM, dspy.Predict), (LM, native.Predict)):
            lm = cls("openai/gpt-4o-mini", api_base=server.api_base, api_key="k", cache=False)
            with dspy.track_usage() as tracker:
                module("question -> answer")(question="q", lm=lm)
            seen.append(tracker.get_total_tokens())
    assert seen[1] == seen[0]


def test_a_cache_hit_records_no_usage_as_dspy(monkeypatch: pytest.MonkeyPatch) -> None:
    from dspy.clients.cache import Cache

    # a DSPy cache of its own: another test may have turned DSPy's off in this process
    monkeypatch.setattr(dspy, "cache", Cache(enable_disk_cache=False, enable_memory_cache=True, disk_cache_dir=None))
    seen = []
    prompt = f"a question asked twice {uuid.uuid4()}"
    with _server(BASE) as server:
        for cls in (dspy.LM, LM):
            lm = cls("openai/gpt-4o-mini", api_base=server.api_base, api_key="k", cache=True)
            with dspy.track_usage() as tracker:
                lm(prompt)
                lm(prompt)
            seen.append(([e["usage"] for e in lm.history], tracker.get_total_tokens()))
    assert seen[1] == seen[0]
