"""The seam DSPy's side plugs into once a program has loaded DSPy.

Native code never imports dspy. But a native module running inside a DSPy program must behave as a DSPy citizen:
honour ``dspy.configure`` / ``dspy.context`` (lm, adapter), feed DSPy's trace, history, usage and callbacks, and
call a ``dspy.LM`` exactly as DSPy's own adapter does. That work lives in :mod:`dspex.dspy_backend`; this module
only holds the installed bridge. Until ``dspy`` is in ``sys.modules`` the bridge is never loaded, and a native call
pays one global read and one dict lookup for the whole seam.
"""

from __future__ import annotations

import contextvars
import importlib
import sys
from typing import Any, Protocol

__all__ = ["Bridge", "bridge", "history_sink", "lm_history", "current", "install", "uninstall", "native_root"]

_BRIDGE_MODULE = "dspex.dspy_backend"   # loaded by name, and only once dspy itself is already imported


class Bridge(Protocol):
    """What native code asks of DSPy's side. Every method has a plain fallback when no bridge is installed."""

    def settings(self, base: dict[str, Any], local: dict[str, Any] | None) -> dict[str, Any]:
        """Native defaults (``lm``, ``adapter``, ``warn_on_type_mismatch``, ``plain``) as DSPy's settings see them."""

    def plans_capabilities(self, lm: Any) -> bool:
        """Whether ``lm`` reads its capabilities through DSPy's planner (a ``dspy.LM``), so that an adapter call
        must run inside :meth:`capability_scope` / :meth:`acapability_scope` to see what DSPy's adapter sees."""

    def capability_scope(self, lm: Any, lm_kwargs: dict[str, Any]) -> Any:
        """DSPy's capability planning scope for one adapter call (a context manager)."""

    def acapability_scope(self, lm: Any, lm_kwargs: dict[str, Any]) -> Any:
        """The async twin of :meth:`capability_scope` (an async context manager)."""

    def call_lm(self, lm: Any, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> Any:
        """``lm(messages=..., **kwargs)``, the way DSPy's adapter calls it."""

    async def acall_lm(self, lm: Any, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> Any:
        """The async twin of :meth:`call_lm`."""

    def run_predict(self, predictor: Any, kwargs: dict[str, Any], run: Any) -> Any:
        """Run one call of a routed module's native predictor, keeping DSPy's books for its DSPy twin."""

    async def arun_predict(self, predictor: Any, kwargs: dict[str, Any], run: Any) -> Any:
        """The async twin of :meth:`run_predict`."""

    def run_module(self, module: Any, args: tuple, kwargs: dict[str, Any], forward: Any) -> Any:
        """Run one call of a native engine's sub-module (not a predictor), keeping DSPy's books for its twin."""

    async def arun_module(self, module: Any, args: tuple, kwargs: dict[str, Any], forward: Any) -> Any:
        """The async twin of :meth:`run_module`."""

    def adapter_events(self) -> bool:
        """Whether format and parse must be reported to DSPy's callbacks now."""

    def format(self, adapter: Any, signature: Any, demos: Any, inputs: Any) -> Any:
        """``adapter.format(...)`` with DSPy's adapter callbacks around it."""

    def parse(self, adapter: Any, signature: Any, completion: Any) -> Any:
        """``adapter.parse(...)`` with DSPy's adapter callbacks around it."""

    # Optional (native code looks them up with getattr): BestOfN / Refine attempts in DSPy's trace.
    def trace_scope(self) -> Any:
        """A context manager yielding DSPy's fresh trace list for one attempt (None outside a routed call)."""

    def extend_trace(self, entries: list[Any]) -> None:
        """The best attempt's entries join the caller's DSPy trace."""

    def twin_predictor(self, native_signature: Any) -> Any:
        """A DSPy predictor standing for a native one no DSPy module holds (None outside a routed call)."""

    # Optional: Parallel's worker rule for DSPy's settings (a worker's own copy of the usage tracker).
    def parallel_worker(self) -> None:
        """Called in each Parallel worker's context before its item runs."""

    # Optional: Parallel's defaults, which DSPy's reads from its settings (and Tool's async-to-sync conversion).
    def setting(self, name: str) -> Any:
        """``dspy.settings.<name>`` as this thread / task sees it (``num_threads``, ``max_errors``...)."""

    # Optional: DSPy's tool callbacks for a native agent's tool calls.
    def agent_tools(self, agent: Any) -> Any:
        """What ``agent``'s run calls its tools through: ``agent.tools``, or (inside a routed module's native call)
        a view of them whose calls fire DSPy's ``on_tool_start`` / ``on_tool_end`` as ``dspy.Tool`` does."""


bridge: Bridge | None = None
# Where an LM records its history entry for the calling native modules when no bridge is installed (set by
# dspex.native on import: the modules' own ``history``, as DSPy's ``caller_modules`` would fill it), and whether
# an LM that records history (a dspex.LM) exists in this process: only then do native calls keep their chain of
# calling modules (a plain callable LM records nothing, so its calls pay nothing for it).
history_sink: Any = None
lm_history = False

# ``(module, run, traced)`` while a routed module runs natively inside DSPy's own ``Module.__call__``: its
# ``forward`` then calls ``run`` (the native engine) instead of DSPy's forward, and the bridge keeps DSPy's books
# for it (``traced``: the predictions it put in DSPy's trace, by id, with each entry's DSPy Prediction).
native_root: contextvars.ContextVar[tuple[Any, Any, dict[int, Any]] | None] = contextvars.ContextVar(
    "dspex_native_root", default=None)


def current() -> Bridge | None:
    """The installed bridge; loads it the first time it is asked for after dspy was imported."""
    if bridge is not None:
        return bridge
    if sys.modules.get("dspy") is not None:
        importlib.import_module(_BRIDGE_MODULE).install_bridge()
    return bridge


def install(new: Bridge) -> None:
    global bridge
    bridge = new


def uninstall() -> None:
    """Forget the bridge (tests that simulate a process without DSPy)."""
    global bridge
    bridge = None
