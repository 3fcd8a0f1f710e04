"""Validate a flag file with flagd's own loader: the code path the provider's FILE resolver runs at run time.

The in-process FILE resolver reads the file in ``FileWatcher._load_data`` (``json.load``, or YAML for
``.yaml``) and hands the data to ``FlagdCore`` through the resolver's store adapter, whose ``Flag.from_dict``
rejects the whole file on one bad flag. We run that same watcher against a fresh ``FlagdCore`` (no thread, no
provider), so "passes the gate" means "loads in production". flagd's errors do not say which flag failed, so a
rejected file is then re-read flag by flag with flagd's ``Flag.from_dict`` to name the culprit.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from ._problems import Problem

__all__ = ["load_with_flagd", "flagd_core_for"]


def _describe(exc: BaseException) -> str:
    parts = []
    while exc is not None:
        text = getattr(exc, "error_message", None) or str(exc)
        if text and text != "None":
            parts.append(text)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return "; ".join(dict.fromkeys(parts)) or "rejected"


def flagd_core_for(path: str | Path) -> Any:
    """A ``FlagdCore`` loaded from ``path`` exactly as the provider's FILE resolver loads it (raises on error)."""
    from openfeature.contrib.provider.flagd.config import Config, ResolverType
    from openfeature.contrib.provider.flagd.resolvers.in_process import _FlagStoreAdapter
    from openfeature.contrib.provider.flagd.resolvers.process.connector.file_watcher import FileWatcher
    from openfeature.contrib.tools.flagd.core import FlagdCore

    core = FlagdCore()
    config = Config(resolver=ResolverType.FILE, offline_flag_source_path=str(path))
    noop = lambda *args, **kwargs: None  # noqa: E731 - events have no listener here
    watcher = FileWatcher(config, _FlagStoreAdapter(core, noop), noop, noop)  # type: ignore[arg-type]
    watcher._load_data()   # noqa: SLF001 - the resolver's own load routine, on purpose
    return core


def _hint(text: str) -> str:
    if "unexpected keyword argument" in text:
        return "flagd accepts only state, variants, defaultVariant, targeting, metadata (and source/selector) " \
               "in a flag: move notes into the flag's `metadata`"
    if "state" in text:
        return "set `state` to ENABLED or DISABLED"
    if "variants" in text:
        return "give the flag a non-empty `variants` object"
    if "etadata" in text:
        return "metadata values must be strings, numbers or booleans"
    return "fix the flag so flagd can load it"


def load_with_flagd(path: str | Path) -> tuple[dict[str, Any] | None, list[Problem]]:
    """``(parsed data or None, problems)``: empty problems means flagd loads the file as is."""
    from openfeature.contrib.tools.flagd.core.model.flag import Flag

    file = str(path)
    try:
        flagd_core_for(path)
        failure = None
    except FileNotFoundError:
        return None, [Problem(file, None, "file not found; check the path.")]
    except Exception as exc:   # noqa: BLE001 - flagd raises ParseError, JSONDecodeError, TypeError...
        failure = exc
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, [Problem(file, None, f"flagd cannot parse it: {exc}; fix the JSON.")]
    except RecursionError:
        return None, [Problem(file, None, "flagd cannot parse it: the JSON is nested too deeply; fix the file.")]
    except OSError as exc:
        return None, [Problem(file, None, f"cannot be read ({exc.strerror or exc}); check the path and permissions.")]
    if failure is None:
        return data, []
    problems = []
    flags = data.get("flags") if isinstance(data, dict) else None
    if isinstance(flags, dict):
        for key, flag in flags.items():
            try:
                Flag.from_dict(key, copy.deepcopy(flag) if isinstance(flag, dict) else flag)
            except Exception as exc:   # noqa: BLE001
                text = _describe(exc)
                problems.append(Problem(file, key, f"flagd rejects this flag (and so the whole file): {text}; "
                                                   f"{_hint(text)}."))
    if not problems:
        problems.append(Problem(file, None, f"flagd rejects the file: {_describe(failure)}; `flags` and "
                                            "`metadata` must be objects and metadata values strings, numbers or booleans."))
    return (data if isinstance(data, dict) else None), problems
