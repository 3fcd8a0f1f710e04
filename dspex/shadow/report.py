"""``dspex shadow report LOG...``: per module, how often native diverges from DSPy and whether it may go live.

Prints comparisons, the divergence rate with its 95% Wilson interval, the diverging fields (with live-mode noise
set apart), example divergences, paired costs per call (each side's own compute, i.e. its duration minus its LM
wait, LM calls and tokens) with the end-to-end change a canary brings ("native saves X ms of Y ms per call": the
same LM wait, native's own compute instead of DSPy's; a replayed candidate's duration is never shown as a
latency, since it never waits for the LM), and a verdict: *ready for canary* when there are at least
``--min-comparisons`` comparisons and the interval's upper bound is at most ``--threshold``. Exit code 0, or with
``--fail-unready`` 1 when some module is not ready; 2 on bad arguments or input that holds no divergence-log record (an empty folder or file: no evidence).
Names from the log are printed as text, never as rich markup.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

from ._analysis import analyse
from ._read import read_for_cli, read_logs

__all__ = ["main", "build_report", "cost_cells"]


def build_report(logs: Sequence[str | Path], threshold: float = 0.02, min_comparisons: int = 200,
                 examples: int = 3) -> dict[str, Any]:
    return analyse(read_logs(logs), threshold=threshold, min_comparisons=min_comparisons, examples=examples)


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"


def cost_cells(costs: dict[str, Any] | None) -> tuple[str, str]:
    """``(per call, canary)`` texts: own compute and LM use per implementation, and what a canary changes."""
    if not costs:
        return "no LM timing in these logs (written by an older dspex)", "-"
    d, n, c = costs["dspy"], costs["native"], costs["canary"]
    tokens = "" if d["tokens_per_call"] is None else f", {d['tokens_per_call']:.0f} tokens"
    per_call = (f"own compute dspy {_ms(d['own_ms'])} / native {_ms(n['own_ms'])} ms; "
                f"LM {d['lm_calls_per_call']:.2g} / {n['lm_calls_per_call']:.2g} calls{tokens}, "
                f"{_ms(d['lm_wait_ms'])} ms wait")
    verb = "saves" if c["saves_ms"] >= 0 else "adds"
    canary = f"native {verb} {_ms(abs(c['saves_ms']))} ms of {_ms(c['dspy_ms'])} ms per call"
    return per_call, canary


def _render(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..cli import cell, plain_text

    console = Console()
    table = Table(title=f"dspex shadow report (ready: >= {report['min_comparisons']} comparisons and "
                        f"95% upper bound <= {report['threshold']:.1%})")
    for col in ("module", "comparisons", "divergent", "rate [95% CI]", "diverging fields", "verdict"):
        table.add_column(col)
    for module, m in report["modules"].items():
        fields = ", ".join(
            f"{plain_text(name)} {f['count']}" + ("" if f["real"] else f" (noise {f['noise_rate']:.0%})")
            for name, f in list(m["fields"].items())[:5]
        ) or "-"
        low, high = m["ci95"]
        verdict = cell(m["verdict"], "green" if m["verdict"] == "ready for canary" else "red")
        verdict.append("\n" + m["verdict_reason"], style="")
        table.add_row(cell(module), str(m["comparisons"]), str(m["real_divergent"]),
                      cell(f"{m['rate']:.2%} [{low:.2%}, {high:.2%}]"), cell(fields), verdict)
        lost = {k: m[k] for k in ("dropped", "log_errors") if m.get(k)}
        if lost:
            table.add_row(cell(f"  {module}: comparisons lost: {lost}", "yellow"))
    console.print(table)
    for module, m in report["modules"].items():
        per_call, canary = cost_cells(m.get("costs"))
        n = (m.get("costs") or {}).get("n")
        paired = f" (medians of {n} paired calls)" if n else ""
        console.print(cell(f"  {module} per call{paired}: {per_call}. Canary, end to end: {canary}."),
                      highlight=False, soft_wrap=True)
    for module, m in report["modules"].items():
        for ex in m["examples"]:
            console.print(cell(f"  {module} {ex['kind']} {ex['id']}: fields {ex['fields']} inputs "
                               f"{json.dumps(ex['inputs'], ensure_ascii=False)[:160]}"), highlight=False)
    if report["bad_lines"]:
        console.print(cell(f"{len(report['bad_lines'])} unreadable line(s) skipped: {report['bad_lines'][:5]}",
                           "yellow"))
    console.print(cell(f"read {report.get('files', 0)} file(s) from {report.get('runs', 0)} process run(s)"))


def _share(text: str) -> float:
    """``--threshold``: a share in (0, 1]; 5 is not taken as 500%."""
    value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a share between 0 and 1 (0.02, or 2%)")
    return value


def _at_least(low: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r}: must be at least {low}")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dspex shadow report", description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", help="divergence log files or folders (rotated files included)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--threshold", type=_share, default=0.02,
                        help="max 95%% upper bound of the rate: a share (0.02) or a percentage (2%%)")
    parser.add_argument("--min-comparisons", type=_at_least(1), default=200)
    parser.add_argument("--examples", type=_at_least(0), default=3)
    parser.add_argument("--fail-unready", action="store_true", help="exit 1 when some module is not ready")
    args = parser.parse_args(argv)
    read = read_for_cli(args.logs)
    if read is None:
        return 2
    report = analyse(read, threshold=args.threshold, min_comparisons=args.min_comparisons, examples=args.examples)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=repr))
    else:
        _render(report)
    unready = any(m["verdict"] != "ready for canary" for m in report["modules"].values())
    return 1 if args.fail_unready and unready else 0
