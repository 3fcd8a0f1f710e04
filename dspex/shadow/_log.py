"""The divergence log: JSON lines that stay whole under many threads and several processes, and that never hurt.

Each line is written with one ``os.write`` on a descriptor opened with ``O_APPEND``, so concurrent writers (in
this process or others) never interleave inside a line. Rotation is by size: the rotating process holds an
``flock`` on ``<log>.lock`` and re-checks, under the lock, that the file it saw is still the current one, so two
processes never rotate twice.

What the log refuses to do, whatever is at its path:

- follow a symlink (the log and its ``.lock`` are opened with ``O_NOFOLLOW``), or write to anything but a regular
  file: a FIFO, a device or a socket is refused at open (``O_NONBLOCK``, so opening a FIFO never waits for a
  reader);
- wait without bound: the in-process lock and the rotation ``flock`` are taken with a deadline (a writer stuck
  elsewhere costs a lost line, counted, never a hung caller or ``shutdown``);
- leave half a line: a line that would pass ``RLIMIT_FSIZE`` is not started, and a short write is cut back off
  the end of the file (when it is still the last thing there);
- drop a record for its text: a lone surrogate (``"\\ud800"``) is written as a JSON ``\\u`` escape.

Every record that is not written is a *loss*, counted by kind (:attr:`DivergenceLog.losses`), passed to
``on_loss`` (the runtime turns it into counters and a ``dspex.shadow.dropped`` event) and logged: the first loss
of each kind at once, then a summary at most every :data:`REPORT_EVERY_S` seconds and at ``close``.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import threading
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Callable

try:
    import fcntl
    import resource
except ImportError:  # pragma: no cover - not on POSIX: rotation is then only safe within one process
    fcntl = None  # type: ignore[assignment]
    resource = None  # type: ignore[assignment]

__all__ = ["DivergenceLog", "encode_line", "LOCK_WAIT_S", "REPORT_EVERY_S"]

logger = logging.getLogger("dspex.shadow")

LOCK_WAIT_S = 2.0        # longest wait for the in-process lock or the rotation flock
REPORT_EVERY_S = 60.0    # at most one summary warning per this many seconds (plus the first of each kind)
_OPEN_FLAGS = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0))
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class _Loss(Exception):
    """A record that will not be written, and why (``kind`` is the counter's name)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


def encode_line(record: dict[str, Any]) -> bytes:
    """One JSON line; text UTF-8 cannot hold (lone surrogates) is escaped, never dropped."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=repr) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(record, ensure_ascii=True, separators=(",", ":"), default=repr) + "\n").encode("ascii")


def _open_regular(path: Path, flags: int) -> int:
    """Open without following a symlink or waiting on a FIFO; anything but a regular file is refused."""
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.EMLINK and path.is_symlink()):
            raise _Loss("refused_path", f"was refused ({path} is a symlink; the log never follows one)") from None
        if exc.errno == errno.ENXIO:
            raise _Loss("refused_path", f"was refused ({path} is a FIFO or socket, not a regular file)") from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _Loss("refused_path", f"was refused ({path} is not a regular file but a FIFO, device or socket)")
    return fd


def _file_size_limit() -> float:
    if resource is None:
        return float("inf")
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return float("inf") if soft == resource.RLIM_INFINITY else float(soft)


class DivergenceLog:
    """Appends records to ``path`` (created with its folder on first write), rotating past ``max_bytes``."""

    def __init__(self, path: Path, max_bytes: int, backups: int,
                 on_loss: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.pid = os.getpid()
        self.lines = 0
        self.losses: Counter[str] = Counter()
        self.rotations_skipped = 0
        self._on_loss = on_loss
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._warned = False
        self._last_report = 0.0
        self._reported = 0             # losses covered by a warning so far
        self._loss_lock = threading.Lock()

    @property
    def errors(self) -> int:
        """Every record not written, whatever the reason."""
        return sum(self.losses.values())

    def write(self, record: dict[str, Any]) -> bool:
        """Append one record; False when it was lost (counted and reported, see the module docstring)."""
        try:
            line = encode_line(record)
        except (TypeError, ValueError, RecursionError) as exc:
            return self._lost("unencodable", f"could not encode a record as JSON ({type(exc).__name__}: {exc})")
        if not self._lock.acquire(timeout=LOCK_WAIT_S):
            return self._lost("busy", f"was held by another writer for more than {LOCK_WAIT_S:g}s")
        try:
            self._append(line)
            self.lines += 1
            return True
        except _Loss as loss:
            self._close()
            failure: tuple[str, str] = (loss.kind, str(loss))
        except OSError as exc:
            self._close()
            failure = ("write_error", f"could not be written ({exc.strerror or exc})")
        finally:
            self._lock.release()
        return self._lost(*failure)

    def close(self) -> None:
        """Close the file (bounded wait) and report losses not yet reported."""
        if self._lock.acquire(timeout=LOCK_WAIT_S):
            try:
                self._close()
            finally:
                self._lock.release()
        if self.errors > self._reported:
            self._warn("is closed", force=True)

    # --- internals (called with self._lock held) -------------------------------------------------------------
    def _append(self, line: bytes) -> None:
        fd = self._open()
        size = os.fstat(fd).st_size
        if size and size + len(line) > self.max_bytes:
            fd = self._rotate(len(line))
            size = os.fstat(fd).st_size
        if size + len(line) > _file_size_limit():
            raise _Loss("file_size_limit", "would pass the process's file size limit (ulimit -f)")
        written = os.write(fd, line)
        if written != len(line):
            self._cut_back(fd, written)
            raise _Loss("short_write", f"took a short write ({written} of {len(line)} bytes, cut back off the file)")

    def _cut_back(self, fd: int, written: int) -> None:
        """Remove a partial line from the end of the file, when nobody has appended after it."""
        try:
            end = os.lseek(fd, 0, os.SEEK_CUR)
            if written > 0 and os.fstat(fd).st_size == end:
                os.ftruncate(fd, end - written)
        except OSError:
            pass   # the reader counts the torn line as unreadable; the loss is counted here

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = _open_regular(self.path, _OPEN_FLAGS)
        return self._fd

    def _close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def _rotate(self, incoming: int) -> int:
        """Rotate under the ``.lock`` flock; when the lock cannot be had safely, write on and rotate later."""
        try:
            lock_fd = _open_regular(Path(f"{self.path}.lock"), _LOCK_FLAGS)
        except (_Loss, OSError) as exc:
            self.rotations_skipped += 1
            if self.rotations_skipped == 1:
                logger.warning("dspex shadow: the divergence log %s is not rotated: its lock file %s.lock %s; "
                               "lines are still written. Remove whatever is at that path.", self.path, self.path,
                               exc if isinstance(exc, _Loss) else f"cannot be opened ({exc.strerror or exc})")
            return self._open()
        try:
            if fcntl is not None and not self._flock(lock_fd):
                self.rotations_skipped += 1   # another process holds it too long: write on, rotate next time
                return self._open()
            mine = os.fstat(self._fd) if self._fd is not None else None
            try:
                current = os.lstat(self.path)
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
                try:
                    fcntl.flock(lock_fd, fcntl.LOCK_UN)
                except OSError:
                    pass
            os.close(lock_fd)

    @staticmethod
    def _flock(fd: int) -> bool:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.01)

    def _shift_backups(self) -> None:
        if self.backups == 0:
            os.unlink(self.path)
            return
        for i in range(self.backups - 1, 0, -1):
            older = f"{self.path}.{i}"
            if os.path.lexists(older):
                os.replace(older, f"{self.path}.{i + 1}")
        os.replace(self.path, f"{self.path}.1")

    # --- losses ----------------------------------------------------------------------------------------------
    def _lost(self, kind: str, detail: str) -> bool:
        with self._loss_lock:
            self.losses[kind] += 1
            now = time.monotonic()
            report = self.losses[kind] == 1 or now - self._last_report >= REPORT_EVERY_S
            if report:
                self._last_report = now
        if self._on_loss is not None:
            try:
                self._on_loss(kind)
            except Exception:  # noqa: BLE001 - a counter callback must not turn a loss into a failure
                logger.debug("on_loss callback failed", exc_info=True)
        if report:
            self._warn(detail)
        return False

    def _warn(self, detail: str, force: bool = False) -> None:
        self._last_report = time.monotonic()
        self._reported = self.errors
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.losses.items()))
        message = (
            f"dspex shadow: the divergence log {self.path} {detail}; {self.errors} record(s) not written so far "
            f"({kinds}). Shadow comparisons go on and are counted in dspex.shadow.stats(). Set shadow.log_path "
            "to a writable regular file or folder."
        )
        logger.warning(message)
        if not self._warned and not force:
            self._warned = True
            warnings.warn(message, RuntimeWarning, stacklevel=3)
