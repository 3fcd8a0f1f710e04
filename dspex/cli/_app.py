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

    app.add_command(demo)
    return app
