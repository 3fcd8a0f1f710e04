"""Settings from four sources, first match wins: ``dspex.configure(...)`` > ``DSPEX_*`` env > ``[tool.dspex]`` > defaults.

Each source is checked on its own, so an error names both the key and where it came from. pydantic is imported
here only when settings are loaded (first routed call or ``configure``), never on the native import path.
Relative paths in ``[tool.dspex]`` (``flags``, ``shadow.log_path``) are relative to that pyproject.toml.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from dspex.environment import find_pyproject
from dspex.errors import ConfigError

__all__ = ["Settings", "build_settings", "find_pyproject", "KEYS", "ADAPTIVE_KEYS", "shadow_keys", "MAX_CALL_TIMEOUT_S"]

KEYS = ("lm", "flags", "implementation_preference", "allow_fallback", "module_overrides", "shadow", "adaptive",
        "call_timeout_s")
ADAPTIVE_KEYS = ("enabled", "failure_threshold", "reset_after_s", "window", "min_calls", "max_error_rate",
                 "latency_slo_ms", "latency_quantile")
# [tool.dspex] keys that belong to the parity gate (dspex parity / status), not to the router: skipped here.
GATE_KEYS = frozenset({"parity_modules"})
GATE_ENV_PREFIX = "DSPEX_PARITY_"   # the parity suite's knobs (examples, profile): not router settings
_SECTIONS = {"shadow": None, "adaptive": ADAPTIVE_KEYS}   # shadow keys: dspex.shadow.ShadowSettings
# The longest call_timeout_s: one day. Far above any LM call, far below what a thread wait can take (Python's
# threading.TIMEOUT_MAX, ~292 years: beyond it, inf included, every routed call raised OverflowError). None
# (unset) is the way to say "no dspex deadline".
MAX_CALL_TIMEOUT_S = 86_400.0
_HINTS = {"call_timeout_s": f"; give seconds in (0, {MAX_CALL_TIMEOUT_S:g}] (one day at most), or leave it unset "
                            "for no dspex deadline"}


@dataclass(frozen=True, slots=True)
class AdaptiveSettings:
    enabled: bool = False
    failure_threshold: int = 5
    reset_after_s: float = 60.0
    window: int = 100                      # native calls the rate and latency rules look back over
    min_calls: int = 20                    # calls in the window before those rules may open the circuit
    max_error_rate: float | None = None    # e.g. 0.2: open when 20% of the window failed
    latency_slo_ms: float | None = None    # e.g. 500: open when the window's latency quantile exceeds it
    latency_quantile: float = 0.95


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated settings; read on every routed call, so plain attributes."""

    lm: Any = None
    flags: str | None = None
    implementation_preference: str = "auto"
    allow_fallback: bool = True
    call_timeout_s: float | None = None                        # deadline for one routed call (None: the LM's own)
    module_overrides: Mapping[str, str] = field(default_factory=dict)
    shadow: Mapping[str, Any] = field(default_factory=dict)   # validated by dspex.shadow; applied at configure
    adaptive: AdaptiveSettings = field(default_factory=AdaptiveSettings)
    sources: Mapping[str, str] = field(default_factory=dict)   # key -> where its value came from


def _shadow_defaults() -> dict[str, Any]:
    import dataclasses

    from dspex.shadow import ShadowSettings

    return {f.name: getattr(ShadowSettings(), f.name) for f in dataclasses.fields(ShadowSettings)}


def shadow_keys() -> list[str]:
    return list(_shadow_defaults())


def _section_keys(section: str) -> Any:
    return shadow_keys() if section == "shadow" else _SECTIONS[section]


def _coerce_env(key: str, text: str) -> Any:
    """DSPEX_SHADOW_* values arrive as strings: convert them to the type of the shadow setting's default."""
    default = _shadow_defaults()[key]
    if isinstance(default, bool):
        if text.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if text.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"Bad value for DSPEX_SHADOW_{key.upper()} (environment): {text!r} is not true/false.")
    try:
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise ConfigError(f"Bad value for DSPEX_SHADOW_{key.upper()} (environment): {text!r} is not a number.") from None
    if isinstance(default, tuple):
        return tuple(v.strip() for v in text.split(",") if v.strip())
    return text


