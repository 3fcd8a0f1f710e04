"""POST a chat request and decode the answer: retries through tenacity, failures as typed ``dspex.errors``.

The contract is dspy.LM's: 429, 408, 409 and 5xx answers and connection failures are retried (``num_retries``
times), waiting 1, 2, 4, 8 ... s (capped at 60 s: DSPy's schedule, so an outage dspy.LM rides out is ridden out),
or what the server asks in ``Retry-After`` (seconds or an HTTP date), ``retry-after-ms`` or ``x-ms-retry-after-ms``
(capped at 60 s); other 4xx answers are the caller's mistake and fail at once. The first attempt runs inline; tenacity (imported only then) drives the
retries, so a healthy call pays nothing for them. No message ever includes the API key.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from ..errors import ContextWindowExceededError, LMError, LMResponseError
from ._body import dumps_body
from ._errors import answer_error, status_error, transport_error
from ._wire import Unreachable, Wire

__all__ = ["post_json", "apost_json", "request_headers", "status_error", "transport_error", "RETRY_STATUSES"]

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
BACKOFF_BASE_S = 1.0        # dspy.LM waits min(2 ** attempt, 60) s after its attempt-th failure (0-based)
MAX_BACKOFF_S = 60.0
MAX_RETRY_AFTER_S = 60.0


class _Retryable(Exception):
    """One failed attempt worth another: carries the error to raise if it was the last, and Retry-After."""

    def __init__(self, error: LMError, retry_after: float | None) -> None:
        self.error = error
        self.retry_after = retry_after


def request_headers(api_key: str | None, extra: dict[str, str] | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "dspex"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if extra:
        headers.update(extra)
    return headers


def _seconds(value: str, scale: float = 1.0) -> float | None:
    try:
        seconds = float(value) * scale
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _date_seconds(value: str) -> float | None:
    import datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def _retry_after(headers: dict[str, str]) -> float | None:
    """The server's wait, as dspy.LM reads it: ``Retry-After`` in seconds or as an HTTP date, then
    ``retry-after-ms`` / ``x-ms-retry-after-ms`` (OpenAI, Azure); None when none is valid."""
    seconds = None
    value = headers.get("retry-after")
    if value is not None:
        seconds = _seconds(value)
        if seconds is None:
            seconds = _date_seconds(value)
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        if seconds is None and headers.get(name) is not None:
            seconds = _seconds(headers[name], 0.001)
    return None if seconds is None else min(MAX_RETRY_AFTER_S, seconds)


def _decode(wire: Wire, status: int, headers: dict[str, str], data: bytes, attempts: int) -> dict[str, Any]:
    """The JSON answer of a 200, else raise: :class:`_Retryable` for a status worth retrying."""
    if status == 200:
        try:
            payload = json.loads(data)
        except ValueError:
            raise LMResponseError(
                f"LM at {wire.url} answered HTTP 200 with a body that is not JSON: "
                f"{data[:200].decode('utf-8', 'replace')!r}; is api_base= an OpenAI-compatible endpoint?",
                url=wire.url, attempts=attempts) from None
        if type(payload) is dict and "error" in payload:
            failure = answer_error(wire.url, payload, data, attempts)
            if isinstance(failure, ContextWindowExceededError):
                raise failure
            if failure is not None:
                raise _Retryable(failure, _retry_after(headers))
        return payload
    error = status_error(wire.url, status, data, attempts)
    if status in RETRY_STATUSES:
        raise _Retryable(error, _retry_after(headers))
    raise error


def _once(wire: Wire, body: bytes, headers: dict[str, str], timeout: float, attempts: int) -> dict[str, Any]:
    try:
        status, resp_headers, data = wire.send(body, headers, timeout)
    except Unreachable as exc:
        raise _Retryable(transport_error(wire, exc, timeout, attempts), None) from None
    return _decode(wire, status, resp_headers, data, attempts)


async def _aonce(wire: Wire, body: bytes, headers: dict[str, str], timeout: float, attempts: int) -> dict[str, Any]:
    try:
        status, resp_headers, data = await wire.asend(body, headers, timeout)
    except Unreachable as exc:
        raise _Retryable(transport_error(wire, exc, timeout, attempts), None) from None
    return _decode(wire, status, resp_headers, data, attempts)


def _retrying(num_retries: int, asynchronous: bool) -> Any:
    """tenacity's loop over every attempt (the inline first one included, so backoff counts it)."""
    import tenacity

    def wait(state: Any) -> float:
        exc = state.outcome.exception()
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return after
        return min(BACKOFF_BASE_S * 2 ** min(state.attempt_number - 1, 16), MAX_BACKOFF_S)

    cls = tenacity.AsyncRetrying if asynchronous else tenacity.Retrying
    return cls(stop=tenacity.stop_after_attempt(num_retries + 1), wait=wait, reraise=True,
               retry=tenacity.retry_if_exception_type(_Retryable))


def post_json(wire: Wire, payload: dict[str, Any], api_key: str | None, timeout: float, num_retries: int,
              extra_headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST ``payload`` and return the decoded JSON answer, retrying transient failures ``num_retries`` times."""
    body = dumps_body(payload)
    headers = request_headers(api_key, extra_headers)
    try:
        return _once(wire, body, headers, timeout, 1)
    except _Retryable as first:
        if num_retries <= 0:
            raise first.error from first.error.__cause__
        pending: _Retryable | None = first
    try:
        for attempt in _retrying(num_retries, False):
            with attempt:
                if pending is not None:
                    failed, pending = pending, None
                    raise failed
                return _once(wire, body, headers, timeout, attempt.retry_state.attempt_number)
    except _Retryable as last:
        raise last.error from last.error.__cause__
    raise AssertionError("unreachable")  # pragma: no cover


async def apost_json(wire: Wire, payload: dict[str, Any], api_key: str | None, timeout: float, num_retries: int,
                     extra_headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The async twin of :func:`post_json` (httpx's AsyncClient, ``asyncio.sleep`` between attempts)."""
    body = dumps_body(payload)
    headers = request_headers(api_key, extra_headers)
    try:
        return await _aonce(wire, body, headers, timeout, 1)
    except _Retryable as first:
        if num_retries <= 0:
            raise first.error from first.error.__cause__
        pending: _Retryable | None = first
    try:
        async for attempt in _retrying(num_retries, True):
            with attempt:
                if pending is not None:
                    failed, pending = pending, None
                    raise failed
                return await _aonce(wire, body, headers, timeout, attempt.retry_state.attempt_number)
    except _Retryable as last:
        raise last.error from last.error.__cause__
    raise AssertionError("unreachable")  # pragma: no cover
