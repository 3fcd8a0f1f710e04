"""dspex.LM sends the requests dspy.LM 3.4.1 sends: both clients call the same loopback server side by side and
the request bodies, their number, the outputs and the history entries are compared.

dspy.LM's default engine sends an ``openai/`` / ``hosted_vllm/`` call through lm15 (one request per completion,
no ``n``, the token limit under the server's field name, values rebuilt) unless a key or value sends it through
LiteLLM (one request carrying ``n``); see dspex/lm/_dialect.py. A server that ignores ``n`` (many
OpenAI-compatible servers do) is where the difference shows: it gives DSPy ``n`` completions, and must give
dspex.LM as many.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from typing import Any, Callable, Iterator

import dspy
import pydantic
import pytest

import dspex.lm._retry as retry_mod
import dspex.native as native
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer, Reply, chat_completion, scripted

ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"
USAGE = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}


def one_choice(request: dict[str, Any]) -> dict[str, Any]:
    """A server that ignores ``n``: always one choice."""
    body = chat_completion([ANSWER], request.get("model", "test"))
    body["usage"] = dict(USAGE)
    return body


def n_choices(request: dict[str, Any]) -> dict[str, Any]:
    """A server that honours ``n``."""
    body = chat_completion([ANSWER] * (request.get("n") or 1), request.get("model", "test"))
    body["usage"] = dict(USAGE)
    return body


@pytest.fixture(params=[one_choice, n_choices], ids=["server ignores n", "server honours n"])
def server(request: pytest.FixtureRequest) -> Iterator[OpenAICompatServer]:
    with OpenAICompatServer(request.param) as s:
        yield s


def _both(server: OpenAICompatServer, model: str, call: Callable[[Any], Any],
          **init: Any) -> tuple[tuple[Any, list[dict[str, Any]], Any], tuple[Any, list[dict[str, Any]], Any]]:
    """(result, request bodies, last history entry) for dspy.LM, then for dspex.LM, on the same server."""
    sides = []
    for cls in (dspy.LM, LM):
        server.requests.clear()
        lm = cls(model, api_base=server.api_base, api_key="k", cache=False, **init)
        result = call(lm)
        sides.append((result, list(server.requests), lm.history[-1] if lm.history else None))
    return sides[0], sides[1]


def _same_usage(theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    """The usage dicts are equal, DSPy's null ``*_details`` keys included (tests/integration/test_lm_usage.py)."""
    assert ours == theirs


GRID = [(model, n, init, call)
        for model in ("openai/gpt-4o-mini", "hosted_vllm/m", "gpt-4o-mini", "custom_openai/m")
        for n in (1, 2, 3)
        for init, call in (({}, {}), ({"max_tokens": 7}, {}), ({"temperature": 0.3}, {"max_tokens": 5}),
                           ({"max_tokens": 7, "temperature": 0.0}, {"temperature": 0.9}))]


@pytest.mark.parametrize("model,n,init,call", GRID)
def test_request_bodies_are_dspys(server: OpenAICompatServer, model: str, n: int, init: dict[str, Any],
                                  call: dict[str, Any]) -> None:
    theirs, ours = _both(server, model, lambda lm: lm("q", n=n, **call), **init)
    assert ours[1] == theirs[1]   # as many requests, each with the same body
    assert ours[0] == theirs[0] and len(ours[0]) == len(theirs[0])
    _same_usage(theirs[2]["usage"], ours[2]["usage"])


