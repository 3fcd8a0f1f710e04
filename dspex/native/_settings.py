"""The few defaults native modules read once at the top of a call: the default LM and adapter.

``dspex.configure(lm=...)`` sets the process-wide value (visible from every thread, like ``dspy.configure``);
``with settings.context(lm=...)`` overrides it for the current thread or asyncio task only (a contextvar), so
concurrent requests can use different LMs without racing. Nothing deeper in the call reads these: modules
resolve them once and pass them down explicitly.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator

from ..errors import ConfigError

__all__ = ["NativeSettings", "settings"]

_KEYS = ("lm", "adapter", "warn_on_type_mismatch")
_UNSET: Any = object()


class NativeSettings:
    """Holder for native defaults: ``lm`` (None), ``adapter`` (None: a ChatAdapter), ``warn_on_type_mismatch``."""

    def __init__(self) -> None:
        self._global: dict[str, Any] = {"lm": None, "adapter": None, "warn_on_type_mismatch": True}
        self._local: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
            "dspex_native_settings", default=None
        )

    def _get(self, key: str) -> Any:
        local = self._local.get()
        if local is not None and key in local:
            return local[key]
        return self._global[key]

    def current(self) -> dict[str, Any]:
        """Every setting as this thread / task sees it, in one lookup (read-only: do not mutate it)."""
        local = self._local.get()
        return self._global if local is None else {**self._global, **local}

    @property
    def lm(self) -> Any:
        return self._get("lm")

    @property
    def adapter(self) -> Any:
        return self._get("adapter")

    @property
    def warn_on_type_mismatch(self) -> bool:
        return bool(self._get("warn_on_type_mismatch"))

    @staticmethod
    def _check(values: dict[str, Any]) -> None:
        unknown = sorted(set(values) - set(_KEYS))
        if unknown:
            raise ConfigError(
                f"Unknown native setting(s) {unknown}; the native settings are {list(_KEYS)}."
            )

    def configure(self, **values: Any) -> None:
        """Set process-wide defaults (what ``dspex.configure`` calls for ``lm``)."""
        self._check(values)
        self._global.update(values)

    @contextlib.contextmanager
    def context(self, **values: Any) -> Iterator[None]:
        """Override defaults for this thread / asyncio task until the block ends."""
        self._check(values)
        merged = {**(self._local.get() or {}), **values}
        token = self._local.set(merged)
        try:
            yield
        finally:
            self._local.reset(token)

    def __repr__(self) -> str:
        shown = {k: self._get(k) for k in _KEYS}
        return f"NativeSettings({shown})"


settings = NativeSettings()
