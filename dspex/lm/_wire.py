"""One endpoint's connections: httpx clients (sync and async, pooled, keep-alive), plus a stdlib lane.

httpx gives dspex.LM what every Python HTTP client is expected to give: proxies from ``HTTP(S)_PROXY`` /
``ALL_PROXY`` / ``NO_PROXY``, CA bundles from ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` (or ``verify=``), HTTP/2 with
the ``h2`` extra, an async client, streaming. It is imported on the first request, never at import.

Why a second lane: on these machines httpx spends ~0.4-1 ms of CPU per request more than ``http.client`` (its
request/response models, h11, per-call URL merging; measured in ``benchmarks/lm.py``), which at a fast local
model is most of a call. So a *sync, plain-HTTP, HTTP/1.1* request to an endpoint that no proxy setting covers
goes over a kept-alive ``http.client`` connection per thread (:class:`dspex.lm._http.Endpoint`); everything
else (async, https, HTTP/2, any proxy in the environment, streaming) goes through httpx. Both lanes answer the
same ``(status, headers, body)`` and raise the same two failure kinds, so retries and errors are one code path.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import urllib.request
from typing import Any, AsyncIterator, Iterator

from ._http import Endpoint

__all__ = ["Wire", "Unreachable", "TimedOut"]

class Unreachable(Exception):
    """No answer could be had: connection refused/reset, DNS, proxy or TLS failure (``__cause__`` says which)."""


class TimedOut(Unreachable):
    """The endpoint did not answer within the timeout."""


def _proxied(scheme: str) -> bool:
    """Whether the environment names a proxy for ``scheme`` (then httpx decides, NO_PROXY included)."""
    proxies = urllib.request.getproxies()
    return bool(proxies.get(scheme) or proxies.get("all"))


class Wire:
    """Connections to one ``.../chat/completions`` URL; safe to share between threads and event loops."""

    def __init__(self, api_base: str, *, http2: bool = False, verify: Any = True) -> None:
        self.endpoint = Endpoint(api_base)      # validates the URL; the stdlib lane when allowed
        self.url = self.endpoint.url                   # for messages: credentials in it masked
        self.request_url = self.endpoint.request_url
        self.http2 = http2
        self.verify = verify
        self.fast = (self.endpoint.scheme == "http" and not http2 and not self.endpoint.credentials
                     and not _proxied("http"))
        self._client: Any = None
        self._aclients: dict[asyncio.AbstractEventLoop, tuple[Any, Any]] = {}   # loop -> (client, its closer)
        self._lock = threading.Lock()

    # --- clients -------------------------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        """httpx's own defaults for the environment (proxies, CA bundles); TCP_NODELAY is httpcore's default."""
        import httpx

        # 100 connections, 10 kept alive: httpcore scans its idle connections once per idle connection on every
        # request (quadratic), so a larger keep-alive pool costs more CPU per call than reconnecting a burst saves
        # (50 concurrent calls: 0.8 s with 64 kept alive, 0.15 s with 10; benchmarks/lm.py).
        return {"http2": self.http2, "verify": self.verify, "trust_env": True, "timeout": None,
                "limits": httpx.Limits(max_connections=100, max_keepalive_connections=10, keepalive_expiry=30.0)}

    def client(self) -> Any:
        client = self._client
        if client is None:
            import httpx

            with self._lock:
                if self._client is None:   # no transport= of ours: that would switch httpx's env proxies off
                    self._client = httpx.Client(**self._options())
                client = self._client
        return client

    async def aclient(self) -> Any:
        """The async client of the running event loop (an httpx.AsyncClient cannot outlive its loop).

        Each is closed with its loop: a started async generator holds it, and ``asyncio.run`` (any loop's
        ``shutdown_asyncgens``) finalizes that generator, which closes the client's sockets while the loop still
        runs. Without that, one client and its kept-alive socket per finished loop stayed here for ever (the
        client's sockets keep the loop alive), until the process ran out of file descriptors. Loops closed
        without ``shutdown_asyncgens`` are dropped when the next loop's client is made (their sockets close when
        collected), as dspy.LM drops its pools of closed loops.
        """
        loop = asyncio.get_running_loop()
        entry = self._aclients.get(loop)
        if entry is not None:
            return entry[0]
        import httpx

        client = httpx.AsyncClient(**self._options())
        closer = self._close_with_loop(loop, client)
        with self._lock:
            for dead in [other for other in self._aclients if other.is_closed()]:
                del self._aclients[dead]
            self._aclients[loop] = (client, closer)
        await closer.asend(None)   # started: the loop now finalizes it at shutdown
        return client

    async def _close_with_loop(self, loop: asyncio.AbstractEventLoop, client: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            with self._lock:
                if self._aclients.get(loop, (None,))[0] is client:
                    del self._aclients[loop]
            await client.aclose()

    # --- one request ---------------------------------------------------------------------------------------
    def send(self, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
        if self.fast:
            try:
                return self.endpoint.send_once(body, headers, timeout)
            except (socket.timeout, TimeoutError) as exc:
                raise TimedOut(str(exc) or "timed out") from exc
            except OSError as exc:
                raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
            except http.client.HTTPException as exc:
                # a cut body, bad chunking, a bad status line: a broken answer, retried like httpx's (and dspy.LM's)
                if type(exc) not in (http.client.LineTooLong, http.client.HTTPException):
                    raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
                # a header over http.client's own limits (64 KiB a line, 100 lines), which httpx reads: this
                # endpoint leaves the stdlib lane, and the request goes again through httpx
                self.fast = False
        import httpx

        try:
            r = self.client().post(self.request_url, content=body, headers=headers, timeout=timeout)
        except httpx.RequestError as exc:   # transport failures, timeouts, a body its encoding cannot decode
            raise _failure(exc) from exc
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

    async def asend(self, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
        import httpx

        try:
            r = await (await self.aclient()).post(self.request_url, content=body, headers=headers, timeout=timeout)
        except httpx.RequestError as exc:
            raise _failure(exc) from exc
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content

    # --- streaming (server-sent events) --------------------------------------------------------------------
    def stream(self, body: bytes, headers: dict[str, str], timeout: float) -> Iterator[tuple[int, dict[str, str], Any]]:
        """Yields once ``(status, headers, lines)``: ``lines`` iterates the body's lines while the block runs; a
        failure while reading them raises :class:`Unreachable` too."""
        import httpx

        try:
            with self.client().stream("POST", self.request_url, content=body, headers=headers, timeout=timeout) as r:
                lines = _lines(r.iter_lines()) if r.status_code == 200 else iter([r.read().decode("utf-8", "replace")])
                yield r.status_code, {k.lower(): v for k, v in r.headers.items()}, lines
        except httpx.RequestError as exc:
            raise _failure(exc) from exc

    async def astream(self, body: bytes, headers: dict[str, str],
                      timeout: float) -> AsyncIterator[tuple[int, dict[str, str], Any]]:
        import httpx

        try:
            async with (await self.aclient()).stream("POST", self.request_url, content=body, headers=headers,
                                                     timeout=timeout) as r:
                if r.status_code == 200:
                    lines = _alines(r.aiter_lines())
                else:
                    text = (await r.aread()).decode("utf-8", "replace")
                    lines = _one(text)
                yield r.status_code, {k.lower(): v for k, v in r.headers.items()}, lines
        except httpx.RequestError as exc:
            raise _failure(exc) from exc

    def close(self) -> None:
        """Close this thread's stdlib connection and the sync httpx client (async ones close with their loop)."""
        self.endpoint.close()
        client, self._client = self._client, None
        if client is not None:
            client.close()


async def _one(text: str) -> AsyncIterator[str]:
    yield text


def _failure(exc: Exception) -> Unreachable:
    """httpx's failure as the wire's kind: a timeout, or any other request error (transport, decoding, ...)."""
    import httpx

    cls = TimedOut if isinstance(exc, httpx.TimeoutException) else Unreachable
    failure = cls(f"{type(exc).__name__}: {exc}")
    failure.__cause__ = exc
    return failure


def _lines(lines: Iterator[str]) -> Iterator[str]:
    import httpx

    try:
        yield from lines
    except httpx.RequestError as exc:
        raise _failure(exc) from exc


async def _alines(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    import httpx

    try:
        async for line in lines:
            yield line
    except httpx.RequestError as exc:
        raise _failure(exc) from exc
