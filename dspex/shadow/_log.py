"""The divergence log: JSON lines that stay whole under many threads and several processes.

Each line is written with one ``os.write`` on a descriptor opened with ``O_APPEND``, so concurrent writers (in
this process or others) never interleave inside a line. Rotation is by size: the rotating process holds an
``flock`` on ``<log>.lock`` and re-checks, under the lock, that the file it saw is still the current one, so two
processes never rotate twice. A log that cannot be written is reported once and never fails a caller.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: rotation is then only safe within one process
    fcntl = None  # type: ignore[assignment]

__all__ = ["DivergenceLog", "encode_line"]

logger = logging.getLogger("dspex.shadow")


def encode_line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=repr) + "\n").encode("utf-8")


class DivergenceLog:
    """Appends records to ``path`` (created with its folder on first write), rotating past ``max_bytes``."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.errors = 0
        self.lines = 0
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._warned = False

    def write(self, record: dict[str, Any]) -> bool:
        """Append one record; False (after one warning for the log's lifetime) when it could not be written."""
        try:
            line = encode_line(record)
        except (TypeError, ValueError) as exc:
            self._report(exc, "could not be encoded as JSON")
            return False
        with self._lock:
            try:
                fd = self._open()
                if os.fstat(fd).st_size and os.fstat(fd).st_size + len(line) > self.max_bytes:
                    fd = self._rotate(len(line))
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(f"short write ({written} of {len(line)} bytes)")
                self.lines += 1
                return True
            except OSError as exc:
                self._close()
                self._report(exc, "could not be written")
                return False

    def close(self) -> None:
        with self._lock:
            self._close()

    # --- internals (called with self._lock held) -------------------------------------------------------------
    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return self._fd

    def _close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def _rotate(self, incoming: int) -> int:
        lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(lock_fd, fcntl.LOCK_EX)
            mine = os.fstat(self._fd) if self._fd is not None else None
            try:
                current = os.stat(self.path)
            except FileNotFoundError:
                current = None
            same = (
                current is not None and mine is not None
                and (current.st_ino, current.st_dev) == (mine.st_ino, mine.st_dev)
            )
            if same and current is not None and current.st_size + incoming > self.max_bytes:
                self._shift_backups()
            self._close()
            return self._open()
        finally:
            if fcntl is not None:
                fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)

    def _shift_backups(self) -> None:
        if self.backups == 0:
            os.unlink(self.path)
            return
        for i in range(self.backups - 1, 0, -1):
            older = Path(f"{self.path}.{i}")
            if older.exists():
                os.replace(older, f"{self.path}.{i + 1}")
        os.replace(self.path, f"{self.path}.1")

    def _report(self, exc: BaseException, what: str) -> None:
        self.errors += 1
        if self._warned:
            return
        self._warned = True
        message = (
            f"dspex shadow: the divergence log {self.path} {what} ({exc}); shadow comparisons go on but are not "
            "logged. Set shadow.log_path to a writable file or folder."
        )
        logger.warning(message)
        warnings.warn(message, RuntimeWarning, stacklevel=2)
