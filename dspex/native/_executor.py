"""DSPy 3.4.1's ``ParallelExecutor`` semantics, natively: what ``Parallel`` runs its pairs on.

What a caller can observe is DSPy's: results in the items' order, ``None`` for a failed item (an item whose
function raised, or returned an exception object), one ``Error for <item>: <exc>. ...`` log line per failure,
cancellation once ``max_errors`` failures were seen (then ``Exception("Execution cancelled due to errors or
interruption.")`` after the warning of the same text), the sequential path for one thread, and a straggler
resubmitted once when it has run ``timeout`` seconds with at most ``straggler_limit`` items left. Each worker
runs in a copy of the caller's context (``dspex.request``, ``settings.context``, and DSPy's own settings when a
program has loaded DSPy, which live in a contextvar too).

Not reproduced: the tqdm progress bar DSPy prints on stdout (native prints nothing) and DSPy's SIGINT handler.
Threads are kept between runs: a run takes an idle pool of its size (or makes one) and gives it back only when
every task it submitted has finished, so each run still has its own ``num_threads`` workers (nested and
concurrent runs included) without paying for new threads every time.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any, Callable

__all__ = ["Executor", "CANCELLED"]

_log = logging.getLogger("dspex.native.parallel")
_IDLE: dict[int, list[ThreadPoolExecutor]] = {}
_IDLE_LOCK = threading.Lock()
_MAX_IDLE = 4   # idle pools kept per size


def _take_pool(size: int) -> ThreadPoolExecutor:
    with _IDLE_LOCK:
        idle = _IDLE.get(size)
        if idle:
            return idle.pop()
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="dspex-parallel")


def _give_back(pool: ThreadPoolExecutor, size: int, futures: Any) -> None:
    """Keep the pool for the next run if nothing it ran is still going (a straggler, a cancelled run's tail)."""
    if all(f.done() for f in futures):
        with _IDLE_LOCK:
            idle = _IDLE.setdefault(size, [])
            if len(idle) < _MAX_IDLE:
                idle.append(pool)
                return
    pool.shutdown(wait=False)
_UNSET = object()
_JOB_CANCELLED = "cancelled"
CANCELLED = "Execution cancelled due to errors or interruption."


class Executor:
    """One run's executor: counts errors, cancels, and records the failed indices and their exceptions."""

    def __init__(self, num_threads: int, max_errors: int, provide_traceback: bool, timeout: float,
                 straggler_limit: int) -> None:
        self.num_threads = num_threads
        self.max_errors = max_errors
        self.provide_traceback = provide_traceback
        self.timeout = timeout
        self.straggler_limit = straggler_limit
        self.error_count = 0
        self.error_lock = threading.Lock()
        self.cancel_jobs = threading.Event()
        self.failed_indices: list[int] = []
        self.exceptions_map: dict[int, BaseException] = {}

    def execute(self, function: Callable[[Any], Any], data: list[Any]) -> list[Any]:
        wrapped = self._safe(function)
        if self.num_threads == 1:
            return self._sequential(wrapped, data)
        return self._parallel(wrapped, data)

    def _safe(self, function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def safe(item: Any) -> Any:
            if self.cancel_jobs.is_set():
                return None
            try:
                return function(item)
            except Exception as e:  # noqa: BLE001 - a failed item is counted and logged, as DSPy does
                with self.error_lock:
                    self.error_count += 1
                    if self.error_count >= self.max_errors:
                        self.cancel_jobs.set()
                if self.provide_traceback:
                    _log.error(f"Error for {item}: {e}\n{traceback.format_exc()}")
                else:
                    _log.error(f"Error for {item}: {e}. Set `provide_traceback=True` for traceback.")
                return e

        return safe

    def _outcome(self, results: list[Any], idx: int, outcome: Any) -> None:
        if isinstance(outcome, Exception):
            with self.error_lock:
                self.failed_indices.append(idx)
                self.exceptions_map[idx] = outcome
        else:
            results[idx] = outcome

    def _finish(self, results: list[Any]) -> list[Any]:
        if self.cancel_jobs.is_set():
            _log.warning(CANCELLED)
            raise Exception(CANCELLED)  # noqa: TRY002 - DSPy raises a bare Exception with this text
        return [None if r is _UNSET else r for r in results]

    def _sequential(self, function: Callable[[Any], Any], data: list[Any]) -> list[Any]:
        results: list[Any] = [_UNSET] * len(data)
        for idx, item in enumerate(data):
            if self.cancel_jobs.is_set():
                break
            self._outcome(results, idx, function(item))
        return self._finish(results)

    def _parallel(self, function: Callable[[Any], Any], data: list[Any]) -> list[Any]:
        results: list[Any] = [_UNSET] * len(data)
        started: dict[int, float] = {}
        started_lock = threading.Lock()
        resubmitted: set[Any] = set()

        def worker(submission: int, index: int, item: Any) -> tuple[int, Any]:
            if self.cancel_jobs.is_set():
                return index, _JOB_CANCELLED
            with started_lock:
                started[submission] = time.time()
            return index, function(item)

        def submit(submission: int, index: int, item: Any) -> Any:
            return pool.submit(contextvars.copy_context().run, worker, submission, index, item)

        pool = _take_pool(self.num_threads)
        futures: dict[Any, tuple[int, int, Any]] = {}
        try:
            pending: set[Any] = set()
            counter = 0
            for idx, item in enumerate(data):
                f = submit(counter, idx, item)
                futures[f] = (counter, idx, item)
                pending.add(f)
                counter += 1
            while pending and not self.cancel_jobs.is_set():
                if all(r is not _UNSET for r in results):
                    break
                done, not_done = wait(pending, timeout=1, return_when=FIRST_COMPLETED)
                for f in done:
                    pending.remove(f)
                    try:
                        index, outcome = f.result()
                    except Exception:  # noqa: BLE001, S110 - DSPy drops a worker that crashed outside the item
                        continue
                    if outcome != _JOB_CANCELLED and results[index] is _UNSET:
                        self._outcome(results, index, outcome)
                if all(r is not _UNSET for r in results):
                    break
                if 0 < self.timeout and len(not_done) <= self.straggler_limit:
                    now = time.time()
                    for f in list(not_done):
                        if f in resubmitted:
                            continue
                        sid, idx, item = futures[f]
                        with started_lock:
                            st = started.get(sid)
                        if st and now - st >= self.timeout:
                            resubmitted.add(f)
                            nf = submit(counter, idx, item)
                            futures[nf] = (counter, idx, item)
                            pending.add(nf)
                            counter += 1
        finally:
            _give_back(pool, self.num_threads, futures)
        return self._finish(results)
