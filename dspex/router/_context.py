"""``dspex.request``: the evaluation context of one request, carried by a contextvar.

A contextvar (not a thread-local) so the context follows the request into asyncio tasks, which copy the
context when created, and into threads started with ``contextvars.copy_context().run`` (``asyncio.to_thread``
does this). Nested ``request`` blocks merge: the inner block's attributes win. When DSPy is loaded the request
also rides in DSPy's settings, so the workers of ``dspy.Evaluate``, ``Module.batch``, ``dspy.Parallel`` and
``asyncify`` (which copy DSPy's settings, not contextvars) see it too.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from dspex.errors import ConfigError

__all__ = ["RequestContext", "request", "current_request"]

# Names dspex fills in itself; a caller attribute of the same name would be silently overwritten, so refuse it.
RESERVED = frozenset(
    {"targetingKey", "module_type", "module_name", "signature", "native_available", "dspy_version", "dspex_version"}
)


@dataclass(frozen=True, slots=True)
class RequestContext:
    targeting_key: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    # The attributes as a hashable key, made once per request (None when a value is unhashable): sticky routing
    # decisions are kept per (targeting key, attributes), and sorting the attributes on every call cost more
    # than the lookup.
    attributes_key: tuple[tuple[str, Any], ...] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        try:
            key: tuple[tuple[str, Any], ...] | None = tuple(sorted(self.attributes.items()))
            hash(key)
        except TypeError:
            key = None
        object.__setattr__(self, "attributes_key", key)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("dspex_request", default=None)


_DSPY_KEY = "dspex_request"   # where a request also rides in DSPy's settings, when DSPy is loaded


def current_request() -> RequestContext | None:
    ctx = _current.get()
    if ctx is None and sys.modules.get("dspy") is not None:
        # A DSPy worker thread (dspy.Evaluate, Module.batch, dspy.Parallel, asyncify) gets a copy of the caller's
        # DSPy overrides but not its contextvars: the request is found there.
        overrides = sys.modules["dspy.dsp.utils.settings"].thread_local_overrides.get()
        ctx = overrides.get(_DSPY_KEY)
    return ctx


@contextlib.contextmanager
def request(targeting_key: str | None = None, **attributes: Any) -> Iterator[RequestContext]:
    """Evaluation context for the calls made inside the block (flag targeting, shadow sampling, logs).

    ``targeting_key`` makes fractional rollouts sticky for one user/tenant/session; without it every call gets a
    fresh id. Other keyword arguments become evaluation-context attributes (``tenant="acme"``, ``tier="gold"``).
    """
    clash = sorted(RESERVED.intersection(attributes))
    if clash:
        raise ConfigError(f"dspex.request(): {clash} are filled in by dspex; pass targeting_key= or use other attribute names.")
    if targeting_key is not None and not isinstance(targeting_key, str):
        raise ConfigError(f"dspex.request(targeting_key=...) must be a string, got {type(targeting_key).__name__}.")
    outer = current_request()
    if outer is not None:
        merged = {**outer.attributes, **attributes}
        key = targeting_key if targeting_key is not None else outer.targeting_key
    else:
        merged, key = dict(attributes), targeting_key
    ctx = RequestContext(key, merged)
    token = _current.set(ctx)
    try:
        with _in_dspy_settings(ctx):
            yield ctx
    finally:
        _current.reset(token)


@contextlib.contextmanager
def _in_dspy_settings(ctx: RequestContext) -> Iterator[None]:
    """Carry the request in DSPy's own overrides too, which DSPy copies into the threads it starts."""
    dspy = sys.modules.get("dspy")
    if dspy is None:
        yield
        return
    with dspy.context(**{_DSPY_KEY: ctx}):
        yield
