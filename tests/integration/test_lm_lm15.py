"""DSPy 3.4's typed LM call, ``lm(dspy.lm15.Request(...)) -> lm15.Response``, answered by dspex.LM over HTTP.

Proof by DSPy's own code: the chat body dspex.LM sends, read back by lm15's ``request_from_openai_chat``, is the
Request it was given; and the Response it returns equals what lm15's ``response_from_openai_chat`` builds from
the same server answer (the fields a caller reads).
"""

from __future__ import annotations

from typing import Any

import dspy
import pytest
from dspy import lm15
from dspy._vendor.lm15.providers.openai_chat import request_from_openai_chat, response_from_openai_chat

from dspex.errors import LMError
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer, chat_completion, echo_reply

TOOL = lm15.FunctionTool(name="lookup", description="find a city",
                         parameters={"type": "object", "properties": {"q": {"type": "string"}}})
REQUESTS = [
    lm15.Request(model="openai/test", messages=(lm15.Message.user("hello"),)),
    lm15.Request(model="openai/test", messages=(lm15.Message.user("hi"), lm15.Message.assistant("yes?"),
                                                lm15.Message.user("capital of France")),
                 system="be brief", config=lm15.Config(temperature=0.3, max_tokens=20, stop=("END",), seed=7)),
    lm15.Request(model="openai/test", messages=(lm15.Message.user("look it up"),), tools=(TOOL,),
                 config=lm15.Config(tool_choice=lm15.ToolChoice(mode="required", allowed=("lookup",)))),
    lm15.Request(model="openai/test", messages=(lm15.Message.user([lm15.TextPart(text="what is this"),
                                                                   lm15.ImagePart(url="https://example.org/a.png")]),)),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=range(len(REQUESTS)))
def test_request_round_trips_through_lm15s_own_reader(request_: Any) -> None:
    with OpenAICompatServer(lambda r: "answer") as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        response = lm(request_)
        body = s.requests[-1]
    assert request_from_openai_chat({**body, "model": "openai/test"}) == request_
    assert isinstance(response, lm15.Response) and response.text == "answer"
    assert lm.history[-1]["request"] is request_ and lm.history[-1]["outputs"] == ["answer"]


def test_response_matches_lm15s_reading_of_the_same_answer() -> None:
    answers = [
        chat_completion(["plain text"]),
        {**chat_completion([""]), "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\": \"Paris\"}"}}]}}]},
        {**chat_completion(["cut"]), "choices": [{"index": 0, "finish_reason": "length",
                                                  "message": {"role": "assistant", "content": "cut"}}]},
    ]
    for answer in answers:
        with OpenAICompatServer(lambda r, a=answer: a) as s:
            ours = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)(REQUESTS[2])
        theirs = response_from_openai_chat(answer, model="test")
        assert (ours.text, ours.finish_reason, ours.usage, ours.model, ours.id) == \
               (theirs.text, theirs.finish_reason, theirs.usage, theirs.model, theirs.id)
        assert [(c.id, c.name, c.input) for c in ours.tool_calls] == [(c.id, c.name, c.input) for c in theirs.tool_calls]


def test_requests_it_cannot_send_faithfully_are_refused() -> None:
    lm = LM("openai/test", api_base="http://127.0.0.1:9/v1", api_key="k")
    with pytest.raises(LMError, match="Config.top_k"):
        lm(lm15.Request(model="openai/test", messages=(lm15.Message.user("x"),), config=lm15.Config(top_k=3)))
    with pytest.raises(ValueError, match="must match"):
        lm(lm15.Request(model="openai/other", messages=(lm15.Message.user("x"),)))
    with pytest.raises(ValueError, match="Request's config"):
        lm(lm15.Request(model="openai/test", messages=(lm15.Message.user("x"),)), temperature=0.1)


def test_both_forms_inside_dspy_and_in_dspys_history() -> None:
    with OpenAICompatServer(lambda r: "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"
                            if r["messages"][0]["role"] == "system" else echo_reply(r)) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        assert isinstance(lm, dspy.BaseLM)
        with dspy.context(lm=lm):
            pred = dspy.Predict("question -> answer")(question="q")   # DSPy's adapter: the messages= form
        assert pred.answer == "Paris"
        typed = lm(lm15.Request(model="openai/test", messages=(lm15.Message.user("typed"),)))
        assert typed.text == "typed"
        assert lm.history[-1]["request"].messages[0].parts[0].text == "typed"