def _validate_shadow(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    from dspex.shadow import make_settings

    try:
        make_settings(**values)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (setting 'shadow' from {source})") from None
    return dict(values)


def _model() -> Any:
    """The pydantic model, built on first use (pydantic stays off the import path)."""
    global _MODEL
    if _MODEL is not None:
        return _MODEL
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field

    from dspex.registry import IMPLEMENTATIONS

    Impl = Literal[IMPLEMENTATIONS]  # type: ignore[valid-type]

    class _Adaptive(BaseModel):
        model_config = ConfigDict(extra="forbid")
        enabled: bool = False
        failure_threshold: int = Field(5, ge=1)
        reset_after_s: float = Field(60.0, gt=0)
        window: int = Field(100, ge=1)
        min_calls: int = Field(20, ge=1)
        max_error_rate: float | None = Field(None, gt=0, le=1)
        latency_slo_ms: float | None = Field(None, gt=0)
        latency_quantile: float = Field(0.95, gt=0, le=1)

    class _Settings(BaseModel):
        model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
        lm: Any = None
        flags: str | None = None
        implementation_preference: Literal["auto", "native_first", "dspy_first"] = "auto"
        allow_fallback: bool = True
        call_timeout_s: float | None = Field(None, gt=0, le=MAX_CALL_TIMEOUT_S)
        module_overrides: dict[str, Impl] = {}
        shadow: dict[str, Any] = {}
        adaptive: _Adaptive = _Adaptive()

    _MODEL = _Settings
    return _MODEL


_MODEL: Any = None


def _from_pyproject(path: Path | None) -> tuple[dict[str, Any], str]:
    if path is None:
        return {}, "defaults"
    source = f"[tool.dspex] in {path}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}. Fix the file or run from another directory.") from exc
    section = data.get("tool", {}).get("dspex", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{source} must be a table.")
    section = {k: v for k, v in section.items() if k not in GATE_KEYS}
    base = path.parent
    if isinstance(section.get("flags"), str) and not section["flags"].startswith(("flagd://", "flagd+in-process://",
                                                                                   "provider:")):
        section["flags"] = str(base / section["flags"])
    shadow = section.get("shadow")
    if isinstance(shadow, dict) and isinstance(shadow.get("log_path"), str):
        section["shadow"] = {**shadow, "log_path": str(base / shadow["log_path"])}
    return section, source


def _parse_overrides(text: str) -> Any:
    text = text.strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ConfigError(f"DSPEX_MODULE_OVERRIDES (environment) is not valid JSON ({exc}); give "
                              '\'{"predict": "native"}\' or \'predict=native,react=dspy\'.') from None
    pairs = [p for p in text.replace(";", ",").split(",") if p.strip()]
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(
                f"DSPEX_MODULE_OVERRIDES: {pair!r} is not 'module=implementation' (e.g. 'predict=native,react=dspy')."
            )
        out[key.strip()] = value.strip()
    return out


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith("DSPEX_") or name.startswith(GATE_ENV_PREFIX):
            continue
        key = name[6:].lower()
        section = next((s for s in _SECTIONS if key.startswith(s + "_")), None)
        if section is not None:
            sub = key[len(section) + 1 :]
            if sub not in _section_keys(section):
                raise ConfigError(f"Unknown setting {name} (environment); {section} keys are {_section_keys(section)}.")
            out.setdefault(section, {})[sub] = _coerce_env(sub, value) if section == "shadow" else value
        elif key in ("lm", "flags", "implementation_preference", "allow_fallback", "call_timeout_s"):
            if value.strip():     # DSPEX_FLAGS= (set but empty, as templates leave it) means unset
                out[key] = value
        elif key == "module_overrides":
            out[key] = _parse_overrides(value)
        else:
            raise ConfigError(
                f"Unknown setting {name} (environment); dspex reads DSPEX_{{{', '.join(k.upper() for k in KEYS)}}} "
                "and DSPEX_SHADOW_<KEY> / DSPEX_ADAPTIVE_<KEY>."
            )
    return out


def _check_keys(values: Mapping[str, Any], source: str) -> None:
    for key, value in values.items():
        if key not in KEYS:
            raise ConfigError(f"Unknown setting {key!r} ({source}); known settings: {list(KEYS)}.")
        if key in _SECTIONS:
            if not isinstance(value, Mapping):
                raise ConfigError(f"Setting {key!r} ({source}) must be a table/dict of {_section_keys(key)}.")
            unknown = sorted(set(value) - set(_section_keys(key)))
            if unknown:
                raise ConfigError(f"Unknown setting {key}.{unknown[0]} ({source}); {key} keys are {_section_keys(key)}.")
            if key == "shadow":
                _validate_shadow(value, source)


def build_settings(configured: Mapping[str, Any], environ: Mapping[str, str] | None = None,
                   pyproject: Path | None | bool = True) -> Settings:
    """Merge and validate. ``pyproject=True`` searches from the cwd; a Path uses that file; None/False skips it."""
    pp_path = find_pyproject() if pyproject is True else (pyproject or None)
    layers: list[tuple[str, dict[str, Any]]] = []
    pp_values, pp_source = _from_pyproject(pp_path)   # type: ignore[arg-type]
    layers.append((pp_source, pp_values))
    layers.append(("environment (DSPEX_*)", _from_env(os.environ if environ is None else environ)))
    layers.append(("dspex.configure()", dict(configured)))
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, values in layers:
        _check_keys(values, source)
        for key, value in values.items():
            if key in _SECTIONS:
                merged[key] = {**merged.get(key, {}), **value}
                for sub in value:
                    sources[f"{key}.{sub}"] = source
            else:
                merged[key] = value
            sources[key] = source
    from pydantic import ValidationError

    try:
        model = _model()(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        where = sources.get(loc) or sources.get(str(err["loc"][0]), "defaults")
        hint = _HINTS.get(loc, "")
        raise ConfigError(f"Bad value for setting {loc!r} ({where}): {err['msg']} (got {err.get('input')!r}){hint}.") \
            from None
    return Settings(
        lm=model.lm,
        flags=model.flags,
        implementation_preference=model.implementation_preference,
        allow_fallback=model.allow_fallback,
        call_timeout_s=model.call_timeout_s,
        module_overrides=dict(model.module_overrides),
        shadow=dict(model.shadow),
        adaptive=AdaptiveSettings(**model.adaptive.model_dump()),
        sources=sources,
    )
