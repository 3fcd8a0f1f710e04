"""DSPy 3.4.1's ``ParallelExecutor`` semantics, natively: what ``Parallel`` runs its pairs on.

What a caller can observe is DSPy's: results in the items' order, ``None`` for a failed item (an item whose
function raised, or returned an exception object), one ``Error for <item>: <exc>. ...`` log line per failure,
cancellation once ``max_errors`` failures were seen (then ``Exception("Execution cancelled due to errors or
interruption.")`` after the warning of the same text), the sequential path for one thread, and a straggler
resubmitted once when it has run ``timeout`` seconds with at most ``straggler_limit`` items left. Each worker
runs in a copy of the caller's context (``dspex.request``, ``settings.context``, and DSPy's own settings when a
program has loaded DSPy, which live in a contextvar too), with DSPy's own worker rule for those settings: a deep
copy of the usage tracker per item (the bridge's ``parallel_worker``), so the caller's usage leaves the items out.

Not reproduced: the tqdm progress bar DSPy prints on stdout (native prints nothing) and the SIGINT handler DSPy
installs around a threaded run (a Ctrl-C on the sequential path logs DSPy's words).
Threads are kept between runs: a run takes an idle pool of its size (or makes one) and gives it back only when
every task it submitted has finished, so each run still has its own ``num_threads`` workers (nested and
concurrent runs included) without paying for new threads every time.
"""

from __future__ import annotations

import contextvars
import logging
import math
import os
import threading
import time
import traceback
from typing import Any, Callable

from .. import hooks
from ._pool import Pool
from ._prediction import Prediction

__all__ = ["Executor", "CANCELLED"]

_log = logging.getLogger("dspy.utils.parallelizer")   # where DSPy's ParallelExecutor logs
_IDLE: dict[int, list[Pool]] = {}
_IDLE_LOCK = threading.Lock()
_MAX_IDLE = 4   # idle pools kept per size


def _forget_pools_in_child() -> None:
    """A forked child (gunicorn ``--preload``, multiprocessing's fork) inherits the idle pools but none of their
    threads: a run there would wait for ever on a pool nobody serves. The child starts with none."""
    global _IDLE_LOCK
    _IDLE.clear()
    _IDLE_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_pools_in_child)


def _pool_size(num_threads: Any) -> int:
    """The threads DSPy's ``ThreadPoolExecutor(max_workers=num_threads)`` would run, with its checks: a size that is
    not above 0 is its ValueError (one that cannot be compared with 0, the comparison's TypeError), and a fraction
    rounds up (it starts a thread while it has fewer than ``max_workers``)."""
    if num_threads <= 0:
        raise ValueError("max_workers must be greater than 0")
    return num_threads if type(num_threads) is int else math.ceil(num_threads)


def _take_pool(size: int) -> Pool:
    with _IDLE_LOCK:
        idle = _IDLE.get(size)
        if idle:
            return idle.pop()
    return Pool(size)


