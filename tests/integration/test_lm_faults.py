"""dspex.LM against servers that misbehave, and across many event loops (found by an independent tester).

Every server here is started by the test on 127.0.0.1: the OpenAI-compatible test server, or a raw socket server
that answers whatever bytes a case scripts (a cut body, a bad status line, a header over 64 KiB, ...).
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import threading
from typing import Any, Iterator

import pytest

from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer, echo_reply


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors through /proc")
def test_each_event_loop_closes_its_client_and_socket() -> None:
    with OpenAICompatServer(echo_reply) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        asyncio.run(lm.acall("warm up"))   # imports and the server's own threads settle first
        gc.collect()
        before = _open_fds()
        for i in range(30):
            assert asyncio.run(lm.acall(f"q{i}")) == [f"q{i}"]
        gc.collect()
        assert lm._wire._aclients == {}          # no client kept for a finished loop
        assert _open_fds() <= before + 2         # was +1 socket per asyncio.run: EMFILE after a few hundred

        # a loop closed without shutdown_asyncgens: its client is dropped when the next loop makes one
        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(lm.acall("manual")) == ["manual"]
        loop.close()
        assert asyncio.run(lm.acall("next")) == ["next"]
        assert lm._wire._aclients == {}


def test_one_loop_keeps_one_client_across_calls() -> None:
    with OpenAICompatServer(echo_reply) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)

        async def run() -> tuple[int, Any]:
            await asyncio.gather(*(lm.acall(f"q{i}") for i in range(5)))
            first = (await lm._wire.aclient())
            await lm.acall("again")
            return len(lm._wire._aclients), first is await lm._wire.aclient()

        assert asyncio.run(run()) == (1, True)


_BODY = (b'{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant",'
         b'"content":"hello"},"finish_reason":"stop"}]}')
_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(_BODY) + _BODY
BROKEN = {
    "truncated body": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(_BODY) + _BODY[:20],
    "bad status line": b"FOO BAR\r\n\r\n",
    "bad chunked encoding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n",
}


class RawServer:
    """Answers each request (read whole) with the next scripted bytes, then closes the connection."""

    def __init__(self, *answers: bytes) -> None:
        self.answers, self.requests = list(answers), 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.api_base = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests += 1
                conn.sendall(self.answers[min(self.requests, len(self.answers)) - 1])
                conn.shutdown(socket.SHUT_WR)
                conn.recv(1)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    import dspex.lm._retry as retry_mod

    monkeypatch.setattr(retry_mod, "MAX_BACKOFF_S", 0.001)


def _call(lm: LM, lane: str) -> Any:
    if lane == "async":
        return asyncio.run(lm.acall("hi"))
    if lane == "sync httpx":
        lm._wire.fast = False
    return lm("hi")


@pytest.mark.parametrize("lane", ["sync", "sync httpx", "async"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_answer_is_a_retried_connection_error_on_every_lane(case: str, lane: str, no_backoff: None) -> None:
    from dspex.errors import LMConnectionError

    server = RawServer(BROKEN[case])
    try:
        lm = LM("openai/test", api_base=server.api_base, api_key="k", cache=False, num_retries=3)
        with pytest.raises(LMConnectionError) as info:   # was http.client's IncompleteRead / BadStatusLine, once
            _call(lm, lane)
        assert server.requests == 4 and info.value.attempts == 4
        server.answers = [BROKEN[case], _OK]                 # a broken answer, then a good one: ridden out
        server.requests = 0
        assert _call(LM("openai/test", api_base=server.api_base, api_key="k", cache=False), lane) == ["hello"]
    finally:
        server.close()


@pytest.mark.parametrize("lane", ["sync httpx", "async"])
def test_a_body_its_encoding_cannot_decode_is_a_connection_error(lane: str, no_backoff: None) -> None:
    from dspex.errors import LMConnectionError

    lie = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(_BODY) + _BODY
    server = RawServer(lie)
    try:
        lm = LM("openai/test", api_base=server.api_base, api_key="k", cache=False, num_retries=1)
        with pytest.raises(LMConnectionError):           # was httpx.DecodingError, raw and not retried
            _call(lm, lane)
        assert server.requests == 2
    finally:
        server.close()


@pytest.mark.parametrize("lane", ["sync", "async"])
def test_a_header_over_http_clients_limit_is_read_through_httpx(lane: str) -> None:
    big = _OK.replace(b"\r\n\r\n", b"\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 1)
    server = RawServer(big)
    try:
        lm = LM("openai/test", api_base=server.api_base, api_key="k", cache=False, num_retries=0)
        assert _call(lm, lane) == ["hello"]              # was http.client.LineTooLong on the sync lane
        assert not lm._wire.fast or lane == "async"      # that endpoint now goes through httpx
    finally:
        server.close()


@pytest.mark.parametrize("lane", ["sync", "async"])
def test_a_stream_cut_mid_body_is_a_connection_error(lane: str) -> None:
    from dspex.errors import LMConnectionError

    event = b'data: {"choices":[{"index":0,"delta":{"content":"he"},"finish_reason":null}]}\n\n'
    cut = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 9999\r\n\r\n" + event
    server = RawServer(cut)
    try:
        lm = LM("openai/test", api_base=server.api_base, api_key="k", cache=False, num_retries=0)

        async def collect() -> list[Any]:
            return [c async for c in lm.astream("hi")]

        with pytest.raises(LMConnectionError):           # was httpx.RemoteProtocolError, raw
            asyncio.run(collect()) if lane == "async" else list(lm.stream("hi"))
    finally:
        server.close()


KEY = "sk-proj-SECRETSECRETSECRET1234567890"


@pytest.mark.parametrize("lane", ["sync", "async", "stream"])
def test_an_api_key_the_server_echoes_is_masked_in_the_error(lane: str) -> None:
    from dspex.errors import LMAuthenticationError
    from dspex.lm.testing import Reply

    said = {"error": {"message": f"Incorrect API key provided: {KEY}. Bearer {KEY}"}}
    with OpenAICompatServer(lambda r: Reply(401, said)) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key=KEY, cache=False)
        with pytest.raises(LMAuthenticationError) as info:
            if lane == "async":
                asyncio.run(lm.acall("hi"))
            else:
                lm("hi", stream=lane == "stream")
    error = info.value
    assert KEY not in str(error) and KEY not in error.body and KEY not in repr(error.args)   # was the whole key
    assert "Incorrect API key provided: <api_key>." in str(error)


def test_a_password_in_api_base_is_masked_in_errors_and_still_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    import dspex.lm._retry as retry_mod
    from dspex.errors import LMServerError
    from dspex.lm.testing import Reply

    monkeypatch.setattr(retry_mod, "MAX_BACKOFF_S", 0.001)
    with OpenAICompatServer(lambda r: Reply(500, {"error": {"message": "boom"}})) as s:
        base = s.api_base.replace("http://", "http://user:hunter2pass@")
        lm = LM("openai/test", api_base=base, api_key="k", cache=False, num_retries=0)
        for call in (lambda: lm("hi"), lambda: asyncio.run(lm.acall("hi"))):
            with pytest.raises(LMServerError) as info:
                call()
            assert "hunter2pass" not in str(info.value) and "hunter2pass" not in info.value.url   # was shown
            assert "http://***@127.0.0.1" in str(info.value)
        assert "hunter2pass" not in repr(lm) and "***@127.0.0.1" in repr(lm)   # reprs land in logs too
        # both lanes send the URL's credentials alike (httpx's Basic auth; the stdlib lane dropped them)
        assert not lm._wire.fast and all(h["Authorization"].startswith("Basic ") for h in s.headers)
