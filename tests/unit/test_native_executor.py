"""Parallel's executor against DSPy 3.4.1's own ``ParallelExecutor`` on threads: cancellation after ``max_errors``,
a straggler resubmitted once (first result kept), failed items as ``None``, a BaseException reaching the caller,
and the thread count a run uses. The differential runs cover the common path; these are the rare ones."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pytest
from dspy.utils.parallelizer import ParallelExecutor

from dspex.native._executor import CANCELLED, Executor


def _dspy(threads: int, max_errors: int, timeout: float = 120, straggler_limit: int = 3) -> Any:
    return ParallelExecutor(num_threads=threads, max_errors=max_errors, disable_progress_bar=True,
                            timeout=timeout, straggler_limit=straggler_limit)


def _native(threads: int, max_errors: int, timeout: float = 120, straggler_limit: int = 3) -> Any:
    return Executor(num_threads=threads, max_errors=max_errors, provide_traceback=False, timeout=timeout,
                    straggler_limit=straggler_limit)


BOTH = [pytest.param(_dspy, id="dspy"), pytest.param(_native, id="native")]


def _outcome(run: Callable[[], Any]) -> Any:
    try:
        return "ok", run()
    except BaseException as e:  # noqa: BLE001 - the outcome is what is compared
        return type(e).__name__, str(e)


def test_failures_become_none_and_cancel_after_max_errors() -> None:
    def flaky(x: int) -> int:
        if x % 3 == 0:
            raise ValueError(f"bad {x}")
        return x * 10

    for max_errors, data in ((50, list(range(10))), (2, list(range(12)))):
        d = _outcome(lambda: _dspy(4, max_errors).execute(flaky, data))
        n = _outcome(lambda: _native(4, max_errors).execute(flaky, data))
        assert n == d
    assert n == ("Exception", CANCELLED)


def test_a_straggler_is_resubmitted_once_and_the_first_result_kept() -> None:
    def run(make: Callable[..., Any]) -> tuple[Any, dict[int, int]]:
        calls: dict[int, int] = {}
        lock = threading.Lock()

        def slow_first(x: int) -> str:
            with lock:
                calls[x] = calls.get(x, 0) + 1
                n = calls[x]
            if x == 2 and n == 1:
                time.sleep(2.5)
                return "late"
            return f"{x}:{n}"

        return make(3, 10, timeout=0.5, straggler_limit=3).execute(slow_first, [0, 1, 2, 3]), calls

    assert run(_native) == run(_dspy) == (["0:1", "1:1", "2:2", "3:1"], {0: 1, 1: 1, 2: 2, 3: 1})


class _Stop(BaseException):
    pass


@pytest.mark.parametrize("make", BOTH)
def test_a_base_exception_reaches_the_caller(make: Callable[..., Any]) -> None:
    def stop(x: int) -> int:
        if x == 1:
            raise _Stop("stop")
        return x

    with pytest.raises(_Stop):
        make(2, 10).execute(stop, [0, 1, 2])


def test_a_run_uses_its_number_of_threads_at_once() -> None:
    def peak(make: Callable[..., Any], threads: int) -> int:
        lock, state = threading.Lock(), {"now": 0, "peak": 0}

        def hold(x: int) -> int:
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            time.sleep(0.05)
            with lock:
                state["now"] -= 1
            return x

        assert make(threads, 10).execute(hold, list(range(12))) == list(range(12))
        return state["peak"]

    assert peak(_native, 3) == peak(_dspy, 3) == 3


def test_a_forked_child_runs_in_parallel_after_its_parent_did() -> None:
    """gunicorn --preload / multiprocessing's fork: the child inherits the parent's idle pools but not their
    threads; its own runs must still finish (DSPy makes a pool per run, so it never had this problem)."""
    import os

    assert _native(2, 10).execute(lambda x: x * 2, [1, 2, 3]) == [2, 4, 6]     # the parent keeps an idle pool
    pid = os.fork()
    if pid == 0:   # the child: exit 0 only if the run finishes, with a hard stop in case it hangs
        import signal

        code = 1
        try:
            signal.alarm(20)
            code = 0 if _native(2, 10).execute(lambda x: x + 1, [1, 2, 3]) == [2, 3, 4] else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child's run never finished")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


class _Ambiguous:
    """A result like a numpy array or a DataFrame: comparing it gives something whose truth raises."""

    def __ne__(self, other: object) -> Any:
        return self

    def __bool__(self) -> bool:
        raise ValueError("The truth value is ambiguous")


def _within(seconds: float, run: Callable[[], Any]) -> Any:
    """``_outcome(run)``, or a "hang" outcome when it has not ended after ``seconds``."""
    box: list[Any] = []
    worker = threading.Thread(target=lambda: box.append(_outcome(run)), daemon=True)
    worker.start()
    worker.join(seconds)
    return box[0] if box else ("hang", seconds)


def test_a_result_whose_truth_raises_is_the_callers_error_not_a_hang() -> None:
    """DSPy's caller asks ``outcome != "cancelled"`` of each finished item, and a numpy array's answer refuses a
    truth value: that ValueError is the caller's. Native asked it in the worker, outside its guard, so the worker
    died uncounted and the caller waited for ever."""
    d = _within(20, lambda: _dspy(2, 10).execute(lambda x: _Ambiguous(), [0, 1]))
    n = _within(20, lambda: _native(2, 10).execute(lambda x: _Ambiguous(), [0, 1]))
    assert n == d == ("ValueError", "The truth value is ambiguous")


def test_ctrl_c_on_the_sequential_path_says_what_dspy_says(caplog: pytest.LogCaptureFixture) -> None:
    def interrupted(x: int) -> int:
        if x == 1:
            raise KeyboardInterrupt
        return x

    said = []
    for make in (_dspy, _native):
        caplog.clear()
        with caplog.at_level("WARNING", logger="dspy.utils.parallelizer"), pytest.raises(KeyboardInterrupt):
            make(1, 10).execute(interrupted, [0, 1, 2])
        said.append([(r.name, r.levelname, r.getMessage()) for r in caplog.records])
    assert said[1] == said[0] == [("dspy.utils.parallelizer", "WARNING", "SIGINT received. Cancelling.")]
