"""``dspex parity``: prove each native module equal to DSPy on generated cases and the shadow corpus.

Exit status 1 when any module fails (a counterexample or a corpus case), so CI can gate flag changes on it;
``--report`` writes the proof record that ``dspex flags check --parity`` and ``dspex status`` read.
"""

from __future__ import annotations

from typing import Any

import click

from ._text import plain_text, shown

__all__ = ["parity"]


def _table(report: Any) -> Any:
    from rich.table import Table

    from ._text import cell

    table = Table(title=f"dspex parity: dspy {report.dspy_version}, seed {report.seed}, "
                        f"{report.examples} examples per module")
    for col in ("module", "source", "result", "examples", "corpus", "seconds", "detail"):
        table.add_column(col, overflow="fold")
    style = {"proven": "green", "failed": "red", "error": "red", "no_property": "yellow"}
    for m in report.modules.values():
        detail = m.note
        if m.failure and m.status == "failed":
            detail = m.failure["diff"].splitlines()[0] + f" (shrunk in {m.shrink_calls} calls)"
        if m.corpus_failures:
            detail += f" {len(m.corpus_failures)} corpus case(s) diverge"
        table.add_row(cell(m.module_type), cell(m.source), cell(m.status, style.get(m.status)), str(m.examples_run),
                      f"{m.corpus_cases - len(m.corpus_failures)}/{m.corpus_cases}", f"{m.seconds:.1f}",
                      cell(detail.strip()))
    return table


@click.command(help="Run the parity suite (native == DSPy) for every module with a native implementation.")
@click.option("--examples", default=100, show_default=True, type=click.IntRange(1), help="Generated cases per module.")
@click.option("--seed", default=None, type=int, help="Hypothesis seed (default: random, recorded in the report).")
@click.option("--module", "modules", multiple=True, metavar="MODULE_TYPE", help="Only this module type (repeatable).")
@click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False), help="Write the JSON report here (replacing that file: with --module, use a file of its own).")
@click.option("--corpus", default=None, type=click.Path(exists=True, file_okay=False),
              help="Shadow corpus folder (default shadow/corpus/).")
@click.option("--shrink-seconds", default=60.0, show_default=True, type=click.FloatRange(0), help="Time cap for shrinking a failure.")
def parity(examples: int, seed: int | None, modules: tuple[str, ...], report_path: str | None, corpus: str | None,
           shrink_seconds: float) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ._text import cell

    if report_path:
        _check_writable(report_path)   # before the suite runs, not after it: a late failure loses the whole run
        _warn_dropped(report_path, modules)

    try:
        from ..parity.runner import run_suite
    except ModuleNotFoundError as exc:
        if exc.name not in ("dspy", "hypothesis"):
            raise
        from ..errors import DspexError

        raise DspexError(f"dspex parity runs real DSPy against native and needs {exc.name}: "
                                    "pip install 'dspex[test]' (the pinned DSPy and Hypothesis).") from exc

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(module_type: str, done: int) -> None:
            if module_type not in tasks:
                tasks[module_type] = bar.add_task(cell(f"parity {module_type}").markup, total=examples)
            bar.update(tasks[module_type], completed=done)

        def finished(result: Any) -> None:
            if result.module_type in tasks:
                bar.update(tasks[result.module_type], completed=examples)

        report = run_suite(modules, examples, seed, corpus, progress=progress, on_module=finished,
                           shrink_seconds=shrink_seconds)
    out = Console()
    out.print(_table(report))
    for m in report.modules.values():
        if m.failure:
            out.print(cell(f"{m.module_type}: {'shrunk failing case' if m.status == 'failed' else m.note}", "red"))
            out.print(cell(m.failure["case"]), highlight=False)
            out.print(cell(m.failure["diff"]), highlight=False)
        for failure in m.corpus_failures[:5]:
            out.print(cell(f"{m.module_type}: corpus case {failure['source']}", "red"))
            out.print(cell("\n".join(failure["problems"])), highlight=False)
    if report_path:
        report.write(report_path)
        out.print(cell(f"report written to {report_path}"))
    if not report.ok:
        out.print(cell(f"parity FAILED; reproduce with `dspex parity --seed {report.seed} --module ...`", "red"))
        return 1
    return 0


def _check_writable(path: str) -> None:
    """Fail now, naming the path, when the report could not be written at the end (probe: open it for append)."""
    from pathlib import Path

    from ..errors import DspexError

    target = Path(path)
    existed = target.exists()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise DspexError(f"--report {path} cannot be written ({exc.strerror or exc}); choose another path.") from None
    if not existed:
        target.unlink()


def _warn_dropped(path: str, modules: tuple[str, ...]) -> None:
    """``--module M --report R`` rewrites R with M alone: say which proofs R held that the gate will then miss."""
    from pathlib import Path

    from ..errors import DspexError
    from ..gate import ParityReport

    if not modules or not Path(path).is_file():
        return
    try:
        dropped = sorted(set(ParityReport.read(path).modules) - set(modules))
    except DspexError:
        return
    if dropped:
        click.echo(plain_text(f"warning: --report {shown(path)} holds the parity records of {dropped}; this run "
                              f"replaces it with {sorted(modules)} only, and `flags check --parity` then finds no "
                              "proof for the others. Write a report of its own and pass both with --parity."),
                   err=True)
