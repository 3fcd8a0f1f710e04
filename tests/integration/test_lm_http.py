"""dspex.LM and native modules over real HTTP, against a loopback OpenAI-compatible server (and dspy.LM too)."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, Iterator

import dspy
import pytest

import dspex.lm._retry as retry_mod
import dspex.native as native
from dspex.errors import ConfigError, LMError
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer, Reply, chat_completion, echo_reply, scripted

ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def server() -> Iterator[OpenAICompatServer]:
    with OpenAICompatServer(lambda request: ANSWER) as s:
        yield s


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_mod, "MAX_BACKOFF_S", 0.001)


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail any name lookup or connection that is not to loopback, and record the attempts."""
    attempts: list[str] = []
    real_getaddrinfo, real_create = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK:
            attempts.append(str(host))
            raise socket.gaierror(f"test forbids network access to {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        if address[0] not in LOOPBACK:
            attempts.append(str(address[0]))
            raise OSError(f"test forbids network access to {address[0]}")
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempts


def test_native_predict_end_to_end(server: OpenAICompatServer, loopback_only: list[str]) -> None:
    lm = LM("openai/test", api_base=server.api_base, api_key="k")
    pred = native.Predict("question -> answer")(question="Capital of France?", lm=lm)
    assert pred.answer == "Paris"
    body = server.requests[-1]
    assert body["model"] == "test" and body["messages"][0]["role"] == "system"
    assert "Capital of France?" in body["messages"][-1]["content"]
    assert server.headers[-1]["Authorization"] == "Bearer k"
    assert loopback_only == []


def test_same_server_serves_dspy_and_native_identically(server: OpenAICompatServer, loopback_only: list[str]) -> None:
    dspy_lm = dspy.LM("openai/test", api_base=server.api_base, api_key="k", cache=False)
    theirs = dspy.Predict("question -> answer")(question="q?", lm=dspy_lm)
    native_lm = LM("openai/test", api_base=server.api_base, api_key="k", cache=False)
    ours = native.Predict("question -> answer")(question="q?", lm=native_lm)
    assert ours == theirs and ours.answer == "Paris"
    assert server.requests[0] == server.requests[1]  # byte-for-byte the same request body
    assert loopback_only == []  # dspy.LM did not try to reach the internet


def test_chain_of_thought_and_async(loopback_only: list[str]) -> None:
    reply = "[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"
    with OpenAICompatServer(lambda request: reply) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        cot = native.ChainOfThought("question -> answer")

        async def many() -> list[Any]:
            return await asyncio.gather(*(cot.acall(question=f"q{i}", lm=lm) for i in range(6)))

        results = asyncio.run(many())
    assert [r.answer for r in results] == ["Paris"] * 6 and len(s.requests) == 6


def test_n_completions_as_dspy_lm_asks_for_them(server: OpenAICompatServer) -> None:
    """As dspy.LM 3.4.1 does for an ``openai/`` model: one request per completion, none carrying ``n``
    (tests/integration/test_lm_wire.py compares the two clients in detail)."""
    lm = LM("openai/test", api_base=server.api_base, api_key="k")
    pred = native.Predict("question -> answer", n=3)(question="q", lm=lm)
    assert pred.completions.answer == ["Paris"] * 3
    assert len(server.requests) == 3
    assert all("n" not in body and body["temperature"] == 0.7 for body in server.requests)


def test_call_convention_and_kwargs() -> None:
    with OpenAICompatServer(echo_reply) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", temperature=0.2, max_tokens=None, cache=False,
                top_p=0.9, rollout_id=None)
        assert lm.kwargs == {"temperature": 0.2, "max_tokens": None, "top_p": 0.9}
        assert lm("hello") == ["hello"]
        assert lm(prompt="hi") == ["hi"]
        assert lm(messages=[{"role": "user", "content": "x"}], temperature=0.5, rollout_id=3) == ["x"]
        assert s.requests[0] == {"model": "test", "messages": [{"role": "user", "content": "hello"}],
                                 "temperature": 0.2, "top_p": 0.9}
        assert s.requests[2]["temperature"] == 0.5 and "rollout_id" not in s.requests[2]
        assert lm("yo", logprobs=True) == [{"text": "yo", "logprobs": None}]
        assert len(lm.history) == 4 and lm.history[-1]["outputs"] == [{"text": "yo", "logprobs": None}]
        assert all("k" not in str(entry["kwargs"].get("api_key", "")) for entry in lm.history)
        with pytest.raises(ConfigError):
            lm()


def test_cache_and_rollout_id(server: OpenAICompatServer) -> None:
    lm = LM("openai/test", api_base=server.api_base, api_key="k")
    assert lm("same") == lm("same") == [ANSWER]
    assert len(server.requests) == 1
    lm("same", rollout_id=1)
    lm("same", cache=False)
    assert len(server.requests) == 3
    assert len(lm.history) == 4  # cache hits are recorded too, as in DSPy


def test_keep_alive_one_connection_per_thread(server: OpenAICompatServer) -> None:
    lm = LM("openai/test", api_base=server.api_base, api_key="k", cache=False)
    for _ in range(5):
        lm("x")
    assert len(set(server.clients)) == 1

    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                lm("y")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(server.requests) == 25
    assert len(set(server.clients)) == 5


def test_server_closing_the_connection_is_not_an_error() -> None:
    closing = Reply(200, chat_completion(["ok"]), headers={"Connection": "close"})
    with OpenAICompatServer(scripted([closing, "fine", closing, "fine"])) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False, num_retries=0)
        assert [lm("a"), lm("b"), lm("c"), lm("d")] == [["ok"], ["fine"], ["ok"], ["fine"]]


