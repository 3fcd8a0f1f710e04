"""The attributes a module's own code reads when it runs, carried from a routed module onto its engine each call.

Predictor state (demos, config, lm, signature) is carried by the engine's pairs (``_engine``). DSPy's modules also
read attributes of their own at call time, and a program or an optimizer may set any of them after construction:
DSPy then uses the new value at the next call. So the engine takes them from the module before each call, for
every sub-module of the engine (the module itself, BestOfN's wrapped module, ...) from the module's sub-module at
the same path. What DSPy 3.4.1's ``__init__`` sets and its ``forward`` reads:

* ``ReAct`` / ``ReActV2``: ``max_iters`` and ``tools`` (a dict: a tool replaced or added in place counts);
  ReActV2 reads its ``signature`` too (the inputs it passes on, the outputs ``submit`` returns). ReAct's
  ``signature`` is read only by its constructor, and so not carried.
* ``MultiChainComparison``: ``M`` (checked against the completions) and ``last_key`` (the answer shown).
* ``BestOfN`` / ``Refine``: ``N``, ``threshold``, ``reward_fn`` and ``fail_count``, which a failed attempt spends
  on the module itself: the engine's count is written back after the call (``settle``). Refine's feedback
  prompt shows ``module_code`` and ``reward_fn_code``. (Their ``module`` is followed by ``_wrapping``.)
* ``Parallel``: its settings, and the ``failed_examples`` / ``exceptions`` lists it appends to across calls and
  returns (shared with the engine, so they are the module's own).

Tools and signatures are converted for the engine's side (a ``dspy.Tool`` becomes a native ``Tool``, a DSPy
signature a native one), each once: a tool the engine's constructor built from the same function is kept, and so
is the engine's own ``finish`` / ``submit`` tool (each side's constructor makes its own from the signature) while
the module's is the one its constructor made.
"""

from __future__ import annotations

from typing import Any

from dspex.errors import ConfigError
from dspex.signature import stamp_holds

from ._engine import _getter, native_signature, own_attr, sig_stamp

__all__ = ["Mirror", "mirrors_of"]

_SAME, _TOOLS, _SIGNATURE, _GROWS = "same", "tools", "signature", "grows"   # _GROWS: a list the call appends to
_ABSENT = object()

_WRAPPER = (("N", _SAME), ("threshold", _SAME), ("reward_fn", _SAME), ("fail_count", _SAME))
ATTRIBUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "ReAct": (("max_iters", _SAME), ("tools", _TOOLS)),
    "ReActV2": (("max_iters", _SAME), ("tools", _TOOLS), ("signature", _SIGNATURE)),
    "MultiChainComparison": (("M", _SAME), ("last_key", _SAME)),
    "BestOfN": _WRAPPER,
    "Refine": (*_WRAPPER, ("module_code", _SAME), ("reward_fn_code", _SAME)),
    "Parallel": (*((name, _SAME) for name in (
        "num_threads", "max_errors", "access_examples", "return_failed_examples", "provide_traceback",
        "disable_progress_bar", "timeout", "straggler_limit", "error_count", "error_lock", "cancel_jobs")),
        ("failed_examples", _GROWS), ("exceptions", _GROWS)),
}
SPENT = {"BestOfN": ("fail_count",), "Refine": ("fail_count",)}   # changed by the call itself: written back
OWN_TOOL = {"ReAct": "finish", "ReActV2": "submit"}


def _kind(cls: type) -> str | None:
    """The built-in module class ``cls`` is (or derives from), by name, on either side."""
    for c in cls.__mro__:
        if c.__name__ in ATTRIBUTES and c.__module__.startswith(("dspex.native", "dspy.")):
            return c.__name__
    return None


def mirrors_of(owner: Any, instance: Any) -> list["Mirror"]:
    """A mirror for each sub-module of the engine ``instance`` (itself included) whose class reads attributes of
    its own, paired with the module ``owner``'s sub-module at the same path."""
    walk = getattr(instance, "named_sub_modules", None)
    subs = list(walk()) if callable(walk) else [("self", instance)]   # Parallel is no module: only itself
    found = []
    for path, sub in subs:
        kind = _kind(type(sub))
        if kind is not None:
            found.append(Mirror("self" if path == "self" else path.removeprefix("self."), sub, kind, owner))
    return found


