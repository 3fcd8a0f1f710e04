"""``dspex shadow report LOG...``: per module, how often native diverges from DSPy and whether it may go live.

Prints comparisons, the divergence rate with its 95% Wilson interval, the diverging fields (with live-mode noise
set apart), example divergences, paired latency, and a verdict: *ready for canary* when there are at least
``--min-comparisons`` comparisons and the interval's upper bound is at most ``--threshold``. Exit code 0, or with
``--fail-unready`` 1 when some module is not ready; 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

from ._analysis import analyse
from ._read import read_logs, report_missing

__all__ = ["main", "build_report"]


def build_report(logs: Sequence[str | Path], threshold: float = 0.02, min_comparisons: int = 200,
                 examples: int = 3) -> dict[str, Any]:
    return analyse(read_logs(logs), threshold=threshold, min_comparisons=min_comparisons, examples=examples)


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _render(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"dspex shadow report (ready: >= {report['min_comparisons']} comparisons and "
                        f"95% upper bound <= {report['threshold']:.1%})")
    for col in ("module", "comparisons", "divergent", "rate [95% CI]", "diverging fields",
                "latency ms dspy / native (median, p95)", "verdict"):
        table.add_column(col)
    for module, m in report["modules"].items():
        fields = ", ".join(
            f"{name} {f['count']}" + ("" if f["real"] else f" (noise {f['noise_rate']:.0%})")
            for name, f in list(m["fields"].items())[:5]
        ) or "-"
        lat = m["latency_ms"]
        latency = (f"{_ms(lat['control']['median'])} / {_ms(lat['candidate']['median'])}, "
                   f"{_ms(lat['control']['p95'])} / {_ms(lat['candidate']['p95'])}")
        low, high = m["ci95"]
        verdict = ("[green]" if m["verdict"] == "ready for canary" else "[red]") + m["verdict"] + "[/]"
        table.add_row(module, str(m["comparisons"]), str(m["real_divergent"]),
                      f"{m['rate']:.2%} [{low:.2%}, {high:.2%}]", fields, latency,
                      f"{verdict}\n{m['verdict_reason']}")
    console.print(table)
    for module, m in report["modules"].items():
        for ex in m["examples"]:
            console.print(f"  {module} {ex['kind']} {ex['id']}: fields {ex['fields']} inputs "
                          f"{json.dumps(ex['inputs'], ensure_ascii=False)[:160]}", markup=False, highlight=False)
    if report["bad_lines"]:
        console.print(f"[yellow]{len(report['bad_lines'])} unreadable line(s): {report['bad_lines'][:5]}[/]")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dspex shadow report", description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", help="divergence log files or folders (rotated files included)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--threshold", type=float, default=0.02, help="max 95%% upper bound of the rate")
    parser.add_argument("--min-comparisons", type=int, default=200)
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--fail-unready", action="store_true", help="exit 1 when some module is not ready")
    args = parser.parse_args(argv)
    if report_missing(args.logs):
        return 2
    report = build_report(args.logs, args.threshold, args.min_comparisons, args.examples)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=repr))
    else:
        _render(report)
    unready = any(m["verdict"] != "ready for canary" for m in report["modules"].values())
    return 1 if args.fail_unready and unready else 0
