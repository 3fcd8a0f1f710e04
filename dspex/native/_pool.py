"""The worker threads ``Parallel`` runs its items on: a fixed number of threads taking jobs from one queue.

Why not ``concurrent.futures.ThreadPoolExecutor``: a run of a few fast items spent more time in its futures,
work items and ``wait()`` waiters than in the items (about 200 us for eight empty jobs on four threads here,
against about 70 us for this queue). What a caller can see is the same: ``size`` threads, each job run once in
submission order of pick-up, a closed pool finishing the jobs it was given (as ``shutdown(wait=False)`` does),
and the interpreter waiting at exit for jobs still running, as it waits for an executor's.
"""

from __future__ import annotations

import atexit
import collections
import os
import threading
import weakref
from typing import Any, Callable

__all__ = ["Pool", "Job"]

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


class Pool:
    """``size`` threads started up front, kept until ``close()``."""

    def __init__(self, size: int, name: str = "dspex-parallel") -> None:
        self._jobs: collections.deque[Job] = collections.deque()
        # The condition's own lock, held directly (``with lock`` is C; ``with cv`` is two Python calls per job).
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)
        self._closed = False
        # What the run using the pool waits on (an Event is a Condition and a lock: making one per run cost more
        # than handing a run's items over). Pools serve one run at a time.
        self.wake = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True) for i in range(size)]
        for t in self._threads:
            t.start()
        _LIVE.add(self)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Job:
        job = Job(fn, args)
        with self._lock:
            self._jobs.append(job)
            self._cv.notify()
        return job

    def submit_many(self, calls: list[tuple[Any, ...]]) -> list[Job]:
        """``submit(*call)`` for each call, in order, handed over at once: one lock round and one wake-up of as
        many idle threads as there are calls (at most all of them), instead of one of each per call."""
        jobs = [Job(call[0], call[1:]) for call in calls]
        with self._lock:
            self._jobs.extend(jobs)
            self._cv.notify(min(len(jobs), len(self._threads)))
        return jobs

    def close(self) -> None:
        """No more jobs: the threads finish what is queued, then end."""
        with self._lock:
            self._closed = True
            self._cv.notify_all()

    def join(self) -> None:
        for t in self._threads:
            if t is not threading.current_thread():
                t.join()

    def _work(self) -> None:
        jobs, cv, lock = self._jobs, self._cv, self._lock
        while True:
            with lock:
                while not jobs:
                    if self._closed:
                        return
                    cv.wait()
                job = jobs.popleft()
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
