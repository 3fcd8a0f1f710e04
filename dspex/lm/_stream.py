"""Streamed chat completions: server-sent events in, OpenAI chunk dicts out, and the completion they add up to.

A streamed call ends exactly like an ordinary one (same outputs, history entry, usage, cache), so streaming is a
way of *watching* a call, never a different answer. Chunks keep OpenAI's shape (``choices[i].delta.content``),
the shape DSPy's stream listeners read.
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterator, Callable, Iterable, Iterator

from ..errors import LMResponseError, LMServerError
from ._body import dumps_body
from ._complete import text_of
from ._errors import answer_error, status_error, transport_error
from ._retry import request_headers
from ._wire import Unreachable

__all__ = ["parse_event", "Assembler", "chunks", "achunks", "whole_chunk", "completion_chunk"]


def parse_event(line: str, url: str) -> dict[str, Any] | None:
    """One SSE line -> a chunk dict; None for blank lines, comments, other fields and ``[DONE]``."""
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if not data or data == "[DONE]":
        return None
    try:
        chunk = json.loads(data)
    except ValueError:
        raise LMResponseError(f"LM at {url} streamed an event that is not JSON: {data[:200]!r}", url=url) from None
    if isinstance(chunk, dict) and "error" in chunk:
        raise LMResponseError(f"LM at {url} reported an error mid-stream: {chunk['error']!r}", url=url)
    return chunk if isinstance(chunk, dict) else None


class Assembler:
    """Adds chunks up into the ``chat.completion`` body a non-streamed call would have returned."""

    def __init__(self) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.usage: dict[str, Any] | None = None
        self.choices: dict[int, dict[str, Any]] = {}

    def push(self, chunk: dict[str, Any]) -> None:
        self.id = self.id or chunk.get("id")
        self.model = self.model or chunk.get("model")
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            index = choice.get("index", 0)
            acc = self.choices.setdefault(index, {"content": [], "reasoning": [], "tools": {}, "finish": None,
                                                  "logprobs": None})
            delta = choice.get("delta") or {}
            if delta.get("content"):
                acc["content"].append(delta["content"])
            if delta.get("reasoning_content"):
                acc["reasoning"].append(delta["reasoning_content"])
            for call in delta.get("tool_calls") or []:
                slot = acc["tools"].setdefault(call.get("index", 0), {"id": None, "type": "function",
                                                                      "function": {"name": "", "arguments": ""}})
                slot["id"] = call.get("id") or slot["id"]
                fn = call.get("function") or {}
                slot["function"]["name"] += fn.get("name") or ""
                slot["function"]["arguments"] += fn.get("arguments") or ""
            if choice.get("finish_reason"):
                acc["finish"] = choice["finish_reason"]

    def feed(self, chunks: Iterable[dict[str, Any]]) -> "Assembler":
        for chunk in chunks:
            self.push(chunk)
        return self

    def completion(self) -> dict[str, Any]:
        choices = []
        for index in sorted(self.choices):
            acc = self.choices[index]
            message: dict[str, Any] = {"role": "assistant", "content": "".join(acc["content"])}
            if acc["reasoning"]:
                message["reasoning_content"] = "".join(acc["reasoning"])
            if acc["tools"]:
                message["tool_calls"] = [acc["tools"][i] for i in sorted(acc["tools"])]
            choices.append({"index": index, "message": message, "finish_reason": acc["finish"]})
        body: dict[str, Any] = {"id": self.id, "object": "chat.completion", "model": self.model, "choices": choices}
        if self.usage is not None:
            body["usage"] = self.usage
        return body


def _request(prep: Any) -> tuple[bytes, dict[str, str]]:
    # usage in the last chunk (OpenAI's stream_options), so a streamed call reports tokens and cost too
    body = dumps_body({**prep.payload, "stream": True, "stream_options": {"include_usage": True}})
    headers = request_headers(prep.api_key, prep.headers)
    headers["Accept"] = "text/event-stream"
    return body, headers


_SSE_FIELDS = (":", "event:", "id:", "retry:")


def completion_chunk(text: str, url: str) -> dict[str, Any]:
    """A server that ignored ``stream`` and answered one JSON completion: that answer as one chunk."""
    try:
        body = json.loads(text)
    except ValueError:
        raise LMResponseError(f"LM at {url} answered a streamed request with neither server-sent events nor JSON: "
                              f"{text[:200]!r}", url=url) from None
    if type(body) is dict and "error" in body:
        failure = answer_error(url, body, text.encode(), 1)
        if failure is not None:
            raise failure
    if type(body) is not dict or not isinstance(body.get("choices"), list):
        raise LMResponseError(f"LM at {url} answered a streamed request with JSON that is not a chat completion: "
                              f"{text[:200]!r}", url=url)
    choices = []
    for i, choice in enumerate(body["choices"]):
        delta = dict(choice.get("message") or {})
        delta["content"] = text_of(delta.get("content"))
        if delta.get("tool_calls"):
            delta["tool_calls"] = [{**call, "index": j} for j, call in enumerate(delta["tool_calls"])]
        choices.append({"index": choice.get("index", i), "delta": delta, "finish_reason": choice.get("finish_reason")})
    return {"id": body.get("id"), "object": "chat.completion.chunk", "model": body.get("model"), "choices": choices,
            "usage": body.get("usage")}


class _Reader:
    """Reads a 200's lines: its events' chunks, else (no event at all) the plain JSON answer some servers send."""

    def __init__(self, url: str) -> None:
        self.url, self.events, self.other, self.finished = url, 0, [], False

    def line(self, line: str) -> dict[str, Any] | None:
        if line.startswith("data:"):
            self.events += 1
            return self._seen(parse_event(line, self.url))
        if line and not line.startswith(_SSE_FIELDS):
            self.other.append(line)
        return None

    def rest(self) -> dict[str, Any] | None:
        return self._seen(completion_chunk("\n".join(self.other), self.url)) if not self.events and self.other else None

    def _seen(self, chunk: dict[str, Any] | None) -> dict[str, Any] | None:
        if chunk is not None and not self.finished:
            self.finished = any(isinstance(c, dict) and c.get("finish_reason") for c in chunk.get("choices") or ())
        return chunk

    def end(self, lm15: bool) -> None:
        """The stream is over. On dspy.LM's LiteLLM side one that never said why it stopped is a failure
        (LiteLLM: "Stream ended before a finish_reason was received", which DSPy raises as its LMServerError,
        unretried): the answer may be cut short. DSPy's lm15 side reads such a stream as it came, and so does
        dspex.LM there."""
        if not lm15 and not self.finished:
            raise LMServerError(f"LM at {self.url} ended its streamed answer before a finish_reason was received; "
                                "the answer may be cut short (a proxy or the server dropped the stream?).",
                                status=200, body="", url=self.url, attempts=1)


def chunks(prep: Any, on_chunk: Callable[[dict[str, Any]], None] | None) -> Iterator[dict[str, Any]]:
    """The chunks of one streamed request (``prep`` from ``_complete.prepare``), each also given to ``on_chunk``."""
    body, headers = _request(prep)
    url = prep.wire.url
    try:
        for status, _, lines in prep.wire.stream(body, headers, prep.timeout):
            if status != 200:
                raise status_error(url, status, "".join(lines).encode(), 1)
            reader = _Reader(url)
            for line in lines:
                chunk = reader.line(line)
                if chunk is not None:
                    if on_chunk is not None:
                        on_chunk(chunk)
                    yield chunk
            chunk = reader.rest()
            if chunk is not None:
                if on_chunk is not None:
                    on_chunk(chunk)
                yield chunk
            reader.end(prep.lm15)
    except Unreachable as exc:
        raise transport_error(prep.wire, exc, prep.timeout, 1) from None


async def achunks(prep: Any) -> AsyncIterator[dict[str, Any]]:
    body, headers = _request(prep)
    url = prep.wire.url
    try:
        async for status, _, lines in prep.wire.astream(body, headers, prep.timeout):
            if status != 200:
                text = "".join([line async for line in lines])
                raise status_error(url, status, text.encode(), 1)
            reader = _Reader(url)
            async for line in lines:
                chunk = reader.line(line)
                if chunk is not None:
                    yield chunk
            chunk = reader.rest()
            if chunk is not None:
                yield chunk
            reader.end(prep.lm15)
    except Unreachable as exc:
        raise transport_error(prep.wire, exc, prep.timeout, 1) from None


def whole_chunk(outputs: Any) -> dict[str, Any]:
    """A cache hit, streamed: one chunk holding the whole first answer (what DSPy's listeners get on a hit)."""
    first = outputs[0] if isinstance(outputs, list) and outputs else outputs
    text = first.get("text") if isinstance(first, dict) else getattr(first, "text", first)
    return {"object": "chat.completion.chunk", "cache_hit": True,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}
