"""The few defaults native modules read once at the top of a call: the default LM and adapter.

``dspex.configure(lm=...)`` sets the process-wide value (visible from every thread, like ``dspy.configure``);
``with settings.context(lm=...)`` overrides it for the current thread or asyncio task only (a contextvar), so
concurrent requests can use different LMs without racing. Nothing deeper in the call reads these: modules
resolve them once (:meth:`NativeSettings.current`) and pass them down explicitly.

When the program has loaded DSPy, :mod:`dspex.hooks` lets DSPy's side answer too: ``dspy.context(lm=...)`` and
``dspy.configure(lm=..., adapter=...)`` then reach native modules, in the order docs/inside-dspy.md gives.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from typing import Any, Iterator

from .. import hooks
from ..errors import ConfigError

__all__ = ["NativeSettings", "settings"]

_KEYS = ("lm", "adapter", "warn_on_type_mismatch")
_modules = sys.modules
_UNSET: Any = object()


class NativeSettings:
    """Holder for native defaults: ``lm`` (None), ``adapter`` (None: a ChatAdapter), ``warn_on_type_mismatch``."""

    def __init__(self) -> None:
        # ``plain``: whether a call may take Predict's plain path (a bridge turns it off when callbacks want events)
        self._global: dict[str, Any] = {"lm": None, "adapter": None, "warn_on_type_mismatch": True, "plain": True}
        self._local: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
            "dspex_native_settings", default=None
        )

    def current(self) -> dict[str, Any]:
        """Every setting as this thread / task sees it, in one lookup (read-only: do not mutate it)."""
        local = self._local.get()
        base = self._global if local is None else {**self._global, **local}
        bridge = hooks.bridge
        if bridge is None:
            if _modules.get("dspy") is None:   # DSPy not loaded: dspex's own values (the common native case)
                return base
            bridge = hooks.current()
            if bridge is None:
                return base
        return bridge.settings(base, local)

    @property
    def lm(self) -> Any:
        return self.current()["lm"]

    @property
    def adapter(self) -> Any:
        return self.current()["adapter"]

    @property
    def warn_on_type_mismatch(self) -> bool:
        return bool(self.current()["warn_on_type_mismatch"])

    def layers(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """``(process-wide values, this context's overrides or None)``: what DSPy's side ranks against its own."""
        return self._global, self._local.get()

    def own(self) -> dict[str, Any]:
        """dspex's own values, without DSPy's view (what ``dspex.configure`` / ``context`` set)."""
        local = self._local.get()
        return dict(self._global) if local is None else {**self._global, **local}

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
        own = self.own()
        shown = {k: own[k] for k in _KEYS}
        return f"NativeSettings({shown})"


settings = NativeSettings()
# ``current()``'s common case, for a caller that inlines it (Predict's plain call, where the method call was a tenth
# of the cost): no context override (``LOCAL_GET()`` is None), no bridge and DSPy not loaded -> ``GLOBAL`` itself.
LOCAL_GET = settings._local.get
GLOBAL = settings._global
