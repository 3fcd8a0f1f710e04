"""Shadow settings: one validated, immutable record, swapped atomically by ``configure``.

Settings are read on the request path (sampling, queue bound), so they live in one frozen object that a
reader fetches once per call: a concurrent ``configure`` never shows a half-updated mix.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..environment import project_root
from ..errors import ConfigError

__all__ = ["ShadowSettings", "make_settings", "default_log_path", "default_log_dir", "process_log_name", "project_root"]

_MODES = ("replay", "live")
DEFAULT_LOG_FILE = "divergences.jsonl"


def default_log_dir() -> Path:
    """``shadow/logs/`` under the project root: git-ignored, beside ``shadow/corpus/``."""
    return project_root() / "shadow" / "logs"


def default_log_path() -> Path:
    """This process's file in the default folder (see :func:`process_log_name`)."""
    return default_log_dir() / process_log_name()


def _host() -> str:
    import socket

    return re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname() or "host")[:64] or "host"


def process_log_name() -> str:
    """``divergences.<host>.<pid>.jsonl``: one file per process, so a fleet writing to shared storage (or a log
    shipper collecting per-pod files) never has two writers on one file; ``dspex shadow report`` merges them."""
    return f"{DEFAULT_LOG_FILE.removesuffix('.jsonl')}.{_host()}.{os.getpid()}.jsonl"


@dataclass(frozen=True)
class ShadowSettings:
    """Everything shadow mode can be told; defaults are safe for production (replay, bounded, logged)."""

    enabled: bool = True
    mode: str = "replay"                      # replay: candidate fed the control's transcript; live: calls the LM
    sample_rate: float = 1.0                  # share of shadow-routed calls that are compared (sticky per key)
    max_queue: int = 1000                     # pending candidates; when full a call is dropped from shadowing
    timeout_s: float = 30.0                   # per candidate; a late candidate is recorded as a timeout
    workers: int = 2                          # candidate threads (a timed-out one is replaced, not waited for)
    max_abandoned: int = 16                   # hung threads tolerated before new candidates are dropped instead
    noise_rate: float = 0.0                   # live mode: share of compared calls that also rerun the control
    log_path: str | os.PathLike[str] | None = None   # folder (one file per process) or file; None: shadow/logs/
    log_max_bytes: int = 50 * 1024 * 1024     # rotate the log beyond this size
    log_backups: int = 5                      # rotated files kept: divergences.jsonl.1 ... .N
    redact: tuple[str, ...] = ()              # input field names written as "[REDACTED]"
    redact_keys: tuple[str, ...] = ()         # more secret key globs ("*_dsn"), on top of the built-in words
    comparators: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # {module: {field: comparator}}
    ignore: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)         # {module: (field | callable, ...)}
    clean: Callable[[Any], Any] | None = None # applied to values before they are published in the log
    float_rel_tol: float = 1e-9
    float_abs_tol: float = 1e-12
    stats_every: int = 100                    # write a per-module stats line after this many comparisons

    def resolved_log_path(self) -> Path:
        """This process's log file.

        A folder (or a path without a ``.jsonl``-style suffix) gets one file per process inside it,
        ``divergences.<host>.<pid>.jsonl``; a file path is used as given, with ``{host}`` and ``{pid}`` replaced.
        """
        if self.log_path is None:
            return default_log_path()
        path = Path(self.log_path)
        if path.suffix in (".jsonl", ".json", ".log", ".ndjson"):
            text = str(path)
            if "{" in text:
                text = text.replace("{host}", _host()).replace("{pid}", str(os.getpid()))
            return Path(text)
        return path / process_log_name()

    def replace(self, **changes: Any) -> "ShadowSettings":
        return make_settings(self, **changes)


_FIELDS = {f.name for f in dataclasses.fields(ShadowSettings)}


