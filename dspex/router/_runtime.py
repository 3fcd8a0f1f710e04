"""Process-wide router state: the validated settings, the flag source, the adaptive circuit.

Routed calls read ``STATE.settings`` (a plain attribute) on every call; everything heavy (pydantic, OpenFeature,
flagd) is loaded on the first call or at ``configure``. ``configure`` merges into earlier ``configure`` values.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
from typing import Any

from dspex.errors import ConfigError

from ._settings import Settings, build_settings

__all__ = ["STATE", "configure", "set_provider", "shutdown", "load", "reset", "flag_source"]

_log = logging.getLogger("dspex.router")
_UNSET: Any = object()


class _State:
    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.configured: dict[str, Any] = {}
        self.flags: Any = None             # FlagSource once created
        self.bound: str | None = None      # what the flag source is bound to: a flags string or "provider"
        self.circuit: Any = None
        self.shadow_applied: dict[str, Any] = {}
        self.shadow_run: str | None = None  # the shadow runtime those settings went to (reset makes a new one)
        self.dspy_installed = importlib.util.find_spec("dspy") is not None
        self.lock = threading.RLock()


STATE = _State()


def flag_source() -> Any:
    if STATE.flags is None:
        from ._flags import FlagSource

        STATE.flags = FlagSource()
    return STATE.flags


def _resolve_lm(lm: Any) -> Any:
    """An ``lm`` given as a model string (env / pyproject) becomes ``dspex.LM(model)``."""
    if not isinstance(lm, str):
        return lm
    try:
        from dspex.lm import LM
    except ImportError as exc:
        raise ConfigError(f"Setting lm={lm!r} names a model, which needs dspex.LM ({exc}).") from exc
    return LM(lm)


def _apply(settings: Settings, *, provider: Any = _UNSET, flags_given: bool = False) -> None:
    src = None
    if provider is not _UNSET:
        src = flag_source()
        if provider is None:
            src.close()
            STATE.bound = None
        else:
            src.bind(provider, f"provider {type(provider).__name__}", owned=False)
            STATE.bound = "provider"
    elif settings.flags is not None and (flags_given or STATE.bound is None):
        # configure(flags=...) always (re)reads the file now, even the same path: the caller expects what is
        # on disk at this moment, not whatever the 500 ms poll has picked up so far.
        from dspex.errors import FlagFileError

        from ._flags import flagd_provider_for

        src = flag_source()
        try:
            src.bind(flagd_provider_for(settings.flags), settings.flags, owned=True)
            STATE.bound = settings.flags
        except FlagFileError as exc:
            if flags_given:
                raise            # configure(flags=...) with a bad file: the caller hears it at once
            _flags_unavailable(exc, settings.sources.get("flags", "settings"))
    elif settings.flags is None and flags_given and STATE.flags is not None:
        STATE.flags.close()
        STATE.bound = None
    if settings.shadow:
        import dspex.shadow

        # Re-applied when the dict changed, and when the shadow runtime was reset since (a new run id): a reset
        # forgets the settings, and configure(shadow=<the same dict>) must not then leave the defaults in force.
        run_id = dspex.shadow.run_id()
        if settings.shadow != STATE.shadow_applied or run_id != STATE.shadow_run:
            dspex.shadow.configure(**settings.shadow)
            STATE.shadow_applied = dict(settings.shadow)
            STATE.shadow_run = run_id
    if settings.adaptive.enabled:
        from ._circuit import Circuit

        a = settings.adaptive
        STATE.circuit = Circuit(a.failure_threshold, a.reset_after_s, window=a.window, min_calls=a.min_calls,
                                max_error_rate=a.max_error_rate, latency_slo_ms=a.latency_slo_ms,
                                latency_quantile=a.latency_quantile)
    else:
        STATE.circuit = None


def _flags_unavailable(exc: Exception, source: str) -> None:
    """A flag file from the environment or pyproject that cannot be used: said once, here, and the calls go on
    routing by ``implementation_preference`` (the documented fallback) instead of raising on every call."""
    import warnings

    from dspex import telemetry

    if source.startswith("environment"):
        source = "the environment variable DSPEX_FLAGS"
    message = (f"dspex flags: {exc} (setting 'flags' from {source}); routing by implementation_preference until "
               "dspex.configure(flags=...) names a readable file.")
    _log.warning(message)
    warnings.warn(message, RuntimeWarning, stacklevel=4)
    if telemetry.has_listeners("dspex.router.flags"):
        telemetry.emit("dspex.router.flags", {}, {"kind": "flag_file_error", "message": str(exc), "flag_key": None,
                                                  "source": source})


_WARNED_OVERRIDES: set[str] = set()


def _check_overrides(settings: Settings) -> None:
    """A ``module_overrides`` key that is no module type but close to one is said once, loudly: it then applies
    only to a module built with that ``name=``, so a typo in an emergency rollback (``chain_of_thougth=dspy``)
    would do nothing. A key near no type (``hot_path``) is an instance name, as documented, and is not warned
    about: a warning for every legitimate use would teach users to ignore this one."""
    import difflib
    import warnings

    from dspex import registry

    known = sorted(registry.module_types())
    for key in settings.module_overrides:
        if key in known or key in _WARNED_OVERRIDES:
            continue
        _WARNED_OVERRIDES.add(key)
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
        if not close:
            continue
        source = settings.sources.get("module_overrides", "settings")
        message = (f"dspex module_overrides: {key!r} (from {source}) is not a module type, so it applies only to a "
                   f"module built with name={key!r}. Did you mean {close[0]!r}? Module types: "
                   f"{known}.")
        _log.warning(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def load() -> Settings:
    """Settings for the first routed call when ``configure`` was never called: env + pyproject + defaults."""
    with STATE.lock:
        if STATE.settings is None:
            settings = build_settings(STATE.configured)
            settings = _with_lm(settings)
            _check_overrides(settings)
            _apply(settings)
            STATE.settings = settings
        return STATE.settings


def _with_lm(settings: Settings) -> Settings:
    if isinstance(settings.lm, str):
        from dataclasses import replace

        return replace(settings, lm=_resolve_lm(settings.lm))
    return settings


def configure(**values: Any) -> Settings:
    """Set dspex settings (see docs/migration/flags.md); returns the effective, validated settings.

    Keys: ``lm``, ``flags`` (a flagd file path, ``flagd://host:port`` or ``flagd+in-process://host:port``),
    ``provider`` (any OpenFeature provider, bound to domain "dspex" instead of a flag file),
    ``implementation_preference``, ``allow_fallback``, ``module_overrides``, ``shadow``, ``adaptive``.
    """
    provider = values.pop("provider", _UNSET)
    with STATE.lock:
        merged = {**STATE.configured, **values}
        for section in ("shadow", "adaptive"):
            if isinstance(STATE.configured.get(section), dict) and isinstance(values.get(section), dict):
                merged[section] = {**STATE.configured[section], **values[section]}
        settings = _with_lm(build_settings(merged))
        _check_overrides(settings)
        _apply(settings, provider=provider, flags_given="flags" in values)
        STATE.configured = merged
        STATE.settings = settings
    if "lm" in values:
        native = sys.modules.get("dspex.native")
        if native is None:
            try:
                import dspex.native as native
            except ImportError:
                native = None
        native_settings = getattr(native, "settings", None)
        if native_settings is not None:
            native_settings.configure(lm=settings.lm)
    return settings


def set_provider(provider: Any) -> None:
    """Bind any OpenFeature provider to domain "dspex" (waits until it is ready); None unbinds."""
    load()
    with STATE.lock:
        _apply(STATE.settings, provider=provider)  # type: ignore[arg-type]


def shutdown(timeout: float = 5.0) -> None:
    """Drain pending shadow work (if shadow was used) and close the flag provider."""
    shadow = sys.modules.get("dspex.shadow")
    drain = getattr(shadow, "shutdown", None)
    if callable(drain):
        drain(timeout)
    with STATE.lock:
        if STATE.flags is not None:
            STATE.flags.close(shut_down=True)
        STATE.bound = None


def reset() -> None:
    """Forget every setting and close the flag source (tests; a fresh process state)."""
    with STATE.lock:
        if STATE.flags is not None:
            STATE.flags.close()
        STATE.settings = None
        STATE.configured = {}
        STATE.bound = None
        STATE.circuit = None
        STATE.shadow_applied = {}
        STATE.shadow_run = None
        _WARNED_OVERRIDES.clear()
    native = sys.modules.get("dspex.native")   # the LM dspex.configure handed the native side goes too
    if native is not None:
        native.settings.configure(lm=None)
