"""The stdlib lane of :mod:`dspex.lm._wire`: one kept-alive ``http.client`` connection per (thread, endpoint).

Used only for sync, plain-HTTP, HTTP/1.1 requests that no proxy setting covers (see ``_wire`` for why); it
answers ``(status, headers, body)`` (a 200's headers left unread) and lets ``OSError`` / timeouts through for the
wire to classify.
"""

from __future__ import annotations

import http.client
import socket
import threading
from urllib.parse import urlsplit

from ..errors import LMError

__all__ = ["Endpoint"]


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
        self.request_url = f"{parts.scheme}://{parts.netloc}{self.path}"
        # credentials in the URL (user:password@) go to httpx, which sends them; messages show them masked
        self.credentials = "@" in parts.netloc
        shown = f"***@{parts.netloc.rpartition('@')[2]}" if self.credentials else parts.netloc
        self.url = f"{parts.scheme}://{shown}{self.path}"
        self._local = threading.local()

    def _connection(self, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it was reused (a reused one may have been closed by the peer)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            if conn.timeout != timeout:   # a syscall or two: only when the call's timeout differs
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
            # the headers are read only to retry a failed answer (Retry-After): a 200's are not copied out
            return resp.status, {} if resp.status == 200 else {k.lower(): v for k, v in resp.getheaders()}, data
        raise AssertionError("unreachable")