def test_n_requests_without_n_and_with_the_servers_token_field() -> None:
    """The fuzz finding: ``openai/`` with n=2 and max_tokens=7 is two requests, each without ``n`` and with
    ``max_completion_tokens``; the history entry sums both usages."""
    with OpenAICompatServer(one_choice) as s:
        lm = LM("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=False, max_tokens=7)
        pred = native.Predict("question -> answer", n=2)(question="Q", lm=lm)
        assert [c.answer for c in pred.completions] == ["Paris", "Paris"]
        assert [{k: v for k, v in r.items() if k != "messages"} for r in s.requests] == \
            [{"model": "gpt-4o-mini", "max_completion_tokens": 7, "temperature": 0.7}] * 2
        assert lm.history[-1]["usage"] == {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24,
                                           "prompt_tokens_details": None, "completion_tokens_details": None}
        assert len(lm.history) == 1 and lm.history[-1]["outputs"] == [ANSWER, ANSWER]
        assert [c["index"] for c in lm.history[-1]["response"]["choices"]] == [0, 1]


@pytest.mark.parametrize("lane", ["sync", "async"])
def test_predict_n_over_both_lms(server: OpenAICompatServer, lane: str) -> None:
    def call(lm: Any) -> Any:
        predict = (dspy.Predict if isinstance(lm, dspy.LM) else native.Predict)("question -> answer", n=3)
        if lane == "async":
            return asyncio.run(predict.acall(question="q", lm=lm)).completions.answer
        return predict(question="q", lm=lm).completions.answer

    theirs, ours = _both(server, "openai/gpt-4o-mini", call, max_tokens=9)
    assert ours[0] == theirs[0] == ["Paris"] * 3
    assert ours[1] == theirs[1] and len(ours[1]) == 3 and "n" not in ours[1][0]


KWARGS = {
    "stop as a string": {"stop": "x"},
    "stop list": {"stop": ["a", "b"]},
    "empty stop": {"stop": []},
    "top_k dropped": {"top_k": 4},
    "int temperature": {"temperature": 0},
    "float seed": {"seed": 3.0},
    "penalties and top_p": {"top_p": 0.5, "presence_penalty": 1, "frequency_penalty": -0.5},
    "logprobs": {"logprobs": True, "top_logprobs": 2},
    "logprobs, no alternatives": {"logprobs": True, "top_logprobs": 0},
    "logprobs false": {"logprobs": False},
    "top_logprobs alone": {"top_logprobs": 2},
    "text format": {"response_format": {"type": "text"}},
    "json object": {"response_format": {"type": "json_object"}},
    "json schema": {"response_format": {"type": "json_schema",
                                        "json_schema": {"name": "out", "schema": {"type": "object"}}}},
    "json schema, no name": {"response_format": {"type": "json_schema",
                                                 "json_schema": {"schema": {"type": "object"}, "strict": True}}},
    "json schema with a description": {"response_format": {"type": "json_schema", "json_schema": {
        "name": "o", "description": "d", "schema": {"type": "object"}}}},
    "tools": {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
              "tool_choice": "auto"},
    "tool without parameters": {"tools": [{"type": "function", "function": {"name": "f", "description": "d"}}]},
    "forced tool": {"tools": [{"type": "function", "function": {"name": "f"}}],
                    "tool_choice": {"type": "function", "function": {"name": "f"}}},
    "strict tool": {"tools": [{"type": "function", "function": {"name": "f", "strict": True}}]},
    "parallel_tool_calls alone": {"parallel_tool_calls": False},
    "tool_choice none": {"tool_choice": "none"},
    "functions": {"functions": [{"name": "f", "parameters": {"type": "object"}}], "function_call": "auto"},
    "user": {"user": "u1"},
    "safety_identifier": {"safety_identifier": "u1"},
    "user_id": {"user_id": "u1"},
    "reasoning_effort": {"reasoning_effort": "low"},
    "reasoning_effort none": {"reasoning_effort": "none"},
    "reasoning_effort off": {"reasoning_effort": "off"},
    "bad reasoning_effort": {"reasoning_effort": "extreme"},
    "service tier and store": {"service_tier": "auto", "store": False},
    "extensions": {"logit_bias": {"1": 2}, "metadata": {"a": "b"}},
    "stream_options": {"stream_options": {"include_usage": True}},
    "prompt_cache_key": {"prompt_cache_key": "k1", "prompt_cache_retention": "24h"},
    "an unknown key": {"num_ctx": 4096},
    "extra_headers": {"extra_headers": {"X-Test": "1"}},
    "temperature out of range": {"temperature": 3.0},
    "bool temperature": {"temperature": True},
    "limits disagree": {"max_tokens": 5, "max_completion_tokens": 6},
    "limits agree": {"max_tokens": 5, "max_completion_tokens": 5},
    "both limits, int and float": {"max_tokens": 5, "max_completion_tokens": 5.0},
    "float max_tokens": {"max_tokens": 8.0},
    "num_generations": {"num_generations": 3},
    "rollout_id": {"rollout_id": 2, "temperature": 1.0},
    "n None": {"n": None},
    "timeout": {"timeout": 30},
}


# Calls DSPy sends through LiteLLM, where LiteLLM itself rewrites or refuses them: dspex.LM sends them as given,
# in one request carrying n, which is LiteLLM's shape.
LITELLM_OWN = {
    ("strict tool", "hosted_vllm/m"): "LiteLLM drops strict from a vLLM tool",
    ("bad reasoning_effort", "openai/gpt-4o-mini"): "LiteLLM refuses reasoning_effort for gpt-4o-mini, unsent",
}


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "hosted_vllm/m"])
@pytest.mark.parametrize("case", sorted(KWARGS))
def test_each_key_is_sent_as_dspy_sends_it(case: str, model: str) -> None:
    kwargs = {"n": 2, **KWARGS[case]}
    with OpenAICompatServer(one_choice) as s:
        if (case, model) in LITELLM_OWN:
            lm = LM(model, api_base=s.api_base, api_key="k", cache=False)
            lm("q", **kwargs)
            assert len(s.requests) == 1 and s.requests[0]["n"] == 2
            return
        theirs, ours = _both(s, model, lambda lm: lm("q", **kwargs))
    assert ours[1] == theirs[1]
    if "logprobs" not in case:   # (DSPy's lm15 side reads a choice's logprobs into its own shape)
        assert ours[0] == theirs[0]
    else:
        assert len(ours[0]) == len(theirs[0])


