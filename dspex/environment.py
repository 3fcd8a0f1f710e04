"""Facts about the installation and the project, each with one home.

Versions come from package metadata (asking never imports dspy, a second of startup); the project is found by
walking up from the working directory. Everything that needs one of these asks here.
"""

from __future__ import annotations

import functools
from importlib import metadata
from pathlib import Path

__all__ = ["installed_version", "dspy_version", "dspex_version", "find_pyproject", "project_root"]


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def dspy_version() -> str | None:
    """The installed dspy's version (None: not installed); read once per process."""
    return installed_version("dspy")


def dspex_version() -> str:
    """This package's own version (what ``dspex.__version__`` says, installed or not)."""
    import dspex

    return dspex.__version__


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` from ``start`` (the working directory) upwards, or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def project_root(start: Path | None = None) -> Path:
    """The nearest folder upwards holding ``pyproject.toml`` (or ``.git``); else the working directory."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return here
