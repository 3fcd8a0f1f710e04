"""The other implementation of a routed module, kept in step with the module's one state.

A routed module is a module of one implementation (its *shape*, see ``_variants``). The other one is an engine:
an instance built from the same constructor arguments, whose predictors are paired with the module's by
``named_predictors()`` name. Before each call the engine takes the module's state, predictor by predictor:
demos, config, lm and signature (converted between dspy and native signatures, cached), and the attributes the
module's own code reads when it runs (ReAct's ``max_iters`` and ``tools``, BestOfN's ``N``...: ``_mirror``; what
a call spends, BestOfN's ``fail_count``, goes back onto the module: ``settle``). So whatever an optimizer, ``load``
or the user wrote on the module is what the engine runs; the engine holds no state of its own. A DSPy signature
is a class that DSPy lets a program change in place (``sig.instructions = ...``, as ``dspy.InferRules`` does; a
field's ``json_schema_extra["desc"]``): its conversion is kept with a stamp of what it read
(``dspex.signature.signature_stamp``) and made again when the class no longer matches it.

A native engine's predictors point at their DSPy twins (``_dspex_twin``): trace entries and callbacks name the
object DSPy's optimizers know. So do its other sub-modules (BestOfN's wrapped module, ReAct's extract), for whose
calls DSPy fires module callbacks too. (Attempt copies deep-copy the twins with the same memo, as DSPy's attempts
are copies of its module.)
"""

from __future__ import annotations

import logging
import operator
import threading
from typing import Any

from dspex import hooks
from dspex.errors import ConfigError
from dspex.signature import stamp_holds

from ._sigprep import native_signature, sig_stamp

__all__ = ["Engine", "native_signature", "own_attr", "sig_stamp"]

_log = logging.getLogger("dspex.router")
# ``own_attr(module, "_dspex")``: an attribute read past DSPy 3.4's ``Module.__getattribute__``, a Python function (it
# warns on a direct ``.forward`` read) that every read on a DSPy-shaped routed module pays, about 0.2 us each. The
# routed call's own reads (its routing, the module's state) take this road; a missing attribute still raises.
own_attr = object.__getattribute__


class _Pair:
    """A predictor of the module (``owner``) and the engine's at the same path; ``sig_from``: the signature the
    engine's was converted from (None: convert at the next sync)."""

    __slots__ = ("path", "owner", "engine", "sig_from", "get")

    def __init__(self, path: str, owner: Any, engine: Any) -> None:
        self.path, self.owner, self.engine, self.sig_from = path, owner, engine, None
        self.get = _getter(path)


def _getter(path: str) -> Any:
    """How to find the object at ``path`` in the module again (checked on every call: kept cheap)."""
    if path == "self":
        return lambda owner: owner
    if path.isidentifier():
        return operator.attrgetter(path)
    from dspex.native import get_by_path

    return lambda owner: get_by_path(owner, path)


