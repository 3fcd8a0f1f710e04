"""The test mutmut runs against every mutant: the parity gate itself, at a fixed seed and a set budget.

Not part of the test suite (pytest's ``testpaths`` is ``tests/``): ``benchmarks/mutation.py`` points mutmut at
this file and sets the budget through the environment, so one mutant set can be scored at several budgets:
``DSPEX_MUTATION_EXAMPLES`` (cases per module, default 300), ``DSPEX_MUTATION_SEEDS`` (comma-separated, default
the CI seed 20261125) and ``DSPEX_MUTATION_TIMEOUT`` (CPU seconds for the whole check, default 900: CPU, not wall clock, so a
survivor on a busy machine is not mistaken for a mutant that hangs).
Shrinking is off and the run stops at the first failing module: a mutant needs one counterexample to count as
killed, and survivors are what cost time.
"""

from __future__ import annotations

import os
import signal
from typing import Any

CI_SEED = 20261125
TIMEOUT_EXIT = 36   # the exit status mutmut files under "timeout"


def budget() -> tuple[int, list[int], int]:
    examples = int(os.environ.get("DSPEX_MUTATION_EXAMPLES", "300"))
    seeds = [int(s) for s in os.environ.get("DSPEX_MUTATION_SEEDS", str(CI_SEED)).split(",") if s.strip()]
    return examples, seeds, int(os.environ.get("DSPEX_MUTATION_TIMEOUT", "900"))


def _time_out(signum: int, frame: Any) -> None:
    # A mutant that loops forever (or makes every call crawl) must not stall the run; os._exit because the
    # harness would otherwise catch an exception raised here as one side's error.
    os._exit(TIMEOUT_EXIT)


def test_parity_gate_finds_no_difference() -> None:
    from dspex.parity.runner import run_suite

    examples, seeds, timeout = budget()
    previous = signal.signal(signal.SIGVTALRM, _time_out)
    signal.setitimer(signal.ITIMER_VIRTUAL, timeout)
    try:
        for seed in seeds:
            report = run_suite((), examples, seed, corpus_dir=os.devnull, shrink=False, fail_fast=True)
            failed = [m for m in report.modules.values() if m.status != "proven"]
            assert not failed, "\n".join(f"{m.module_type} (seed {seed}): {m.status} "
                                         f"{m.failure and m.failure['diff'][:2000]}" for m in failed)
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)