class Out(pydantic.BaseModel):
    answer: str
    score: float | None = None


def test_a_pydantic_response_format_goes_out_as_dspys_strict_schema() -> None:
    """A native JSONAdapter asks for structured outputs with a model class; dspex.LM could not send it at all."""
    reply = chat_completion(['{"answer": "Paris", "score": null}'])
    with OpenAICompatServer(lambda r: reply) as s:
        theirs, ours = _both(s, "openai/gpt-4o-mini", lambda lm: lm("q", n=2, response_format=Out))
        assert ours[1] == theirs[1] and len(ours[1]) == 2
        fmt = ours[1][0]["response_format"]
        assert fmt["json_schema"]["strict"] is True and fmt["json_schema"]["schema"]["required"] == ["answer", "score"]
        lm = LM("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=False)
        with native.settings.context(adapter=native.JSONAdapter()):
            assert native.Predict("question -> answer")(question="q", lm=lm).answer == "Paris"


MESSAGES = {
    "text blocks": [{"role": "user", "content": [{"type": "text", "text": "a"}]}],
    "two text blocks": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}],
    "an image": [{"role": "user", "content": [{"type": "text", "text": "see"},
                                              {"type": "image_url", "image_url": {"url": "https://x/i.png",
                                                                                  "detail": "low"}}]}],
    "a data image": [{"role": "user", "content": [{"type": "image_url",
                                                   "image_url": {"url": "data:image/png;base64,iVBO"}}]}],
    "developer": [{"role": "developer", "content": "be brief"}, {"role": "user", "content": "q"}],
    "system blocks": [{"role": "system", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                      {"role": "user", "content": "q"}],
    "a later system": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"},
                       {"role": "user", "content": "r"}],
    "demos": [{"role": "system", "content": "s"}, {"role": "user", "content": "q1"},
              {"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"}],
    "assistant reasoning": [{"role": "user", "content": "q"},
                            {"role": "assistant", "content": "a", "reasoning_content": "thought"},
                            {"role": "user", "content": "more"}],
    "tool round trip": [{"role": "user", "content": "q"},
                        {"role": "assistant", "content": None, "tool_calls": [
                            {"id": "c1", "type": "function",
                             "function": {"name": "f", "arguments": '{"x": "é", "y": 1}'}}]},
                        {"role": "tool", "tool_call_id": "c1", "name": "f", "content": "42"},
                        {"role": "user", "content": "and?"}],
    "empty assistant": [{"role": "user", "content": "q"}, {"role": "assistant", "content": None},
                        {"role": "user", "content": "r"}],
    "a participant name": [{"role": "user", "content": "q", "name": "bob"}],
    "an empty system prompt": [{"role": "system", "content": ""}, {"role": "user", "content": "q"}],
    "only a system prompt": [{"role": "system", "content": "s"}],
    "audio": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}}]}],
    "an unknown role": [{"role": "critic", "content": "q"}],
}


@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_messages_are_sent_as_dspy_sends_them(case: str) -> None:
    with OpenAICompatServer(one_choice) as s:
        theirs, ours = _both(s, "openai/gpt-4o-mini", lambda lm: lm(messages=MESSAGES[case], n=2))
    assert ours[1] == theirs[1]
    assert ours[2]["messages"] == theirs[2]["messages"] == MESSAGES[case]   # history keeps what was asked


