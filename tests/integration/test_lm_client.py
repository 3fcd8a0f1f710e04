"""dspex.LM as a deployable client: proxies, async under load, streaming, lm15 Requests, typed errors, cost.

Everything talks to servers these tests start on 127.0.0.1: the OpenAI-compatible test server and, for the proxy
test, a forwarding HTTP proxy that records what passed through it.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

import dspex.lm._retry as retry_mod
from dspex.errors import (
    ContextWindowExceededError,
    LMAuthenticationError,
    LMConnectionError,
    LMError,
    LMRateLimitError,
    LMResponseError,
    LMServerError,
    LMStatusError,
)
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer, Reply, chat_completion, echo_reply, scripted


class _Proxy(BaseHTTPRequestHandler):
    """A forwarding proxy for plain HTTP (absolute-form request lines), loopback targets only."""

    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, *args: Any) -> None:
        return None

    def do_POST(self) -> None:  # noqa: N802
        target = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(self.path)
        assert target.hostname == "127.0.0.1", "the test proxy forwards to loopback only"
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "host")}
        conn.request("POST", target.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()


@pytest.fixture
def proxy() -> Iterator[Any]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    httpd.daemon_threads = True
    httpd.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_requests_go_through_the_proxy_the_environment_names(proxy: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with OpenAICompatServer(echo_reply) as s:
        direct = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        assert direct("before") == ["before"] and proxy.seen == []
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        assert not lm._wire.fast          # a proxy applies: httpx carries the request
        assert lm("via proxy") == ["via proxy"]
        assert asyncio.run(lm.acall("async via proxy")) == ["async via proxy"]
        assert proxy.seen == [f"{s.api_base}/chat/completions"] * 2
        assert s.headers[-1]["Authorization"] == "Bearer k"
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        bypass = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        assert bypass("bypassed") == ["bypassed"] and len(proxy.seen) == 2


def test_fifty_concurrent_async_calls_overlap_on_the_server() -> None:
    lock, inflight, peak = threading.Lock(), [0], [0]

    def reply(request: dict[str, Any]) -> Any:
        with lock:
            inflight[0] += 1
            peak[0] = max(peak[0], inflight[0])
        try:
            import time

            time.sleep(0.05)
            return request["messages"][-1]["content"]
        finally:
            with lock:
                inflight[0] -= 1

    with OpenAICompatServer(reply) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)

        async def many() -> list[Any]:
            return await asyncio.gather(*(lm.acall(f"q{i}") for i in range(50)))

        results = asyncio.run(many())
    assert results == [[f"q{i}"] for i in range(50)]
    assert len(s.requests) == 50 and len(lm.history) == 50
    assert peak[0] >= 10   # the calls were in flight together (an event loop blocked per call would show 1)


def test_streaming_yields_chunks_and_ends_like_a_plain_call() -> None:
    text = "The capital of France is Paris."
    with OpenAICompatServer(lambda r: text) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", pricing={"input": 1.0, "output": 2.0})
        pieces = [c["choices"][0]["delta"].get("content") for c in lm.stream("q") if c.get("choices")]
        assert "".join(p for p in pieces if p) == text and len([p for p in pieces if p]) > 3
        assert s.requests[-1]["stream"] is True and s.requests[-1]["stream_options"] == {"include_usage": True}
        entry = lm.history[-1]
        assert entry["outputs"] == [text] and entry["usage"]["total_tokens"] == 2
        assert entry["cost"] == pytest.approx(3e-6)
        assert lm("q") == [text] and len(s.requests) == 1           # recorded in the cache like a plain call
        assert lm("other", stream=True) == [text] and s.requests[-1]["stream"] is True

        async def collect() -> list[Any]:
            return [c async for c in lm.astream("async q")]

        chunks = asyncio.run(collect())
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")) == text


def test_typed_errors_and_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_mod, "MAX_BACKOFF_S", 0.001)
    cases = [(429, LMRateLimitError), (503, LMServerError), (401, LMAuthenticationError), (400, LMStatusError)]
    for status, cls in cases:
        with OpenAICompatServer(lambda r, st=status: Reply(st, {"error": {"message": "no"}})) as s:
            lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False, num_retries=1)
            with pytest.raises(cls) as info:
                lm("x")
            assert info.value.status == status and isinstance(info.value, LMError)
            assert info.value.attempts == (2 if status in (429, 503) else 1) == len(s.requests)
            with pytest.raises(cls):
                asyncio.run(lm.acall("x"))
    script = [Reply(429, headers={"Retry-After": "0.3"}), "ok"]
    with OpenAICompatServer(scripted(script, cycle=False)) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False, num_retries=2)
        import time

        start = time.perf_counter()
        assert lm("x") == ["ok"]
        assert time.perf_counter() - start >= 0.3      # the server's Retry-After, not the 1 ms backoff
    lm = LM("openai/test", api_base="http://127.0.0.1:9/v1", api_key="k", num_retries=0)
    with pytest.raises(LMConnectionError):
        lm("x")
    with OpenAICompatServer(lambda r: Reply(200, "not json")) as s:
        with pytest.raises(LMResponseError):
            LM("openai/test", api_base=s.api_base, api_key="k")("x")


def test_a_context_window_error_is_the_class_agents_catch() -> None:
    too_long = {"error": {"message": "This model's maximum context length is 8192 tokens. However, you requested "
                                     "9000 tokens.", "code": "context_length_exceeded"}}
    with OpenAICompatServer(lambda r: Reply(400, too_long)) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False, num_retries=3)
        with pytest.raises(ContextWindowExceededError, match="maximum context length") as info:
            lm("x")
        assert info.value.status == 400 and len(s.requests) == 1     # never retried: it would fail the same way
        with pytest.raises(ContextWindowExceededError):
            asyncio.run(lm.acall("x"))


def test_usage_and_cost_from_the_server_or_pricing() -> None:
    body = chat_completion(["a"])
    body["usage"] = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}
    with OpenAICompatServer(lambda r: body) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=True, pricing={"input": 0.15, "output": 0.6})
        lm("x")
        assert lm.history[-1]["usage"]["total_tokens"] == 1500
        assert lm.history[-1]["cost"] == pytest.approx((1000 * 0.15 + 500 * 0.6) / 1e6)
        lm("x")   # a cache hit: recorded, but nothing billed
        assert lm.history[-1]["usage"] == {} and lm.history[-1]["cost"] is None
    reported = {**body, "usage": {**body["usage"], "cost": 0.0042}}
    with OpenAICompatServer(lambda r: reported) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k")
        lm("x")
        assert lm.history[-1]["cost"] == 0.0042
    assert LM("openai/test", api_base="http://127.0.0.1:9/v1", pricing={"input": 1}).dump_state().get("pricing") is None


def test_http2_option_uses_httpx_and_h2() -> None:
    pytest.importorskip("h2")
    with OpenAICompatServer(echo_reply) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False, http2=True)
        assert not lm._wire.fast and lm("hi") == ["hi"]   # cleartext: httpx falls back to HTTP/1.1 (no h2c)
        assert asyncio.run(lm.acall("hey")) == ["hey"]


def test_import_is_light_and_the_first_request_loads_httpx() -> None:
    import subprocess
    import sys

    code = ("import sys, dspex.native, dspex.lm; lm = dspex.lm.LM('openai/test', api_base='http://127.0.0.1:9/v1');"
            "print('httpx' in sys.modules, 'tenacity' in sys.modules, 'dspy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False"]