def _check_number(key: str, value: Any, lo: float, hi: float, integer: bool = False) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or math.isnan(value) or not lo <= value <= hi:
        what = "an integer" if integer else "a number"
        raise ConfigError(f"shadow.{key} must be {what} between {lo} and {hi}; got {value!r}.")


def _normalise_rules(key: str, value: Any) -> dict[str, Any]:
    """``{module: rules}``; a bare sequence (for ignore) or bare mapping of fields (comparators) means every module."""
    if value is None:
        return {}
    if key == "ignore" and isinstance(value, (list, tuple, set, frozenset, str)) or callable(value):
        value = {"*": value}
    if not isinstance(value, Mapping):
        raise ConfigError(f"shadow.{key} must be a mapping of module type or name to rules; got {value!r}.")
    out: dict[str, Any] = {}
    for module, rules in value.items():
        if key == "ignore":
            rules = (rules,) if isinstance(rules, str) or callable(rules) else tuple(rules)
            bad = [r for r in rules if not (isinstance(r, str) or callable(r))]
            if bad:
                raise ConfigError(f"shadow.ignore[{module!r}] takes field names or callables; got {bad!r}.")
        elif not isinstance(rules, Mapping):
            raise ConfigError(
                f"shadow.comparators[{module!r}] must map field names to comparators "
                f"('exact', 'tolerance', 'structural', 'ignore', ('tolerance', 1e-3) or a callable); got {rules!r}."
            )
        out[str(module)] = rules if key == "ignore" else dict(rules)
    return out


def make_settings(base: ShadowSettings | None = None, **changes: Any) -> ShadowSettings:
    """Validate ``changes`` on top of ``base``; an unknown key or bad value raises ConfigError naming it."""
    unknown = sorted(set(changes) - _FIELDS)
    if unknown:
        raise ConfigError(f"Unknown shadow setting(s) {unknown}; known settings are {sorted(_FIELDS)}.")
    for key in ("redact", "redact_keys"):
        if key in changes:
            value = changes[key]
            value = (value,) if isinstance(value, str) else tuple(value or ())
            if not all(isinstance(v, str) and v for v in value):
                raise ConfigError(f"shadow.{key} takes non-empty strings (names or glob patterns); got {value!r}.")
            changes[key] = value
    for key in ("comparators", "ignore"):
        if key in changes:
            changes[key] = _normalise_rules(key, changes[key])
    settings = dataclasses.replace(base or ShadowSettings(), **changes)
    if settings.mode not in _MODES:
        raise ConfigError(f"shadow.mode must be one of {_MODES}; got {settings.mode!r}.")
    _check_number("sample_rate", settings.sample_rate, 0.0, 1.0)
    _check_number("noise_rate", settings.noise_rate, 0.0, 1.0)
    _check_number("timeout_s", settings.timeout_s, 1e-3, 86400.0)
    _check_number("max_queue", settings.max_queue, 1, 10_000_000, integer=True)
    _check_number("workers", settings.workers, 1, 256, integer=True)
    _check_number("max_abandoned", settings.max_abandoned, 0, 10_000, integer=True)
    _check_number("log_max_bytes", settings.log_max_bytes, 1024, 1 << 40, integer=True)
    _check_number("log_backups", settings.log_backups, 0, 1000, integer=True)
    _check_number("stats_every", settings.stats_every, 1, 10_000_000, integer=True)
    _check_number("float_rel_tol", settings.float_rel_tol, 0.0, 1.0)
    _check_number("float_abs_tol", settings.float_abs_tol, 0.0, 1e300)
    if not isinstance(settings.enabled, bool):
        raise ConfigError(f"shadow.enabled must be True or False; got {settings.enabled!r}.")
    if settings.clean is not None and not callable(settings.clean):
        raise ConfigError(f"shadow.clean must be a callable value -> value; got {settings.clean!r}.")
    if settings.log_path is not None and not isinstance(settings.log_path, (str, os.PathLike)):
        raise ConfigError(f"shadow.log_path must be a path; got {settings.log_path!r}.")
    return settings
