"""dspex.LM inside ``dspy.streamify``: DSPy's streaming convention (chunks to ``settings.send_stream``, tagged with
the calling predictor), on the DSPy route and, where it can be honoured, on the native route."""

from __future__ import annotations

import asyncio
from typing import Any

import dspy

import dspex
from dspex.lm.testing import OpenAICompatServer

ANSWER = "[[ ## answer ## ]]\nParis is the capital\n\n[[ ## completed ## ]]"


def _run(program: Any, lm: Any) -> list[Any]:
    async def collect() -> list[Any]:
        out = []
        with dspy.context(lm=lm):
            async for value in program(question="q"):
                out.append(value)
        return out

    return asyncio.run(collect())


def test_stream_listeners_get_the_field_on_the_dspy_route() -> None:
    with OpenAICompatServer(lambda r: ANSWER) as s:
        lm = dspex.LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        module = dspex.Predict("question -> answer", implementation="dspy")
        listener = dspy.streaming.StreamListener(signature_field_name="answer")
        out = _run(dspy.streamify(module, stream_listeners=[listener]), lm)
    pieces = [o.chunk for o in out if isinstance(o, dspy.streaming.StreamResponse)]
    assert "".join(pieces) == "Paris is the capital" and len(pieces) > 2
    assert isinstance(out[-1], dspy.Prediction) and out[-1].answer == "Paris is the capital"
    assert s.requests[-1]["stream"] is True


def test_native_route_streams_raw_chunks_and_never_loses_the_prediction() -> None:
    with OpenAICompatServer(lambda r: ANSWER) as s:
        lm = dspex.LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        module = dspex.Predict("question -> answer", implementation="native")
        raw = _run(dspy.streamify(module), lm)
        text = "".join(c.choices[0].delta.content or "" for c in raw if not isinstance(c, dspy.Prediction))
        assert text == ANSWER and raw[-1].answer == "Paris is the capital"
        # With listeners (keyed by DSPy predictor) a native call cannot be attributed: not streamed, still answered.
        listener = dspy.streaming.StreamListener(signature_field_name="answer")
        out = _run(dspy.streamify(module, stream_listeners=[listener]), lm)
        assert [type(o).__name__ for o in out] == ["Prediction"] and out[0].answer == "Paris is the capital"
