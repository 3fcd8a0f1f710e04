"""The errors a chat request ends in, as typed ``dspex.errors``: each names the URL and what to do."""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import (
    ContextWindowExceededError,
    LMAuthenticationError,
    LMConnectionError,
    LMError,
    LMRateLimitError,
    LMServerError,
    LMStatusError,
    LMTimeoutError,
)
from ._wire import TimedOut, Unreachable, Wire

__all__ = ["status_error", "transport_error", "answer_error", "redact"]

_RATE_LIMIT_CODES = frozenset({"rate_limit_exceeded", "too_many_requests", "no_capacity", "429"})


def _server_message(data: bytes) -> str:
    try:
        payload = json.loads(data)
    except ValueError:
        payload = None
    message = None
    if isinstance(payload, dict):
        error = payload.get("error")
        message = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else None
    text = message if isinstance(message, str) and message else data.decode("utf-8", "replace")
    return text[:500]


def _context_window(status: int, data: bytes, said: str) -> bool:
    """OpenAI's ``context_length_exceeded`` code, or the wording OpenAI-compatible servers (vLLM, ...) use."""
    if status not in (400, 413):
        return False
    text = said.lower()
    return b"context_length_exceeded" in data or "maximum context length" in text or "context window" in text


def status_error(url: str, status: int, data: bytes, attempts: int) -> LMError:
    said = _server_message(data)
    if _context_window(status, data, said):
        # the class agents (ReAct) catch to shorten their trajectory, DSPy's name and wording
        error = ContextWindowExceededError(message=f"LM request to {url} failed with HTTP {status}: {said}")
        error.url, error.attempts, error.status, error.body = url, attempts, status, said   # type: ignore[attr-defined]
        return error
    cls: type[LMStatusError] = LMStatusError
    if status in (401, 403):
        cls, hint = LMAuthenticationError, "the server rejected the credentials; check api_key= (or OPENAI_API_KEY)."
    elif status == 404:
        hint = "no such endpoint or model; check api_base= (usually ending in /v1) and the model name."
    elif status == 429:
        cls, hint = LMRateLimitError, "rate limited; lower the request rate or raise num_retries=."
    elif status >= 500:
        cls, hint = LMServerError, "the server failed; check its logs, or raise num_retries=."
    else:
        hint = "the server refused the request; check the call's kwargs against what the server accepts."
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return cls(f"LM request to {url} failed with HTTP {status}{tries}: {hint} Server said: {said}",
               status=status, body=said, url=url, attempts=attempts)


def transport_error(wire: Wire, exc: Unreachable, timeout: float, attempts: int) -> LMError:
    if isinstance(exc, TimedOut):
        error: LMError = LMTimeoutError(
            f"LM request to {wire.url} got no answer within {timeout:g} s (attempt {attempts}); "
            "raise timeout= or check the server.", url=wire.url, attempts=attempts)
    else:
        error = LMConnectionError(
            f"Could not reach the LM at {wire.url} ({exc}; attempt {attempts}); is the server running, is "
            "api_base= right, and does any HTTP(S)_PROXY in the environment apply?", url=wire.url, attempts=attempts)
    error.__cause__ = exc.__cause__ or exc
    return error


def answer_error(url: str, payload: dict[str, Any], data: bytes, attempts: int) -> LMError | None:
    """The error a 200 carries in place of an answer (gateways such as OpenRouter send ``{"error": {...}}``), or None.

    As dspy.LM reads it (lm15's chat reader): an ``error`` object is a failure of the server's, retried, whatever
    else the body holds; its rate-limit codes are rate limits. dspex also reads an error string when no choices
    came, and OpenAI's ``context_length_exceeded`` (never retried), so the server's words are what the caller sees.
    """
    error = payload.get("error")
    if not isinstance(error, dict) and not (error and not payload.get("choices")):
        return None
    said = _server_message(data)
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    where = f"LM at {url} answered HTTP 200 with an error" + (f" (code {code})" if code else "")
    if code == "context_length_exceeded" or _context_window(400, data, said):
        ctx = ContextWindowExceededError(message=f"{where}: {said}")
        ctx.url, ctx.attempts, ctx.status, ctx.body = url, attempts, 200, said   # type: ignore[attr-defined]
        return ctx
    cls: type[LMStatusError] = LMServerError
    hint = "the server (or a gateway in front of it) failed; check its logs, or raise num_retries=."
    if code in _RATE_LIMIT_CODES:
        cls, hint = LMRateLimitError, "rate limited; lower the request rate or raise num_retries=."
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return cls(f"{where}{tries}: {hint} Server said: {said}", status=200, body=said, url=url, attempts=attempts)


def redact(exc: BaseException, api_key: str | None) -> None:
    """Mask the API key wherever an error would show it: a server (or proxy) may echo the key it rejected, and
    the message, ``body`` and anything that logs or traces the error would carry it on."""
    if not api_key or not isinstance(exc, LMError):
        return
    key = re.compile(r"(?<![\w-])" + re.escape(api_key) + r"(?![\w-])")   # the key as a token, not inside a word
    exc.args = tuple(key.sub("<api_key>", a) if isinstance(a, str) else a for a in exc.args)
    for name in ("body", "message"):
        value = getattr(exc, name, None)
        if isinstance(value, str):
            setattr(exc, name, key.sub("<api_key>", value))
