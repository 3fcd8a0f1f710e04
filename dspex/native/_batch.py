"""``Module.batch``: DSPy's ``Module.batch``, on the native ``Parallel``.

DSPy builds ``(module, example.inputs())`` pairs and runs them through ``Parallel`` with the same arguments, so
this does too: an example without ``inputs()`` (a plain dict) fails with DSPy's ``AttributeError``, one made
without ``with_inputs`` with DSPy's ``ValueError``, before anything runs; a failed example is ``None`` in its slot
and logged; ``max_errors`` failures cancel the run with DSPy's error; the defaults DSPy reads from its settings are
read as ``Parallel`` reads them; ``return_failed_examples`` returns the failed examples' inputs and exceptions.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_batch"]


def run_batch(module: Any, examples: list[Any], num_threads: int | None, max_errors: int | None,
              return_failed_examples: bool, provide_traceback: bool | None, disable_progress_bar: bool,
              timeout: int, straggler_limit: int) -> Any:
    from .parallel import Parallel

    exec_pairs = [(module, example.inputs()) for example in examples]
    parallel = Parallel(num_threads=num_threads, max_errors=max_errors, return_failed_examples=return_failed_examples,
                        provide_traceback=provide_traceback, disable_progress_bar=disable_progress_bar,
                        timeout=timeout, straggler_limit=straggler_limit)
    return parallel.forward(exec_pairs)
