"""``Module.batch``: run a module over many examples in threads, results in the examples' order.

Like ``dspy.Parallel``: an example with ``inputs()`` (a ``dspy.Example`` made ``with_inputs``) is called with
those, a mapping with its items; a failed example gives ``None`` in its slot and is logged; more than
``max_errors`` failures (default 10) stops the run with an error naming the count. The caller's context
(``dspex.request``, ``settings.context``) is copied into every worker.
"""

from __future__ import annotations

import contextvars
import logging
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["run_batch"]

_log = logging.getLogger("dspex.native")
DEFAULT_THREADS = 8
DEFAULT_MAX_ERRORS = 10


def _inputs(example: Any) -> dict[str, Any]:
    inputs = getattr(example, "inputs", None)
    if callable(inputs):
        return dict(inputs().items())
    return dict(example)


def run_batch(module: Any, examples: list[Any], num_threads: int | None, max_errors: int | None,
              return_failed: bool, provide_traceback: bool | None) -> Any:
    limit = DEFAULT_MAX_ERRORS if max_errors is None else max_errors
    results: list[Any] = [None] * len(examples)
    failed: list[Any] = []
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            results[i] = module(**_inputs(examples[i]))
        except Exception as exc:  # noqa: BLE001 - each failure is counted and reported, not raised mid-run
            failed.append(examples[i])
            errors.append(exc)
            detail = "\n" + traceback.format_exc() if provide_traceback else ""
            _log.error("Error for %r: %s%s", examples[i], exc, detail)

    with ThreadPoolExecutor(max_workers=num_threads or DEFAULT_THREADS) as pool:
        futures = [pool.submit(contextvars.copy_context().run, one, i) for i in range(len(examples))]
        for future in futures:
            future.result()
            if len(errors) > limit:
                for rest in futures:
                    rest.cancel()
                raise RuntimeError(f"Execution cancelled due to errors or interruption: {len(errors)} examples "
                                   f"failed (max_errors={limit}). Fix the failures or raise max_errors.")
    if return_failed:
        return results, failed, errors
    return results