def test_retries_on_429_and_5xx(fast_backoff: None) -> None:
    script = [Reply(500), Reply(429, headers={"Retry-After": "0"}), Reply(503), "done"]
    with OpenAICompatServer(scripted(script, cycle=False)) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False, num_retries=3)
        assert lm("x") == ["done"] and len(s.requests) == 4
    with OpenAICompatServer(lambda r: Reply(429, {"error": {"message": "slow down"}})) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="secret-key", cache=False, num_retries=2)
        with pytest.raises(LMError) as info:
            lm("x")
        assert len(s.requests) == 3
        text = str(info.value)
        assert "HTTP 429" in text and "after 3 attempts" in text and "slow down" in text
        assert s.api_base in text and "secret-key" not in text


def test_client_errors_fail_fast_with_a_hint(fast_backoff: None) -> None:
    with OpenAICompatServer(lambda r: Reply(401, {"error": {"message": "bad key"}})) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="secret-key", num_retries=3)
        with pytest.raises(LMError, match="HTTP 401.*api_key") as info:
            lm("x")
        assert len(s.requests) == 1 and "secret-key" not in str(info.value)
    with OpenAICompatServer(echo_reply) as s:
        lm = LM("openai/test", api_base=f"http://127.0.0.1:{s.port}", api_key="k")  # forgot /v1
        with pytest.raises(LMError, match="HTTP 404.*api_base"):
            lm("x")


def test_unreachable_server_and_timeouts(fast_backoff: None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    lm = LM("openai/test", api_base=f"http://127.0.0.1:{port}/v1", api_key="k", num_retries=1)
    with pytest.raises(LMError, match="Could not reach the LM at http://127.0.0.1"):
        lm("x")
    with OpenAICompatServer(lambda r: Reply(200, chat_completion(["late"]), delay=0.5)) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", timeout=0.1, num_retries=0)
        with pytest.raises(LMError, match="no answer within 0.1 s"):
            lm("x")
    with OpenAICompatServer(lambda r: Reply(200, "<html>not json</html>")) as s:
        with pytest.raises(LMError, match="not JSON"):
            LM("openai/test", api_base=s.api_base, api_key="k")("x")


def test_api_key_from_environment(server: OpenAICompatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    LM("openai/test", api_base=server.api_base, cache=False)("x")
    assert server.headers[-1]["Authorization"] == "Bearer from-env"


MODELS = ["gpt-4o-mini", "gpt-4.1", "gpt-5-mini", "o1", "o1-mini", "o3-mini", "gpt-4", "gpt-3.5-turbo",
          "chatgpt-4o-latest", "test", "llama-3"]


@pytest.mark.parametrize("model", MODELS)
def test_capabilities_mirror_dspy_offline(model: str, loopback_only: list[str]) -> None:
    theirs = dspy.LM(f"openai/{model}", api_base="http://127.0.0.1:9/v1", api_key="k")
    ours = LM(f"openai/{model}", api_base="http://127.0.0.1:9/v1", api_key="k")
    assert ours.supported_params == theirs.supported_params
    assert ours.supports_response_schema == theirs.supports_response_schema
    assert ours.kwargs == {k: v for k, v in theirs.kwargs.items() if k not in ("api_base", "api_key")}


def test_reasoning_model_rules_match_dspy() -> None:
    with pytest.raises(Exception) as theirs:
        dspy.LM("openai/gpt-5", temperature=0.3)
    with pytest.raises(ConfigError) as ours:
        LM("openai/gpt-5", temperature=0.3)
    assert str(theirs.value).endswith(str(ours.value))
    with pytest.raises(ConfigError, match="chat"):
        LM("openai/test", model_type="text")


def test_state_moves_between_dspy_and_dspex() -> None:
    ours = LM("openai/test", api_base="http://127.0.0.1:9/v1", api_key="secret", temperature=0.3)
    state = ours.dump_state()
    assert "secret" not in str(state)
    theirs = dspy.BaseLM.load_state(state)
    assert theirs.model == "openai/test" and theirs.kwargs["temperature"] == 0.3
    back = LM.load_state(theirs.dump_state())
    assert back.model == "openai/test" and back.kwargs["temperature"] == 0.3 and back.api_base == ours.api_base


def test_history_is_capped(server: OpenAICompatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import dspex.lm._complete as complete

    monkeypatch.setattr(complete, "HISTORY_SIZE", 3)
    lm = LM("openai/test", api_base=server.api_base, api_key="k", cache=False)
    for i in range(5):
        lm(f"m{i}")
    assert [h["prompt"] for h in lm.history] == ["m2", "m3", "m4"]


def test_copies_and_pickles_get_fresh_connections(server: OpenAICompatServer) -> None:
    import copy
    import pickle

    lm = LM("openai/test", api_base=server.api_base, api_key="k", temperature=0.1)
    lm("warm")
    module = native.Predict("question -> answer")
    module.lm = lm
    for clone in (copy.deepcopy(module).lm, pickle.loads(pickle.dumps(lm)), lm.copy(temperature=0.9)):
        assert clone is not lm and clone.api_key == "k" and clone("again") == [ANSWER]
    assert lm.copy(temperature=0.9).kwargs["temperature"] == 0.9 and lm.kwargs["temperature"] == 0.1
    assert [r.get("temperature") for r in server.requests] == [0.1, 0.1, 0.1, 0.9]
