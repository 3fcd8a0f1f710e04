"""A loopback stand-in for the flagd daemon's sync service (the Go ``flagd`` binary is not installed here).

It speaks flagd's real gRPC protocol (``flagd.sync.v1.FlagSyncService``, the protobufs shipped with
openfeature-provider-flagd): ``SyncFlags`` streams the flag file's text, again whenever :meth:`publish` is called,
which is what ``flagd start --uri file:...`` does when the file changes. The client under test is the real
``FlagdProvider`` in IN_PROCESS mode, exactly as dspex builds it for ``flags="flagd+in-process://host:port"``.
"""

from __future__ import annotations

import queue
import threading
from concurrent import futures
from typing import Any, Iterator

import grpc
from openfeature.schemas.protobuf.flagd.sync.v1 import sync_pb2, sync_pb2_grpc


class _Servicer(sync_pb2_grpc.FlagSyncServiceServicer):
    def __init__(self, server: "FlagSyncServer") -> None:
        self.server = server

    def SyncFlags(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802 - the protocol's name
        inbox: queue.Queue[str | None] = queue.Queue()
        with self.server.lock:
            self.server.subscribers.append(inbox)
            inbox.put(self.server.text)
        while context.is_active():
            try:
                text = inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            if text is None:
                return
            yield sync_pb2.SyncFlagsResponse(flag_configuration=text, sync_context={"server": "stand-in"})

    def FetchAllFlags(self, request: Any, context: Any) -> Any:  # noqa: N802
        return sync_pb2.FetchAllFlagsResponse(flag_configuration=self.server.text)

    def GetMetadata(self, request: Any, context: Any) -> Any:  # noqa: N802
        return sync_pb2.GetMetadataResponse(metadata={"server": "stand-in"})


class FlagSyncServer:
    """``with FlagSyncServer(text) as s:`` serves on 127.0.0.1:``s.port``; ``s.publish(new_text)`` pushes a change."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lock = threading.Lock()
        self.subscribers: list[queue.Queue[str | None]] = []
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        sync_pb2_grpc.add_FlagSyncServiceServicer_to_server(_Servicer(self), self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    def publish(self, text: str) -> None:
        with self.lock:
            self.text = text
            for inbox in self.subscribers:
                inbox.put(text)

    def __enter__(self) -> "FlagSyncServer":
        self._server.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        with self.lock:
            for inbox in self.subscribers:
                inbox.put(None)
        self._server.stop(grace=None)