def test_an_environment_gateway_keeps_one_request_with_n(monkeypatch: pytest.MonkeyPatch) -> None:
    with OpenAICompatServer(one_choice) as s:
        monkeypatch.setenv("OPENAI_API_BASE", s.api_base)
        theirs, ours = _both(s, "openai/gpt-4o-mini", lambda lm: lm("q", n=2), max_tokens=7)
    assert ours[1] == theirs[1] and len(ours[1]) == 1 and ours[1][0]["n"] == 2 and ours[1][0]["max_tokens"] == 7


@pytest.mark.parametrize("n", [0, -1, "2", 1.5, True])
def test_a_bad_n_is_refused_before_any_request(n: Any) -> None:
    with OpenAICompatServer(one_choice) as s:
        for cls in (dspy.LM, LM):
            lm = cls("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=False)
            with pytest.raises(ValueError, match="n must be a positive integer"):
                lm("q", n=n)
        assert s.requests == []


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    import dspy.clients.execution as execution

    monkeypatch.setattr(retry_mod, "MAX_BACKOFF_S", 0.001)
    monkeypatch.setattr(execution, "_delay", lambda exc, attempt: 0.0)


@pytest.mark.parametrize("lane", ["sync", "async"])
def test_a_failed_completion_fails_the_call_and_counts_the_answered_ones(lane: str, fast_retries: None) -> None:
    """DSPy: the second request's 400 is the call's error; no history entry, nothing cached; the first answer's
    usage still lands in DSPy's usage tracker."""
    seen = []
    for cls in (dspy.LM, LM):
        replies = scripted([one_choice({}), Reply(400, {"error": {"message": "bad request"}})], cycle=False)
        with OpenAICompatServer(replies) as s:
            lm = cls("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=True)
            prompt = f"fail {uuid.uuid4()}"
            with dspy.track_usage() as tracker:
                with pytest.raises(Exception, match="bad request") as info:
                    asyncio.run(lm.acall(prompt, n=2)) if lane == "async" else lm(prompt, n=2)
            seen.append((len(s.requests), lm.history, tracker.get_total_tokens(), info.type.__name__))
    (theirs_requests, theirs_history, theirs_usage, _), (requests, history, usage, _) = seen
    assert requests == theirs_requests == 2 and history == theirs_history == []
    _same_usage(theirs_usage["openai/gpt-4o-mini"], usage["openai/gpt-4o-mini"])


def test_each_completion_has_its_own_retries(fast_retries: None) -> None:
    seen = []
    for cls in (dspy.LM, LM):
        replies = scripted([one_choice({}), Reply(500, {"error": {"message": "oops"}}), one_choice({})], cycle=False)
        with OpenAICompatServer(replies) as s:
            lm = cls("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=False, num_retries=1)
            seen.append((lm("q", n=2), len(s.requests), lm.history[-1]["usage"]["total_tokens"]))
    assert seen[0] == seen[1] == ([ANSWER, ANSWER], 3, 24)


@pytest.mark.parametrize("streaming", [False, True])
def test_async_completions_go_one_after_the_other(streaming: bool) -> None:
    """DSPy's aexecute awaits each candidate before sending the next: never two requests in flight."""
    live, peak, lock = [0], [0], threading.Lock()

    def slow(request: dict[str, Any]) -> Any:
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.05)
        with lock:
            live[0] -= 1
        return ANSWER if streaming else one_choice(request)

    with OpenAICompatServer(slow) as s:
        lm = LM("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=False)
        outputs = asyncio.run(lm.acall("q", n=3, stream=streaming))
    assert outputs == [ANSWER] * 3 and len(s.requests) == 3 and peak[0] == 1


def test_the_cache_keys_the_call_as_dspy_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """One entry per whole call (its n included), a sync call and an async one apart, num_generations part of it,
    the API key not."""
    from dspy.clients.cache import Cache

    monkeypatch.setattr(dspy, "cache", Cache(enable_disk_cache=False, enable_memory_cache=True, disk_cache_dir=None))
    counts = []
    for cls in (dspy.LM, LM):
        with OpenAICompatServer(one_choice) as s:
            lm = cls("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=True, temperature=0.5)
            prompt = f"cached {uuid.uuid4()}"
            steps = [lambda: lm(prompt, n=2), lambda: lm(prompt, n=2), lambda: asyncio.run(lm.acall(prompt, n=2)),
                     lambda: lm(prompt, n=3), lambda: lm(prompt, n=2, num_generations=4),
                     lambda: lm(prompt, n=2, api_key="other"), lambda: lm(prompt, n=2, rollout_id=1)]
            trail = []
            for step in steps:
                assert len(step()) in (2, 3)
                trail.append(len(s.requests))
            counts.append(trail)
    assert counts[0] == counts[1] == [2, 2, 4, 7, 9, 9, 11]


def test_streamed_completions_are_streamed_one_request_after_the_other() -> None:
    with OpenAICompatServer(lambda r: "Paris is the capital.") as s:
        lm = LM("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=True, pricing={"input": 1.0})
        chunks = list(lm.stream("q", n=2))
        assert len(s.requests) == 2 and all(r["stream"] is True and "n" not in r for r in s.requests)
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
        assert text == "Paris is the capital." * 2
        entry = lm.history[-1]
        assert entry["outputs"] == ["Paris is the capital."] * 2 and entry["usage"]["total_tokens"] == 4
        assert entry["cost"] == pytest.approx(2e-6)
        assert lm("q", n=2) == entry["outputs"] and len(s.requests) == 2   # the streamed call is cached whole


def test_truncation_is_reported_per_completion(caplog: pytest.LogCaptureFixture) -> None:
    cut = chat_completion([ANSWER])
    cut["choices"][0]["finish_reason"] = "length"
    with OpenAICompatServer(lambda r: cut) as s:
        lm = LM("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=False)
        with caplog.at_level(logging.WARNING, logger="dspex.lm"):
            lm("q", n=2)
    assert [r.getMessage() for r in caplog.records if r.name == "dspex.lm"] == \
        ["LM response was truncated; increase max_tokens or inspect history."] * 2


def test_cost_is_the_sum_of_the_completions_costs() -> None:
    def reply(request: dict[str, Any]) -> Any:
        body = one_choice(request)
        body["usage"]["cost"] = 0.25
        return body

    with OpenAICompatServer(reply) as s:
        lm = LM("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=False)
        lm("q", n=3)
    # the cost is the gateway's; the usage is recorded as dspy.LM's lm15 side records it, without the cost key
    assert lm.history[-1]["cost"] == pytest.approx(0.75) and "cost" not in lm.history[-1]["usage"]


def test_a_dspy_program_sees_the_n_completions_usage() -> None:
    with OpenAICompatServer(one_choice) as s:
        lm = LM("openai/gpt-4o-mini", api_base=s.api_base, api_key="k", cache=False)
        with dspy.context(lm=lm, track_usage=True):
            pred = dspy.Predict("question -> answer", n=2)(question="q")
        assert len(pred.completions) == 2 and len(s.requests) == 2
        assert pred.get_lm_usage()["openai/gpt-4o-mini"]["total_tokens"] == 24


def test_request_bodies_serialise_alike() -> None:
    """Same keys in the same order as lm15 writes them, so the bytes differ only in whitespace."""
    kwargs = {"n": 2, "stop": "x", "temperature": 0.2, "max_tokens": 9, "seed": 1, "logit_bias": {"1": 1},
              "response_format": {"type": "json_object"}, "user": "u", "top_p": 0.9}
    with OpenAICompatServer(one_choice) as s:
        theirs, ours = _both(s, "openai/gpt-4o-mini", lambda lm: lm("q", **kwargs))
    assert [json.dumps(b) for b in ours[1]] == [json.dumps(b) for b in theirs[1]]


def _typed(model: str) -> list[Any]:
    lm15 = dspy.lm15
    tool = lm15.FunctionTool(name="lookup", description="find a city",
                             parameters={"type": "object", "properties": {"q": {"type": "string"}}})
    return [
        lm15.Request(model=model, messages=(lm15.Message.user("hi"), lm15.Message.assistant("yes?"),
                                            lm15.Message.user("capital of France")),
                     system="be brief", config=lm15.Config(temperature=0.3, max_tokens=20, stop=("END",), seed=7)),
        lm15.Request(model=model, messages=(lm15.Message.user("look it up"),),
                     tools=(tool, lm15.FunctionTool(name="f")),
                     config=lm15.Config(tool_choice=lm15.ToolChoice(mode="required", allowed=("lookup",)))),
    ]


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "hosted_vllm/m"])
@pytest.mark.parametrize("index", [0, 1])
def test_a_typed_request_is_sent_as_dspy_sends_it(model: str, index: int) -> None:
    """``lm(dspy.lm15.Request(...))``: the token limit under the server's field, a tool's description always sent."""
    with OpenAICompatServer(one_choice) as s:
        theirs, ours = _both(s, model, lambda lm: lm(_typed(model)[index]))
    assert ours[1] == theirs[1] and len(ours[1]) == 1
