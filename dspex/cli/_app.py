"""The click application: each subcommand lives in its own module and is registered here."""

from __future__ import annotations

import click

__all__ = ["build_app"]


def build_app() -> click.Group:
    @click.group(help="dspex: move a DSPy program onto native modules, one flag at a time.")
    @click.version_option(package_name="dspex")
    def app() -> None:
        pass

    from ._demo import demo
    from ._flags import flags
    from ._parity import parity
    from ._shadow import shadow
    from ._status import status

    for command in (demo, parity, flags, status, shadow):
        app.add_command(command)
    return app
