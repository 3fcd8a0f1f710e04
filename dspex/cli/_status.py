"""``dspex status``: where every module type stands: native or DSPy-only, parity proof, stage per flag file."""

from __future__ import annotations

import click

from ._text import plain_text, shown

__all__ = ["status"]


@click.command(help="One table of every module type: implementation, parity, stage in each flags/*.flagd.json, shadow.")
@click.option("--markdown", is_flag=True, help="Print Markdown (docs/migration/status.md is this output).")
@click.option("--parity", "parity_reports", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Parity report(s) from `dspex parity --report`.")
@click.option("--shadow-log", "shadow_logs", multiple=True, type=click.Path(exists=True),
              help="Shadow divergence log(s) or folders: adds divergence rate and verdict.")
@click.option("--flags-dir", default=None, type=click.Path(exists=True, file_okay=False),
              help="Folder of *.flagd.json files (default: flags/ in the project root).")
def status(markdown: bool, parity_reports: tuple[str, ...], shadow_logs: tuple[str, ...], flags_dir: str | None) -> int:
    from ..gate import build_status, load_reports, to_markdown
    from ..environment import project_root
    from ._flags import _load_project_modules

    from ..gate import flag_files

    _load_project_modules()
    if shadow_logs:
        from ..shadow import read_for_cli

        if read_for_cli(list(shadow_logs), empty_ok=True) is None:   # no record: a warning, the column says so
            return 2
    folder = flags_dir or project_root() / "flags"
    if not flag_files(folder):
        click.echo(plain_text(f"warning: no *.flagd.json file in {shown(folder)}: no stage column; pass "
                              "--flags-dir with the folder of your flag files."), err=True)
    table = build_status(folder, load_reports(parity_reports), shadow_logs)
    if markdown:
        click.echo(to_markdown(table), nl=False)
        return 0
    from rich.console import Console
    from rich.table import Table

    from ._text import cell

    out = Table(title="dspex status")
    for col in ("module type", "implementation", "parity", *table.environments, *(["shadow"] if shadow_logs else [])):
        out.add_column(cell(col), overflow="fold")
    for row in table.rows:
        impl = cell(row.implementation, "green" if row.native else "yellow")
        parity = cell(row.parity, "green" if row.proven else None)
        cells = [cell(row.module_type), impl, parity, *(cell(row.stages[e]) for e in table.environments)]
        out.add_row(*cells, *([cell(row.shadow)] if shadow_logs else []))
    Console().print(out)
    return 0
