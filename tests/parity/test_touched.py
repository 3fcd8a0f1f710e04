"""CI proves the module types a change touches at full strength (dspex/parity/_touched.py, .ci/run)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

from dspex.parity._touched import OWNERS, at_full_strength, owners_of, touched_modules
from dspex.parity.runner import collect_targets

ROOT = Path(__file__).resolve().parents[2]


def test_every_owned_path_exists_and_every_owner_is_a_gate_target() -> None:
    targets = set(collect_targets()[0])
    for pattern, owners in OWNERS.items():
        base = ROOT / "dspex" / pattern.rstrip("*")
        found = list(base.parent.glob(base.name + "*")) if pattern.endswith("*") else [base] if base.exists() else []
        assert found, f"OWNERS lists dspex/{pattern}, which is gone: update dspex/parity/_touched.py"
        assert set(owners) <= targets, owners


def test_changed_files_name_their_module_types() -> None:
    assert owners_of("dspex/native/refine.py") == ("refine",)
    assert owners_of("dspex/parity/_agent_v2_strategies.py") == ("react", "react_v2")
    assert owners_of("dspex/adapters/_coerce.py") == ()   # core: already at full strength
    assert owners_of("docs/dspex/native/refine.py") == ()
    assert touched_modules(["README.md", " dspex/adapters/two_step.py", "dspex/native/_executor.py",
                            "dspex/native/parallel.py"]) == ["parallel", "two_step_adapter"]


def test_touched_modules_leave_the_budget_split() -> None:
    assert at_full_strength("react=300, refine=300,parallel=300", ["refine"]) == "react=300,parallel=300"
    assert at_full_strength("", ["refine"]) == ""


def test_the_ci_entry_point_reads_paths_and_prints_the_budget() -> None:
    out = subprocess.run([sys.executable, "-m", "dspex.parity._touched", "react=300,xml_adapter=300"],
                         input="dspex/adapters/_xml.py\nREADME.md\n", capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "react=300"
    assert "xml_adapter" in out.stderr


def _mutation_check() -> Any:
    """``benchmarks/mutation_check.py``, the test mutmut runs (not a package: loaded from its path)."""
    spec = importlib.util.spec_from_file_location("mutation_check", ROOT / "benchmarks" / "mutation_check.py")
    check = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(check)  # type: ignore[union-attr]
    return check


def test_mutation_runs_start_with_the_mutated_files_module_type() -> None:
    check = _mutation_check()
    order = check.module_order("dspex.native.refine.xǁRefineǁforward__mutmut_3", ["predict", "refine", "react"])
    assert order[0] == "refine"
    assert check.module_order("dspex.adapters._coerce.x_parse__mutmut_1", ["predict", "react"]) == ["predict", "react"]


def test_each_mutant_run_starts_without_what_the_clean_run_built() -> None:
    """A forked mutant run inherits the clean run's memo caches and build-once globals; a mutated line that only
    runs when they are empty would never run (the _history tool-results signature was such a case)."""
    from dspex.adapters import _history, _sections

    check = _mutation_check()
    _history._results_signature = object()
    _sections._WORDS["probe"] = True
    check.forget_caches()
    assert _history._results_signature is None and "probe" not in _sections._WORDS
    for module_name, names in check.BUILT_ONCE.items():   # every listed global is still built once (a rename fails)
        source = inspect.getsource(importlib.import_module(module_name))
        assert all(f"global {name}" in source for name in names), module_name
