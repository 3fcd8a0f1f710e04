"""The worker threads ``Parallel`` runs its items on: a fixed number of threads taking jobs from one queue.

Why not ``concurrent.futures.ThreadPoolExecutor``: a run of a few fast items spent more time in its futures,
work items and ``wait()`` waiters than in the items (about 200 us for eight empty jobs on four threads here,
against about 70 us for this queue). What a caller can see is the same: ``size`` threads, each job run once in
submission order of pick-up, a closed pool finishing the jobs it was given (as ``shutdown(wait=False)`` does),
and the interpreter waiting at exit for jobs still running, as it waits for an executor's.

The queue is ``queue.SimpleQueue`` and the run's wake-up a bare lock (``Wake``): both block and wake in C, where a
``threading.Condition`` or ``Event`` runs a few dozen lines of Python and makes a lock per wait. On one CPU that
was about a third of a run of eight fast items.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
import weakref
from typing import Any, Callable

__all__ = ["Pool", "Job", "Wake"]

_LIVE: "weakref.WeakSet[Pool]" = weakref.WeakSet()
os.register_at_fork(after_in_child=_LIVE.clear)   # a forked child has none of the parent's worker threads


class Job:
    """One submitted call; ``done`` turns true once it has returned or raised (the worker swallows nothing else:
    the callable handles its own errors)."""

    __slots__ = ("fn", "args", "done")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.done = False


class Wake:
    """An auto-resetting event: ``set()`` from any thread, ``wait(timeout)`` in the one thread that waits, which
    consumes it. A held lock is the unset state; releasing it is setting it."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def set(self) -> None:
        try:
            self._lock.release()
        except RuntimeError:   # already set
            pass

    def clear(self) -> None:
        self._lock.acquire(False)

    def wait(self, timeout: float) -> bool:
        return self._lock.acquire(True, timeout)


_STOP = None   # what ``close()`` queues once per thread, after the jobs already given


class Pool:
    """``size`` threads started up front, kept until ``close()``."""

    def __init__(self, size: int, name: str = "dspex-parallel") -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        # What the run using the pool waits on. Pools serve one run at a time.
        self.wake = Wake()
        self._threads = [threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True) for i in range(size)]
        for t in self._threads:
            t.start()
        _LIVE.add(self)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Job:
        job = Job(fn, args)
        self._jobs.put(job)
        return job

    def submit_many(self, calls: list[tuple[Any, ...]]) -> list[Job]:
        """``submit(*call)`` for each call, in order."""
        jobs = [Job(call[0], call[1:]) for call in calls]
        put = self._jobs.put
        for job in jobs:
            put(job)
        return jobs

    def close(self) -> None:
        """No more jobs: the threads finish what is queued, then end."""
        for _ in self._threads:
            self._jobs.put(_STOP)

    def join(self) -> None:
        for t in self._threads:
            if t is not threading.current_thread():
                t.join()

    def _work(self) -> None:
        get = self._jobs.get
        while True:
            job = get()
            if job is _STOP:
                return
            try:
                job.fn(*job.args)
            except BaseException:  # noqa: BLE001, S110 - the job reports its own outcome; a worker never dies of one
                pass
            finally:
                job.done = True
            del job


@atexit.register
def _at_exit() -> None:
    """Let running jobs finish before the interpreter goes, as it does for a ThreadPoolExecutor's."""
    pools = list(_LIVE)
    for pool in pools:
        pool.close()
    for pool in pools:
        pool.join()
