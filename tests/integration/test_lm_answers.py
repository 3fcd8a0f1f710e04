"""dspex.LM reads the answers real OpenAI-compatible servers send as dspy.LM reads them (the installed dspy is the
reference: both LMs ask the same test server on 127.0.0.1 and must return the same outputs)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import dspy
import pytest

import dspex.lm._retry as retry_mod
from dspex import native
from dspex.errors import ContextWindowExceededError, LMRateLimitError, LMServerError
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer, Reply, chat_completion

ANSWER = "[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"
TOOL_CALLS = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]


def _body(content: Any = ANSWER, choices: Any = None, **message: Any) -> dict[str, Any]:
    body = chat_completion(["x"])
    body["choices"][0]["message"] = {"role": "assistant", "content": content, **message}
    if choices is not None:
        body["choices"] = choices
    return body


ANSWERS = {
    "no choices": _body(choices=[]),                          # a content filter dropped the completion
    "content parts": _body([{"type": "text", "text": ANSWER[:10]}, {"type": "text", "text": ANSWER[10:]}]),
    "parts and an image": _body([{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "u"}}]),
    "null content": _body(None),
    "null content and tool calls": _body(None, tool_calls=TOOL_CALLS),
    "empty content": _body(""),
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_outputs_are_dspys(case: str) -> None:
    with OpenAICompatServer(lambda r: ANSWERS[case]) as s:
        theirs = dspy.LM("openai/test", api_base=s.api_base, api_key="k", cache=False)("hi")
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        assert lm("hi") == theirs   # was [], a raw list of parts, [None]
        assert asyncio.run(lm.acall("hi")) == theirs


def test_a_module_fails_loudly_on_no_choices_and_reads_content_parts() -> None:
    with OpenAICompatServer(lambda r: ANSWERS["no choices"]) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        with pytest.raises(Exception, match="empty or null"):   # was a Prediction with no fields, no error
            native.Predict("question -> answer")(question="q", lm=lm)
    with OpenAICompatServer(lambda r: ANSWERS["content parts"]) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        assert native.Predict("question -> answer")(question="q", lm=lm).answer == "ok"   # was AttributeError


@pytest.mark.parametrize("lane", ["sync", "async"])
def test_an_error_in_a_200_is_the_servers_message_and_retried(lane: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_mod, "MAX_BACKOFF_S", 0.001)
    cases = [({"error": {"message": "bad thing", "code": 502}}, LMServerError, 3),
             ({"error": "plain words"}, LMServerError, 3),
             ({"error": {"message": "slow", "code": "rate_limit_exceeded"}}, LMRateLimitError, 3),
             ({"error": {"message": "too long", "code": "context_length_exceeded"}}, ContextWindowExceededError, 1)]
    for body, cls, requests in cases:
        with OpenAICompatServer(lambda r, b=body: b) as s:
            lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False, num_retries=2)
            with pytest.raises(cls) as info:   # was LMError "answered without a 'choices' list", the message lost
                asyncio.run(lm.acall("x")) if lane == "async" else lm("x")
            said = body["error"]["message"] if isinstance(body["error"], dict) else body["error"]
            assert said in str(info.value) and len(s.requests) == requests
    script = iter([Reply(200, {"error": {"message": "blip"}}), "fine"])
    with OpenAICompatServer(lambda r: next(script)) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False, num_retries=2)
        assert (asyncio.run(lm.acall("x")) if lane == "async" else lm("x")) == ["fine"]


def test_a_truncated_answer_warns_as_dspy_does(caplog: pytest.LogCaptureFixture) -> None:
    body = chat_completion(["cut"])
    body["choices"][0]["finish_reason"] = "length"
    with OpenAICompatServer(lambda r: body) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k")
        with caplog.at_level(logging.WARNING, logger="dspex.lm"):
            assert lm("x") == ["cut"]
            lm("x")   # a cache hit: dspy.LM does not warn again either
        warnings = [r.getMessage() for r in caplog.records if r.name == "dspex.lm"]
        assert warnings == ["LM response was truncated; increase max_tokens or inspect history."]
    with OpenAICompatServer(lambda r: "whole") as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k")
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="dspex.lm"):
            assert lm("y") == ["whole"] and lm("y", stream=True, cache=False) == ["whole"]
        assert [r for r in caplog.records if r.name == "dspex.lm"] == []   # finish_reason "stop": no word


@pytest.mark.parametrize("lane", ["sync", "async"])
def test_a_stream_answered_with_one_plain_json_completion_is_read(lane: str) -> None:
    body = _body("hello", tool_calls=TOOL_CALLS + [{**TOOL_CALLS[0], "id": "c2"}])
    plain = _body([{"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}])
    with OpenAICompatServer(lambda r: body if "tools" in str(r["messages"]) else plain) as s:   # ignores "stream"
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)

        def call(prompt: str) -> Any:
            return asyncio.run(lm.acall(prompt, stream=True)) if lane == "async" else lm(prompt, stream=True)

        assert call("hi") == ["hello"] and s.requests[-1]["stream"] is True   # was [], silently
        assert lm.history[-1]["usage"]["total_tokens"] == 2
        out = call("tools")
        assert out[0]["text"] == "hello" and out[0]["tool_calls"] == body["choices"][0]["message"]["tool_calls"]
        if lane == "sync":
            chunks = list(lm.stream("hi"))
            assert len(chunks) == 1 and chunks[0]["choices"][0]["delta"]["content"] == "hello"


def test_a_stream_answered_with_an_error_or_garbage_says_so() -> None:
    from dspex.errors import LMResponseError

    with OpenAICompatServer(lambda r: {"error": {"message": "bad thing"}}) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        with pytest.raises(LMServerError, match="bad thing"):
            lm("hi", stream=True)
    with OpenAICompatServer(lambda r: Reply(200, "<html>oops</html>", {"Content-Type": "text/html"})) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        with pytest.raises(LMResponseError, match="neither server-sent events nor JSON"):
            lm("hi", stream=True)
