"""``dspex shadow report|replay|promote``: the shadow module's own commands, arguments passed through as is.

Each command keeps its argparse interface (``dspex shadow report --help``) so ``python -m dspex.shadow`` and
``dspex shadow`` accept exactly the same arguments.
"""

from __future__ import annotations

import click

__all__ = ["shadow"]

_PASS = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


@click.group(help="Shadow logs: report divergence rates, replay divergences against native, promote them to the corpus.")
def shadow() -> None:
    pass


def _passthrough(name: str, summary: str) -> click.Command:
    @click.command(name=name, help=f"{summary} (see `dspex shadow {name} --help`).", context_settings=_PASS,
                   add_help_option=False)
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> int:
        import importlib

        module = importlib.import_module(f"dspex.shadow.{name}")
        return int(module.main(list(args)) or 0)

    return command


for _name, _summary in (
    ("report", "Per module: divergence rate with its 95% interval, diverging fields, verdict"),
    ("replay", "Re-run logged divergences against today's native code"),
    ("promote", "Turn logged divergences into regression cases under shadow/corpus/"),
):
    shadow.add_command(_passthrough(_name, _summary))
