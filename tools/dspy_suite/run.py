"""Run DSPy's own unit tests against dspex and report which differ from real DSPy.

    python tools/dspy_suite/run.py /path/to/dspy/checkout [--route native|dspy|shadow] [--dirs predict primitives ...]

A DSPy checkout (``fetch`` it, or ``git clone``): its ``tests/`` are run twice with the installed dspy, once as
they are (the baseline) and once with ``tools/dspy_suite/dspex_suite_plugin.py`` making ``dspy.Predict`` and
``dspy.ChainOfThought`` the routed dspex classes on the chosen route. The report counts, among the tests that pass
on real DSPy and build a dspex module, those that fail through dspex, and lists them. Exit 1 when any does.
The tests are never copied into this repository. Needs DSPy's test extras (pytest-mock, pytest-asyncio, pillow,
numpy, optuna) in the running environment.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_DIRS = ("predict", "primitives", "signatures", "adapters", "callback", "teleprompt", "evaluate")


def _run(checkout: Path, dirs: list[str], out: Path, plugin: bool, route: str) -> None:
    env = {**os.environ, "DSPY_SUITE_OUT": str(out), "DSPY_SUITE_ROUTE": route,
           "LITELLM_LOCAL_MODEL_COST_MAP": "true", "PYTHONPATH": os.pathsep.join(
               [str(checkout), str(Path(__file__).parent)] + os.environ.get("PYTHONPATH", "").split(os.pathsep))}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--timeout=120",
            "--continue-on-collection-errors",
            "-p", "dspex_suite_plugin" if plugin else "dspex_suite_baseline", *[f"tests/{d}" for d in dirs]]
    subprocess.run(args, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a DSPy source checkout (its tests/ folder is run)")
    parser.add_argument("--route", choices=["native", "dspy", "shadow"], default="native")
    parser.add_argument("--dirs", nargs="+", default=list(DEFAULT_DIRS), help="folders under tests/ to run")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    args.checkout = args.checkout.resolve()
    if not (args.checkout / "tests" / "conftest.py").is_file():
        print(f"dspy_suite: {args.checkout} has no tests/conftest.py; point it at a DSPy source checkout.")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        base, ours = Path(tmp) / "baseline.jsonl", Path(tmp) / "dspex.jsonl"
        _run(args.checkout, args.dirs, base, plugin=False, route=args.route)
        _run(args.checkout, args.dirs, ours, plugin=True, route=args.route)
        baseline = {r["test"]: r for r in map(json.loads, base.read_text().splitlines())} if base.exists() else {}
        through = {r["test"]: r for r in map(json.loads, ours.read_text().splitlines())} if ours.exists() else {}
    relevant = {t: r for t, r in through.items() if r["dspex"] and baseline.get(t, {}).get("outcome") == "passed"}
    failing = sorted(t for t, r in relevant.items() if r["outcome"] != "passed")
    report = {"route": args.route, "dirs": args.dirs, "baseline_passed": sum(r["outcome"] == "passed" for r in baseline.values()),
              "exercising_dspex": len(relevant), "failing_through_dspex": failing}
    print(f"DSPy's tests ({', '.join(args.dirs)}), route {args.route}: {report['baseline_passed']} pass on real DSPy; "
          f"{len(relevant)} of those build a dspex module; {len(failing)} of them fail through dspex.")
    for test in failing:
        print(f"  FAIL {test}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
