"""A tiny OpenAI-compatible chat server on 127.0.0.1 for tests, demos and benchmarks (stdlib only).

    with OpenAICompatServer(echo_reply) as server:
        lm = dspex.LM("openai/test", api_base=server.api_base, api_key="k")

Replies come from a function ``reply(request: dict) -> str | list[str] | Reply | dict``: a string is one
choice, a list is one choice per item, a :class:`Reply` scripts a status / body / headers (for retry and error
tests), a dict is sent as the whole JSON body. The server speaks HTTP/1.1 with keep-alive, like the real ones,
records every request body in ``server.requests``, and binds a free port on loopback only.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

__all__ = ["OpenAICompatServer", "Reply", "echo_reply", "scripted", "last_user_message", "chat_completion"]


@dataclass
class Reply:
    """A scripted HTTP answer: ``Reply(429, headers={"Retry-After": "0"})``; ``body`` may be a dict or str."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def last_user_message(request: dict[str, Any]) -> str:
    """The text of the request's last user message ("" when there is none)."""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def echo_reply(request: dict[str, Any]) -> str:
    """Answer with the last user message, unchanged."""
    return last_user_message(request)


def scripted(replies: Iterable[Any], cycle: bool = True) -> Callable[[dict[str, Any]], Any]:
    """Serve ``replies`` in order (cycling by default); thread-safe."""
    items = list(replies)
    source = itertools.cycle(items) if cycle else iter(items)
    lock = threading.Lock()

    def reply(request: dict[str, Any]) -> Any:
        with lock:
            try:
                return next(source)
            except StopIteration:
                return Reply(500, {"error": {"message": "scripted replies exhausted"}})

    return reply


def chat_completion(texts: list[str], model: str = "test", request: dict[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` body with one choice per text."""
    return {
        "id": "chatcmpl-dspex-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop", "logprobs": None}
            for i, t in enumerate(texts)
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle + delayed ACK add ~40 ms a reply.
    disable_nagle_algorithm = True
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: tests read server.requests
        return None

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        if "Content-Type" not in (headers or {}):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": "test", "object": "model"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, {"error": {"message": "body is not JSON"}})
            return
        owner = self.server.owner
        owner._record(request, dict(self.headers), self.client_address)
        try:
            answer = owner.reply(request)
        except Exception as exc:  # the test's reply function failed: say so in a 500, don't kill the server
            self._send(500, {"error": {"message": f"reply function raised {type(exc).__name__}: {exc}"}})
            return
        if isinstance(answer, Reply):
            if answer.delay:
                time.sleep(answer.delay)
            body = answer.body
            if body is None and answer.status == 200:
                body = chat_completion([""], request.get("model", "test"))
            self._send(answer.status, body if body is not None else {"error": {"message": f"HTTP {answer.status}"}},
                       answer.headers)
            return
        if isinstance(answer, dict):
            self._send(200, answer)
            return
        texts = [answer] if isinstance(answer, str) else list(answer)
        n = request.get("n") or 1
        if isinstance(answer, str) and n > 1:
            texts = texts * n
        if request.get("stream"):
            self._send_stream(texts, request)
            return
        self._send(200, chat_completion(texts, request.get("model", "test")))

    def _send_stream(self, texts: list[str], request: dict[str, Any]) -> None:
        """Server-sent events: each text in pieces of ``owner.stream_piece`` characters, then usage and [DONE]."""
        step = max(1, self.server.owner.stream_piece)
        base = {"id": "chatcmpl-dspex-test", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": request.get("model", "test")}
        events = []
        for i, text in enumerate(texts):
            events.append({**base, "choices": [{"index": i, "delta": {"role": "assistant", "content": ""},
                                                "finish_reason": None}]})
            events += [{**base, "choices": [{"index": i, "delta": {"content": text[j:j + step]},
                                             "finish_reason": None}]} for j in range(0, len(text), step)]
            events.append({**base, "choices": [{"index": i, "delta": {}, "finish_reason": "stop"}]})
        if (request.get("stream_options") or {}).get("include_usage"):
            events.append({**base, "choices": [], "usage": chat_completion(texts)["usage"]})
        data = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        self._send(200, data.encode(), {"Content-Type": "text/event-stream"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128   # socketserver's default backlog of 5 resets bursts of new connections
    owner: "OpenAICompatServer"

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # the client gave up (a timeout test): nothing to report
        super().handle_error(request, client_address)


class OpenAICompatServer:
    """A loopback ``/v1/chat/completions`` server in a background thread; use it as a context manager."""

    def __init__(self, reply: Callable[[dict[str, Any]], Any] = echo_reply, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("OpenAICompatServer binds loopback only; pass host='127.0.0.1'.")
        self.reply = reply
        self.stream_piece = 4      # characters per streamed chunk
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.clients: list[tuple[Any, ...]] = []  # (host, port) per request: one port = one kept-alive connection
        self._lock = threading.Lock()
        self._httpd = _Server((host, 0), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    def _record(self, request: dict[str, Any], headers: dict[str, str], client: Any) -> None:
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
            self.clients.append(tuple(client))

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def api_base(self) -> str:
        """What to pass as ``api_base=`` (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    url = api_base

    def start(self) -> "OpenAICompatServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="dspex-test-llm", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "OpenAICompatServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