def _give_back(pool: Pool, size: int, idle: bool) -> None:
    """Keep the pool for the next run if nothing it ran is still going (a straggler, a cancelled run's tail)."""
    if idle:
        with _IDLE_LOCK:
            idle = _IDLE.setdefault(size, [])
            if len(idle) < _MAX_IDLE:
                idle.append(pool)
                return
    pool.close()
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
        # DSPy's ``cancel_jobs`` event, as a flag that is only ever raised (read by every item, once or twice: an
        # attribute read where ``Event.is_set()`` was a Python call).
        self.cancelled = False
        self.failed_indices: list[int] = []
        self.exceptions_map: dict[int, BaseException] = {}

    def execute(self, function: Callable[[Any], Any], data: list[Any]) -> list[Any]:
        wrapped = self._safe(function)
        if self.num_threads == 1:
            return self._sequential(wrapped, data)
        return self._parallel(wrapped, data)

    def _safe(self, function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def safe(item: Any) -> Any:
            if self.cancelled:
                return None
            try:
                return function(item)
            except Exception as e:  # noqa: BLE001 - a failed item is counted and logged, as DSPy does
                with self.error_lock:
                    self.error_count += 1
                    if self.error_count >= self.max_errors:
                        self.cancelled = True
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
        if self.cancelled:
            _log.warning(CANCELLED)
            raise Exception(CANCELLED)  # noqa: TRY002 - DSPy raises a bare Exception with this text
        return [None if r is _UNSET else r for r in results]

    def _sequential(self, function: Callable[[Any], Any], data: list[Any]) -> list[Any]:
        results: list[Any] = [_UNSET] * len(data)
        try:
            for idx, item in enumerate(data):
                if self.cancelled:
                    break
                self._outcome(results, idx, function(item))
        except KeyboardInterrupt:   # DSPy's words for a Ctrl-C on the sequential path, before it goes on up
            self.cancelled = True
            _log.warning("SIGINT received. Cancelling.")
            raise
        return self._finish(results)

    def _parallel(self, function: Callable[[Any], Any], data: list[Any]) -> list[Any]:
        """DSPy's loop (results kept first-come, stragglers resubmitted once, stop on cancel), with each outcome
        recorded by the worker that produced it: the caller's thread wakes when the run is over rather than once
        per item, and in between only when a straggler check could resubmit something (DSPy's one-second tick,
        or a job finishing once ``timeout`` has passed since the run began)."""
        results: list[Any] = [_UNSET] * len(data)
        size = _pool_size(self.num_threads)
        started: dict[int, float] = {}
        lock = threading.Lock()
        pool = _take_pool(size)
        wake = pool.wake   # the pool's own: nothing of an earlier run is left to set it (see _give_back)
        wake.clear()
        count = {"unset": len(data), "running": 0}
        fatal: list[BaseException] = []   # what DSPy's ``f.result()`` re-raises in the caller
        timeout = self.timeout
        run_start = time.time()
        prepare = getattr(hooks.bridge, "parallel_worker", None)   # DSPy's settings' worker rule, in a DSPy program

        def worker(submission: int, index: int, item: Any) -> None:
            keep = False
            try:
                try:
                    outcome: Any = _JOB_CANCELLED
                    if not self.cancelled:
                        started[submission] = time.time()   # one dict store: atomic, read under the lock
                        if prepare is not None:
                            prepare()
                        outcome = function(item)
                except Exception:  # noqa: BLE001 - DSPy drops a worker that crashed outside the item
                    outcome = _JOB_CANCELLED
                # What DSPy's caller thread does with a finished future (an error here is the caller's, as there):
                # ``result != "cancelled"``, which a native Prediction always passes without being asked, and its
                # truth, which a numpy array or a DataFrame refuses (DSPy's caller raises that ValueError).
                keep = outcome is not _JOB_CANCELLED and (
                    type(outcome) is Prediction or bool(outcome != _JOB_CANCELLED))
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                fatal.append(e)
            with lock:   # the outcome and the worker's end in one round; the end is counted whatever happens, or
                try:     # the caller would wait for this worker for ever
                    if keep and results[index] is _UNSET:
                        self._outcome(results, index, outcome)
                        if results[index] is not _UNSET:
                            count["unset"] -= 1
                except BaseException as e:  # noqa: BLE001
                    fatal.append(e)
                count["running"] -= 1
                over = count["unset"] == 0 or count["running"] == 0
            if over or fatal or self.cancelled or 0 < timeout <= time.time() - run_start:
                wake.set()

        jobs: dict[Any, tuple[int, int, Any]] = {}

        def submit(submission: int, index: int, item: Any) -> None:
            with lock:
                count["running"] += 1
            jobs[pool.submit(contextvars.copy_context().run, worker, submission, index, item)] = \
                (submission, index, item)

        try:
            with lock:   # every item at once: one hand-over to the pool, as many workers woken as can start
                count["running"] += len(data)
            context = contextvars.copy_context
            calls = [(context().run, worker, idx, idx, item) for idx, item in enumerate(data)]
            for job, call in zip(pool.submit_many(calls), calls):
                jobs[job] = call[2:]
            counter = len(data)
            resubmitted: set[Any] = set()
            while not fatal and not self.cancelled:
                wake.clear()
                with lock:
                    if count["unset"] == 0 or count["running"] == 0:
                        break
                wake.wait(1)
                if fatal or self.cancelled or not 0 < timeout:
                    continue
                not_done = [j for j in jobs if not j.done]
                if len(not_done) <= self.straggler_limit:
                    now = time.time()
                    for j in not_done:
                        if j in resubmitted:
                            continue
                        sid, idx, item = jobs[j]
                        with lock:
                            st = started.get(sid)
                        if st and now - st >= timeout:
                            resubmitted.add(j)
                            submit(counter, idx, item)
                            counter += 1
        finally:
            with lock:
                idle = count["running"] == 0
            _give_back(pool, size, idle)
        if fatal:
            raise fatal[0]
        return self._finish(results)
