"""Parallel's worker pool (``dspex.native._pool``): the promises ``_executor`` relies on, each able to fail.

The pool's queue and the run's wake-up block in C (``queue.SimpleQueue`` and a bare lock), so their contract is
pinned here rather than left to the executor's differential runs, which only see the common path."""

from __future__ import annotations

import threading
import time

from dspex.native._pool import Pool, Wake


def test_a_closed_pool_finishes_the_jobs_it_was_given_then_its_threads_end() -> None:
    pool, gate, ran = Pool(2), threading.Event(), []
    jobs = pool.submit_many([(lambda i: (gate.wait(5), ran.append(i)), i) for i in range(6)])
    pool.close()
    gate.set()
    pool.join()
    assert sorted(ran) == list(range(6))
    assert all(job.done for job in jobs)
    assert not any(t.is_alive() for t in pool._threads)


def test_one_thread_picks_jobs_up_in_submission_order() -> None:
    pool, ran = Pool(1), []
    pool.submit_many([(ran.append, i) for i in range(5)])
    pool.submit(ran.append, 5)
    pool.close()
    pool.join()
    assert ran == [0, 1, 2, 3, 4, 5]


def test_a_job_that_raises_anything_is_done_and_its_worker_goes_on() -> None:
    def fail(e: BaseException) -> None:
        raise e

    pool, ran = Pool(1), []
    first = pool.submit(fail, KeyboardInterrupt())
    second = pool.submit(fail, ValueError("x"))
    third = pool.submit(ran.append, "after")
    pool.close()
    pool.join()
    assert first.done and second.done and third.done and ran == ["after"]


def test_wake_is_set_once_whoever_sets_it_and_each_wait_consumes_it() -> None:
    wake = Wake()
    assert wake.wait(0.01) is False          # unset: the wait times out
    wake.set()
    wake.set()                               # a second set while set is not an error, and not counted
    assert wake.wait(0.01) is True
    assert wake.wait(0.01) is False          # consumed by the wait that saw it
    wake.set()
    wake.clear()
    assert wake.wait(0.01) is False          # cleared


def test_wake_set_from_another_thread_ends_a_wait_early() -> None:
    wake = Wake()
    threading.Timer(0.05, wake.set).start()
    start = time.monotonic()
    assert wake.wait(5) is True
    assert time.monotonic() - start < 4
