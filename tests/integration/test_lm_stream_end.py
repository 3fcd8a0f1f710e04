"""A streamed answer that ends without a finish reason: dspy.LM 3.4.1 raises on its LiteLLM side (LiteLLM's
"Stream ended before a finish_reason was received", as DSPy's ``LMServerError``, one request, no history entry)
and reads it as it came on its lm15 side. dspex.LM does the same, with ``dspex.errors.LMServerError``.
Both clients stream through ``dspy.streamify`` against the same loopback server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import dspy
import pytest

import dspex.errors
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer, Reply

ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"


def _events(finish: str | None, done: bool) -> Reply:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ANSWER[:12]},
                                    "finish_reason": None}]},
              {**base, "choices": [{"index": 0, "delta": {"content": ANSWER[12:]}, "finish_reason": finish}]},
              {**base, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}]
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + ("data: [DONE]\n\n" if done else "")
    return Reply(200, body, {"Content-Type": "text/event-stream"})


def _streamed(lm: Any) -> Any:
    async def run() -> Any:
        program = dspy.streamify(dspy.Predict("question -> answer"))
        last = None
        with dspy.context(lm=lm):
            async for value in program(question="q"):
                last = value
        return last.answer

    try:
        return asyncio.run(run())
    except Exception as exc:   # noqa: BLE001 - the outcome compared
        return exc


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "hosted_vllm/m", "custom_openai/m"])
@pytest.mark.parametrize("finish,done", [(None, True), (None, False), ("stop", True)],
                         ids=["no finish reason", "no finish reason, no [DONE]", "finished"])
def test_a_stream_without_a_finish_reason_ends_as_in_dspy(model: str, finish: str | None, done: bool) -> None:
    seen = []
    with OpenAICompatServer(lambda request: _events(finish, done)) as s:
        for cls in (dspy.LM, LM):
            s.requests.clear()
            lm = cls(model, api_base=s.api_base, api_key="k", cache=False, num_retries=3)
            seen.append((_streamed(lm), len(s.requests), len(lm.history)))
    (theirs, their_requests, their_history), (ours, our_requests, our_history) = seen
    assert (our_requests, our_history) == (their_requests, their_history)
    if isinstance(theirs, Exception):
        assert type(ours).__name__ == type(theirs).__name__ == "LMServerError"
        assert isinstance(ours, dspex.errors.LMServerError) and "finish_reason" in str(ours)
    else:
        assert ours == theirs == "Paris"


@pytest.mark.parametrize("lane", ["sync", "async"])
def test_dspex_streams_end_alike_on_their_own(lane: str) -> None:
    """``lm.stream`` / ``lm.astream`` / ``lm(..., stream=True)``: the same rule as under ``dspy.streamify``."""
    with OpenAICompatServer(lambda request: _events(None, True)) as s:
        for model, fails in (("custom_openai/m", True), ("openai/gpt-4o-mini", False)):
            lm = LM(model, api_base=s.api_base, api_key="k", cache=False)

            async def astream() -> list[Any]:
                return [c async for c in lm.astream("q")]

            for call in ((lambda: list(lm.stream("q"))) if lane == "sync" else (lambda: asyncio.run(astream())),
                         lambda: lm("q", stream=True)):
                if fails:
                    with pytest.raises(dspex.errors.LMServerError, match="finish_reason"):
                        call()
                else:
                    assert call()
            assert len(lm.history) == (0 if fails else 2)