class Engine:
    """``instance``: the other side's module. ``side``: ``native`` or ``dspy`` (what the instance is).
    ``candidate``: whether only shadow candidates run it (``Routing.candidate_engine``)."""

    candidate = False

    def __init__(self, instance: Any, side: str) -> None:
        self.instance = instance
        self.side = side
        self.pairs: list[_Pair] | None = None    # paired on first use
        self.turn = threading.RLock()            # held by a shadow candidate while it runs (``_shadow``)
        self.mirrors: list[Any] = []             # the attributes its sub-modules read at call time (``_mirror``)
        self.spends: list[Any] = []              # the mirrors whose call changes them (BestOfN's fail_count)
        self._status: tuple[tuple[Any, ...], tuple[Any, ...], tuple[bool, str]] | None = None

    # --- pairing -------------------------------------------------------------------------------------------
    def _pair(self, owner: Any) -> None:
        from dspex.native import Predict as NativePredict

        mine, theirs = _predictors(owner), _predictors(self.instance)
        strays = [name for name in theirs if name not in mine]
        if strays:
            raise ConfigError(
                f"{type(owner).__name__}: the {self.side} implementation has predictors {strays} that the module does "
                f"not have (it has {list(mine)}). Name them alike in both implementations, so they share demos and "
                "instructions."
            )
        unused = [name for name in mine if name not in theirs]
        if unused and self.pairs is None:
            _log.warning("dspex: %s's %s implementation does not use the predictors %s; their demos and instructions "
                         "play no part on that route.", type(owner).__name__, self.side, unused)
        self.pairs = [_Pair(path, p, theirs[path]) for path, p in mine.items() if path in theirs]
        from ._mirror import mirrors_of   # (which imports this module)

        self.mirrors = mirrors_of(owner, self.instance)
        self.spends = [m for m in self.mirrors if m.spent]
        twinned = _twin_sub_modules(owner, self.instance)
        for pair in self.pairs:
            if isinstance(pair.engine, NativePredict):
                pair.engine._dspex_twin = pair.owner
                twinned = True
        if twinned:
            # A twin is a DSPy predictor, so dspy is loaded: load the bridge now, before the engine's first call
            # reads ``hooks.bridge`` (in a fresh process that call once ran without it and left DSPy's trace empty,
            # so BootstrapFewShot lost the first example's demo).
            hooks.current()

    def _current(self, owner: Any) -> bool:
        pairs = self.pairs
        if pairs is None:
            return False
        try:
            for pair in pairs:
                if pair.get(owner) is not pair.owner:
                    return False
        except (AttributeError, LookupError, ValueError, TypeError):
            return False
        return True

    # --- taking the module's state -------------------------------------------------------------------------
    def native_status(self, owner: Any) -> tuple[bool, str]:
        """Whether every predictor's current signature (and decision fields) can run natively; cached until a
        predictor's signature or decision fields change, a DSPy signature class in place included.

        Every native call of a DSPy-shaped module asks this first (``_exec._checked``), so this is where a class
        changed in place is found, once per call (a stamp compared: under a microsecond per predictor):
        the pairs then convert their signatures again at the sync that follows. ``sync`` itself compares
        identities only.
        """
        if not self._current(owner):
            try:
                self._pair(owner)
            except ConfigError as exc:   # the module's predictors were replaced (a mock, a function): DSPy serves it
                self.pairs = None
                return False, str(exc)
        status = self._status
        if status is not None and len(status[0]) == len(self.pairs):
            for pair, sig, stamp in zip(self.pairs, status[0], status[1]):
                state = own_attr(pair.owner, "__dict__")
                if state.get("signature") is not sig or state.get("fields") or (
                        stamp is not None and not stamp_holds(sig, stamp)):
                    break
            else:
                return status[2]
        for pair in self.pairs:
            pair.sig_from = None   # converted again at the next sync (from native_signature's cache if unchanged)
        result: tuple[bool, str] = (True, "")
        sigs = tuple(p.owner.signature for p in self.pairs)
        stamps = tuple(sig_stamp(sig) for sig in sigs)   # before reading: an edit meanwhile shows next call
        for pair, sig in zip(self.pairs, sigs):
            if getattr(pair.owner, "fields", None):
                result = (False, f"predictor `{pair.path}` uses DSPy's experimental decision fields")
                break
            native, why = native_signature(sig)
            if native is None:
                result = (False, f"predictor `{pair.path}`: {why}")
                break
        if result[0]:
            self._status = (sigs, stamps, result)
        return result

    def sync(self, owner: Any) -> Any:
        """Copy the module's state onto the engine; returns the engine instance, ready to call."""
        if not self._current(owner):
            self._pair(owner)
        to_native = self.side == "native"
        for mirror in self.mirrors:   # none for Predict and ChainOfThought
            mirror.apply(owner, to_native)
        for pair in self.pairs:
            # Read the module's own attributes from its __dict__, read past DSPy's __getattribute__ (``own_attr``):
            # this runs on every native call.
            src, dst = own_attr(pair.owner, "__dict__"), pair.engine
            dst.demos = src["demos"]
            dst.config = src["config"]
            dst.lm = src["lm"] if to_native else _as_dspy_lm(src["lm"])
            sig = src["signature"]
            if pair.sig_from is not sig:   # (or ``native_status`` saw the class changed in place: None)
                dst.signature = native_signature(sig)[0] if to_native else _to_dspy_signature(sig)
                pair.sig_from = sig
        return self.instance

    def snapshot(self, owner: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, dict[str, Any]]]]:
        """What ``sync`` would copy onto the engine now, without copying it: a shadow candidate runs on a worker
        after its control, with the state the control began with (:meth:`restore`), though the program may have
        changed the module since (a signature edited in place, BestOfN's ``fail_count`` spent by the control).
        Lists the call appends to (Parallel's ``failed_examples``) are copies: the candidate's are its own."""
        if not self._current(owner):
            self._pair(owner)
        to_native = self.side == "native"
        predictors = []
        for pair in self.pairs:
            src = own_attr(pair.owner, "__dict__")
            lm, sig = src["lm"], src["signature"]
            predictors.append((pair.engine, src["demos"], src["config"], lm if to_native else _as_dspy_lm(lm),
                               native_signature(sig)[0] if to_native else _to_dspy_signature(sig)))
        return predictors, [(mirror.engine, mirror.values(owner, to_native, apart=True)) for mirror in self.mirrors]

    def restore(self, snapshot: tuple[list[tuple[Any, ...]], list[tuple[Any, dict[str, Any]]]]) -> Any:
        """Put a :meth:`snapshot` onto the engine; returns the engine instance, ready to call."""
        predictors, attributes = snapshot
        for dst, demos, config, lm, signature in predictors:
            dst.demos, dst.config, dst.lm, dst.signature = demos, config, lm, signature
        for dst, values in attributes:
            for name, value in values.items():
                setattr(dst, name, value)
        for pair in self.pairs or ():
            pair.sig_from = None   # the next sync converts the module's own again
        return self.instance

    def settle(self, owner: Any) -> None:
        """After a call: what the engine spent goes back onto the module, where DSPy's own code spends it."""
        for mirror in self.spends:
            mirror.settle(owner)