def _convert_tool(tool: Any, to_native: bool) -> Any:
    """A tool for the engine's side; a plain callable stays one (DSPy's agents call ``tools[name](**args)``)."""
    if to_native:
        from dspex.types import Tool, as_tool, is_tool_like

        return as_tool(tool) if isinstance(tool, Tool) or is_tool_like(tool) else tool
    from dspex.dspy_backend import to_dspy_tool

    return to_dspy_tool(tool)


class Mirror:
    """One engine sub-module (``engine``) and the path of the module's (``path``); ``attrs``: (name, how)."""

    __slots__ = ("path", "get", "engine", "attrs", "spent", "_tools", "_sig")

    def __init__(self, path: str, engine: Any, kind: str, owner: Any) -> None:
        self.path, self.get, self.engine = path, _getter(path), engine
        self.attrs, self.spent = ATTRIBUTES[kind], SPENT.get(kind, ())
        self._sig: tuple[Any, Any, Any] | None = None     # (the module's signature, its stamp, the engine's)
        # The engine's constructor built its tools from the same arguments as the module's: a tool wrapping the
        # same function is the same tool (the module's may be a dspy.Tool, the engine's a native one); so is the
        # module's own finish / submit tool, made by each side's constructor from the signature.
        self._tools: tuple[list[Any], dict[str, Any], dict[int, tuple[Any, Any]]] | None = None
        mine = getattr(engine, "tools", None) if any(how is _TOOLS for _, how in self.attrs) else None
        try:
            theirs = own_attr(self.get(owner), "__dict__").get("tools")
        except (AttributeError, LookupError, TypeError, ValueError):
            theirs = None
        if isinstance(theirs, dict) and isinstance(mine, dict):
            own = OWN_TOOL[kind]
            known = {id(t): (t, mine[n]) for n, t in theirs.items() if n in mine and (
                n == own or getattr(t, "func", t) is getattr(mine[n], "func", mine[n]))}
            self._tools = ([], {}, known)

    def values(self, owner: Any, to_native: bool, apart: bool = False) -> dict[str, Any]:
        """The module's attributes at ``path``, each as the engine's side takes it (missing ones left out); the
        lists a call appends to are the module's own, or copies when ``apart`` (a shadow candidate's)."""
        try:
            src = own_attr(self.get(owner), "__dict__")
        except (AttributeError, LookupError, TypeError, ValueError):
            return {}
        found = {}
        for name, how in self.attrs:
            value = src.get(name, _ABSENT)
            if value is _ABSENT:
                continue
            if how is _TOOLS:
                value = self._tools_for(value, to_native)
            elif how is _SIGNATURE:
                value = self._signature_for(value, to_native)
            elif how is _GROWS and apart and type(value) is list:
                value = list(value)
            found[name] = value
        return found

    def apply(self, owner: Any, to_native: bool) -> None:
        """Set the engine's attributes from the module's."""
        dst = self.engine
        for name, value in self.values(owner, to_native).items():
            setattr(dst, name, value)

    def settle(self, owner: Any) -> None:
        """Write what the call spent (BestOfN's ``fail_count``) back onto the module, where DSPy spends it."""
        target = self.get(owner)
        for name in self.spent:
            setattr(target, name, getattr(self.engine, name))

    # --- conversions, each made once ----------------------------------------------------------------------
    def _tools_for(self, tools: Any, to_native: bool) -> Any:
        if type(tools) is not dict:
            return tools
        items = list(tools.items())
        seen = self._tools
        if seen is not None and seen[0] == items:
            return seen[1]
        known = {} if seen is None else seen[2]
        made: dict[str, Any] = {}
        kept: dict[int, tuple[Any, Any]] = {}
        for name, tool in items:
            hit = known.get(id(tool))
            converted = hit[1] if hit is not None and hit[0] is tool else _convert_tool(tool, to_native)
            kept[id(tool)] = (tool, converted)
            made[name] = converted
        self._tools = (items, made, kept)
        return made

    def _signature_for(self, sig: Any, to_native: bool) -> Any:
        seen = self._sig
        if seen is not None and seen[0] is sig and (seen[1] is None or stamp_holds(sig, seen[1])):
            return seen[2]
        stamp = sig_stamp(sig)
        if to_native:
            converted, why = native_signature(sig)
            if converted is None:
                raise ConfigError(f"dspex: the module's signature at `{self.path}` cannot run natively: {why}")
        else:
            from dspex.dspy_backend import dspy_signature

            converted = dspy_signature(sig)
        self._sig = (sig, stamp, converted)
        return converted
