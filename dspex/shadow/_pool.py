"""A bounded pool of candidate threads whose hung members are abandoned, not waited for.

``concurrent.futures.ThreadPoolExecutor`` cannot give a worker up: a candidate that never returns would hold its
thread for ever and, after ``workers`` of them, starve every later comparison. Here a supervisor thread watches
each running job's deadline; a job past it is reported as a timeout at once, its thread is abandoned (it exits
whenever the candidate returns, its result discarded) and a fresh thread takes its place. Replacements stop at
``max_abandoned`` hung threads, after which the queue fills and new calls are dropped (and counted).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from typing import Any, Callable, Protocol

__all__ = ["Job", "ShadowPool"]

_IDLE_POLL_S = 0.5


class Job(Protocol):
    timeout_s: float

    def run(self) -> Any: ...                   # the candidate; must not raise (it captures its own errors)
    def finish(self, outcome: Any) -> None: ... # compare and log, on the worker thread
    def timed_out(self, elapsed_s: float) -> None: ...   # called by the supervisor when the deadline passed


class ShadowPool:
    """``submit`` never blocks: it returns False when the queue is full or the pool is closed."""

    _ids = itertools.count(1)

    def __init__(self, workers: int, max_queue: int, max_abandoned: int,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.workers = workers
        self.max_abandoned = max_abandoned
        self._queue: queue.Queue[Job] = queue.Queue(maxsize=max_queue)
        self._cond = threading.Condition()
        self._running: dict[threading.Thread, tuple[Job, float, float]] = {}
        self._unfinished = 0
        self._live = 0
        self.abandoned = 0
        self._closed = False
        self._started = False
        self._on_error = on_error or (lambda exc: None)

    # --- public ----------------------------------------------------------------------------------------------
    def submit(self, job: Job) -> bool:
        if self._closed:
            return False
        if not self._started:
            self._start()
        with self._cond:
            self._unfinished += 1
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self._done()
            return False
        return True

    @property
    def pending(self) -> int:
        with self._cond:
            return self._unfinished

    def drain(self, timeout: float | None) -> bool:
        """Wait until every submitted job finished or timed out; False if ``timeout`` came first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._unfinished:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left if left is not None else _IDLE_POLL_S)
            return True

    def close(self, timeout: float | None = 0.0) -> bool:
        """Drain up to ``timeout``, then let every thread exit once the queue is empty."""
        drained = self.drain(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        return drained

    # --- threads ---------------------------------------------------------------------------------------------
    def _start(self) -> None:
        with self._cond:
            if self._started:
                return
            self._started = True
            for _ in range(self.workers):
                self._spawn()
            threading.Thread(target=self._supervise, name="dspex-shadow-supervisor", daemon=True).start()

    def _spawn(self) -> None:
        """Start one worker; called with the condition held."""
        self._live += 1
        name = f"dspex-shadow-{next(self._ids)}"
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _done(self) -> None:
        with self._cond:
            self._unfinished -= 1
            if not self._unfinished:
                self._cond.notify_all()

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            try:
                job = self._queue.get(timeout=_IDLE_POLL_S)
            except queue.Empty:
                if self._closed:
                    with self._cond:
                        self._live -= 1
                    return
                continue
            started = time.monotonic()
            with self._cond:
                self._running[me] = (job, started, started + job.timeout_s)
                self._cond.notify_all()
            failure: BaseException | None = None
            try:
                outcome = job.run()
            except BaseException as exc:  # noqa: BLE001 - jobs capture candidate errors; this is a shadow bug
                failure, outcome = exc, None
            with self._cond:
                mine = self._running.pop(me, None)
            if mine is None:  # the supervisor gave this job up as timed out; this thread was replaced
                with self._cond:
                    self.abandoned -= 1
                    if self._live < self.workers and not self._closed:
                        self._spawn()
                return
            try:
                if failure is not None:
                    raise failure
                job.finish(outcome)
            except BaseException as exc:  # noqa: BLE001 - a shadow bug must never kill the worker
                self._on_error(exc)
            finally:
                self._done()

    def _supervise(self) -> None:
        while True:
            with self._cond:
                if self._closed and not self._running and self._queue.empty():
                    return
                now = time.monotonic()
                expired = [(t, job, start) for t, (job, start, dl) in self._running.items() if dl <= now]
                for thread, _, _ in expired:
                    del self._running[thread]
                    self._live -= 1
                    self.abandoned += 1
                    if self.abandoned <= self.max_abandoned and not self._closed:
                        self._spawn()
                if not expired:
                    deadlines = [dl for (_, _, dl) in self._running.values()]
                    wait = min(deadlines) - now if deadlines else _IDLE_POLL_S
                    self._cond.wait(max(0.0, min(wait, _IDLE_POLL_S)))
                    continue
            for _, job, start in expired:
                try:
                    job.timed_out(now - start)
                except BaseException as exc:  # noqa: BLE001
                    self._on_error(exc)
                finally:
                    self._done()
