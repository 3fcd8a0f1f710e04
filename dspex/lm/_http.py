"""POST JSON to an OpenAI-compatible endpoint: kept-alive connections per thread, retries, clear errors.

Only the standard library: ``http.client`` keeps one connection per (thread, host) alive between calls, which
is most of the difference between a ~1 ms and a ~5 ms loopback round trip. Retries follow the usual contract:
429, 408, 409 and 5xx answers and connection failures are retried with capped, jittered exponential backoff
(``Retry-After`` honoured); other 4xx answers are the caller's mistake and fail at once. No message or log
line ever includes the API key.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from ..errors import LMError

__all__ = ["Endpoint", "post_json"]

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
_MAX_BACKOFF_S = 8.0
_MAX_RETRY_AFTER_S = 30.0
_jitter = random.Random()  # our own generator: never advance the user's global ``random``


class Endpoint:
    """One ``.../chat/completions`` URL and this process's kept-alive connections to it (one per thread)."""

    def __init__(self, api_base: str, path: str = "/chat/completions") -> None:
        parts = urlsplit(api_base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LMError(
                f"api_base {api_base!r} is not an http(s) URL; pass e.g. api_base='http://127.0.0.1:8000/v1'."
            )
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.path = parts.path.rstrip("/") + path
        self.url = f"{parts.scheme}://{parts.netloc}{self.path}"
        self._local = threading.local()

    def _connection(self, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it was reused (a reused one may have been closed by the peer)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            return conn, True
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=timeout)
        conn.connect()
        if conn.sock is not None:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._local.conn = conn
        return conn, False

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close this thread's connection (others close when their threads' objects are collected)."""
        self._drop()

    def send_once(self, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
        """One request; a stale kept-alive connection is replaced and the request resent once."""
        for attempt in (0, 1):
            conn, reused = self._connection(timeout)
            try:
                conn.request("POST", self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                self._drop()
                if reused and attempt == 0:
                    continue  # the server closed an idle connection: not a failure, just reconnect
                raise
            except BaseException:
                self._drop()
                raise
            if resp.will_close:
                self._drop()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        raise AssertionError("unreachable")


def _retry_after(headers: dict[str, str]) -> float | None:
    try:
        return min(_MAX_RETRY_AFTER_S, max(0.0, float(headers["retry-after"])))
    except (KeyError, ValueError):
        return None


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


def _status_error(url: str, status: int, data: bytes, attempts: int) -> LMError:
    said = _server_message(data)
    if status in (401, 403):
        hint = "the server rejected the credentials; check api_key= (or OPENAI_API_KEY)."
    elif status == 404:
        hint = "no such endpoint or model; check api_base= (usually ending in /v1) and the model name."
    elif status == 429:
        hint = "rate limited; lower the request rate or raise num_retries=."
    elif status >= 500:
        hint = "the server failed; check its logs, or raise num_retries=."
    else:
        hint = "the server refused the request; check the call's kwargs against what the server accepts."
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return LMError(f"LM request to {url} failed with HTTP {status}{tries}: {hint} Server said: {said}")


def post_json(
    endpoint: Endpoint, payload: dict[str, Any], api_key: str | None, timeout: float, num_retries: int,
    extra_headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST ``payload`` and return the decoded JSON answer, retrying transient failures ``num_retries`` times."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "dspex"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if extra_headers:
        headers.update(extra_headers)
    attempts = 0
    while True:
        attempts += 1
        wait: float | None = None
        try:
            status, resp_headers, data = endpoint.send_once(body, headers, timeout)
        except (socket.timeout, TimeoutError) as exc:
            error = LMError(
                f"LM request to {endpoint.url} got no answer within {timeout:g} s (attempt {attempts}); "
                "raise timeout= or check the server."
            )
            error.__cause__ = exc
        except OSError as exc:
            error = LMError(
                f"Could not reach the LM at {endpoint.url} ({type(exc).__name__}: {exc}; attempt {attempts}); "
                "is the server running and is api_base= right?"
            )
            error.__cause__ = exc
        else:
            if status == 200:
                try:
                    return json.loads(data)
                except ValueError:
                    raise LMError(
                        f"LM at {endpoint.url} answered HTTP 200 with a body that is not JSON: "
                        f"{data[:200].decode('utf-8', 'replace')!r}; is api_base= an OpenAI-compatible endpoint?"
                    ) from None
            error = _status_error(endpoint.url, status, data, attempts)
            if status not in RETRY_STATUSES:
                raise error
            wait = _retry_after(resp_headers)
        if attempts > num_retries:
            raise error
        if wait is None:
            wait = min(_MAX_BACKOFF_S, 0.25 * 2 ** (attempts - 1)) * (0.5 + _jitter.random() / 2)
        time.sleep(wait)
