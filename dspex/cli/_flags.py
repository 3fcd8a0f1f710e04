"""``dspex flags check`` (the gate CI runs on flags/) and ``dspex flags stage`` (one migration step, one flag)."""

from __future__ import annotations

import click

from ._text import shown

__all__ = ["flags"]

_PARITY = click.option("--parity", "parity_reports", multiple=True, type=click.Path(exists=True, dir_okay=False),
                       help="Parity report(s) from `dspex parity --report`; native then needs a proof on the installed DSPy.")


def _load_project_modules() -> None:
    """Import user module declarations so their types are registered before flags name them.

    A declaration that cannot be loaded is a warning here, not a stop: the flags of the other modules (and any
    kill switch) must still be checkable and stageable; only that module's type stays unknown.
    """
    from ..errors import ConfigError
    from ..gate import declared_modules

    errors: list[ConfigError] = []
    try:
        declared_modules(errors=errors)
    except ConfigError as exc:   # pyproject.toml itself unreadable
        errors.append(exc)
    for exc in errors:
        click.echo(f"warning: {exc} Module types it declares are unknown to this command.", err=True)


@click.group(help="Validate flag files and move modules through the migration stages.")
def flags() -> None:
    pass


@flags.command(help="Validate flag files with flagd's loader and dspex's rules; exit 1 on any error.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@_PARITY
def check(files: tuple[str, ...], parity_reports: tuple[str, ...]) -> int:
    from ..gate import check_file, load_reports

    _load_project_modules()
    reports = load_reports(parity_reports)
    errors = 0
    for file in files:
        problems = check_file(file, reports)
        for problem in problems:
            click.echo(str(problem), err=problem.severity == "error")
        file_errors = sum(p.severity == "error" for p in problems)
        errors += file_errors
        if not file_errors:
            click.echo(f"ok: {shown(file)}" + (f" ({len(problems)} warning(s))" if problems else ""))
    if errors:
        click.echo(f"{errors} error(s): the gate refuses these flag files.", err=True)
        return 1
    return 0


@flags.command(help="Move MODULE_TYPE to STAGE (dspy, shadow, canary --percent N, native, off) in one flag file.")
@click.argument("module_type")
@click.argument("stage", type=click.Choice(["dspy", "shadow", "canary", "native", "off"]))
@click.option("--file", "file", required=True, type=click.Path(exists=True, dir_okay=False), help="The flag file to edit.")
@click.option("--percent", type=click.IntRange(1, 99), default=None, help="Canary share on native (first bucket).")
@click.option("--dry-run", is_flag=True, help="Print the diff; do not write.")
@_PARITY
def stage(module_type: str, stage: str, file: str, percent: int | None, dry_run: bool,
          parity_reports: tuple[str, ...]) -> int:
    from ..gate import GateRefusal, load_reports, stage_flag

    _load_project_modules()
    try:
        result = stage_flag(file, module_type, stage, percent, load_reports(parity_reports), write=not dry_run)
    except GateRefusal as exc:
        click.echo(f"refused: {exc}", err=True)
        return 1
    if result.before == result.after:
        click.echo(f"{result.flag_key} in {shown(file)} is already at {stage}; nothing changed.")
        return 0
    click.echo(result.diff, nl=not result.diff.endswith("\n"))   # a file without a final newline
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"{'would set' if dry_run else 'set'} {result.flag_key} to {stage}"
               + (f" {percent}%" if percent else "") + f" in {shown(file)}")
    return 0
