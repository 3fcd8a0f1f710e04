"""Native ``Parallel``: run ``(module, example)`` pairs on threads, as ``dspy.Parallel`` does in DSPy 3.4.1.

Like DSPy's, it is a plain class (not a module: no predictors) whose ``failed_examples`` and ``exceptions``
lists grow across calls. An example is called by its kind: an Example-like object (DSPy's ``Example`` or this
package's records) with its ``inputs()`` (or whole, when ``access_examples=False``), a dict as keywords, a
tuple as positional arguments, a list only for a nested ``Parallel``; anything else fails that pair with DSPy's
``ValueError``. The thread pool is :mod:`._executor` (DSPy's executor semantics). Defaults that DSPy reads from
its settings (``num_threads``, ``max_errors`` when the module is built; ``num_threads`` again and
``provide_traceback`` when it runs) come from DSPy's settings in a program that has loaded DSPy (through the
bridge), and are DSPy's own defaults (8, 10, off) elsewhere.
"""

from __future__ import annotations

import threading
from typing import Any

from .. import hooks
from ._executor import Executor

__all__ = ["Parallel", "NUM_THREADS", "MAX_ERRORS"]

NUM_THREADS = 8
MAX_ERRORS = 10
_DEFAULTS = {"num_threads": NUM_THREADS, "max_errors": MAX_ERRORS, "provide_traceback": False}


def _setting(name: str) -> Any:
    """``dspy.settings.<name>`` in a program that has loaded DSPy, else DSPy's default for it."""
    bridge = hooks.current()
    setting = getattr(bridge, "setting", None)
    return _DEFAULTS[name] if setting is None else setting(name)


def _is_example(value: Any) -> bool:
    """DSPy's ``isinstance(example, dspy.Example)``, without importing DSPy (a ``dspy.Prediction`` is one too),
    plus this package's records (native Predictions)."""
    for cls in type(value).__mro__:
        if cls.__name__ == "Example" and cls.__module__ == "dspy.primitives.example":
            return True
        if cls.__name__ == "Record" and cls.__module__ == "dspex.native._record":
            return True
    return False


class Parallel:
    """``Parallel(num_threads=None, max_errors=None, access_examples=True, return_failed_examples=False, ...)``."""

    def __init__(
        self,
        num_threads: int | None = None,
        max_errors: int | None = None,
        access_examples: bool = True,
        return_failed_examples: bool = False,
        provide_traceback: bool | None = None,
        disable_progress_bar: bool = False,
        timeout: int = 120,
        straggler_limit: int = 3,
    ) -> None:
        self.num_threads = num_threads or _setting("num_threads")
        self.max_errors = _setting("max_errors") if max_errors is None else max_errors
        self.access_examples = access_examples
        self.return_failed_examples = return_failed_examples
        self.provide_traceback = provide_traceback
        self.disable_progress_bar = disable_progress_bar
        self.timeout = timeout
        self.straggler_limit = straggler_limit
        self.error_count = 0
        self.error_lock = threading.Lock()
        self.cancel_jobs = threading.Event()
        self.failed_examples: list[Any] = []
        self.exceptions: list[Any] = []

    def _run_pair(self, pair: Any) -> Any:
        module, example = pair
        if type(example) is dict:   # the commonest pair; a plain dict's classes are dict and object: no Example
            return module(**example)
        if _is_example(example):
            return module(**example.inputs()) if self.access_examples else module(example)
        if isinstance(example, dict):
            return module(**example)
        if isinstance(example, list) and module.__class__.__name__ == "Parallel":
            return module(example)
        if isinstance(example, tuple):
            return module(*example)
        raise ValueError(
            f"Invalid example type: {type(example)}, only supported types are Example, dict, list and tuple"
        )

    def forward(self, exec_pairs: list[tuple[Any, Any]], num_threads: int | None = None) -> Any:
        executor = Executor(
            num_threads=(num_threads if num_threads is not None else self.num_threads) or _setting("num_threads"),
            max_errors=_setting("max_errors") if self.max_errors is None else self.max_errors,
            provide_traceback=self.provide_traceback if self.provide_traceback is not None
            else _setting("provide_traceback"),
            timeout=self.timeout,
            straggler_limit=self.straggler_limit,
        )
        results = executor.execute(self._run_pair, exec_pairs)
        if not self.return_failed_examples:
            return results
        for failed_idx in executor.failed_indices:
            if failed_idx < len(exec_pairs):
                _, original = exec_pairs[failed_idx]
                self.failed_examples.append(original)
                exception = executor.exceptions_map.get(failed_idx)
                if exception:
                    self.exceptions.append(exception)
        return results, self.failed_examples, self.exceptions

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)