def _twin_sub_modules(owner: Any, instance: Any) -> bool:
    """Point a native engine's sub-modules that are not predictors (BestOfN's wrapped module, ReAct's extract) at
    the module's own at the same path, as its predictors are: DSPy fires module callbacks for those too."""
    from dspex.native import Module as NativeModule
    from dspex.native import Predict as NativePredict
    from dspex.native import get_by_path

    if not isinstance(instance, NativeModule):
        return False
    twinned = False
    for path, sub in instance.named_sub_modules():
        if path == "self" or isinstance(sub, NativePredict):
            continue
        try:
            theirs = get_by_path(owner, path.removeprefix("self."))
        except (AttributeError, LookupError, TypeError):
            theirs = None
        if theirs is not None and not isinstance(theirs, NativeModule):
            sub._dspex_twin = theirs
            twinned = True
    return twinned


def _predictors(module: Any) -> dict[str, Any]:
    """``named_predictors()`` of a module (of what a factory built, for a hosted one); none if it has no such API."""
    target = getattr(module, "__dict__", {}).get("_dspex_hosted", module)
    walk = getattr(target, "named_predictors", None)
    return dict(walk()) if callable(walk) else {}


def _as_dspy_lm(lm: Any) -> Any:
    from dspex.dspy_backend import as_dspy_lm

    return as_dspy_lm(lm)


def _to_dspy_signature(sig: Any) -> Any:
    from dspex.dspy_backend import dspy_signature

    return dspy_signature(sig)
