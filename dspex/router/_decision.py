"""Which implementation answers one call, and why: the precedence rules as one small function.

First match wins: the call's (or constructor's) ``implementation=`` > ``module_overrides`` (instance name, then
module type) > the flag's variant > ``implementation_preference``. Then availability: native chosen but not
available goes to DSPy when allowed (always for a preference or a shadow decision, whose caller gets DSPy's
answer anyway), else :class:`~dspex.errors.NativeUnavailableError`; an open adaptive circuit sends native
decisions to DSPy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from dspex.errors import NativeUnavailableError

__all__ = ["Decision", "decide", "preference_choice", "unavailable"]


@dataclass(frozen=True, slots=True)
class Decision:
    implementation: str          # native | dspy | shadow
    reason: str
    source: str                  # call | constructor | override | flag | preference
    variant: str | None = None
    flag_key: str | None = None

    @property
    def forced(self) -> bool:
        return self.source in ("call", "constructor")


def preference_choice(preference: str, dspy_installed: bool, native_ok: bool) -> str:
    """``auto``: DSPy (the program's current behaviour) while it is installed, else native; ``native_first``:
    native where it can run, else DSPy; ``dspy_first``: always DSPy (a missing dspy is then an error naming the extra)."""
    if preference == "native_first":
        return "native" if native_ok else "dspy"
    if preference == "dspy_first":
        return "dspy"
    return "dspy" if dspy_installed else "native"


def _first_choice(
    *, forced: str | None, where: str, module_type: str, module_name: str | None, settings: Any,
    flag_key: str, evaluate: Callable[[], Any] | None,
) -> tuple[Decision | None, str]:
    if forced is not None:
        return Decision(forced, f"implementation={forced!r} given to the {where}", where), ""
    overrides = settings.module_overrides
    if overrides:
        for key in (module_name, module_type):
            if key is not None and key in overrides:
                src = settings.sources.get("module_overrides", "settings")
                return Decision(overrides[key], f"module_overrides[{key!r}]={overrides[key]!r} ({src})", "override"), ""
    if evaluate is None:
        return None, "no flag source configured"
    outcome = evaluate()
    if outcome.implementation is not None:
        return Decision(outcome.implementation, f"flag {flag_key} {outcome.why}", "flag", outcome.variant, flag_key), ""
    return None, f"flag {flag_key} {outcome.why}"


def decide(
    *, forced: str | None, where: str, module_type: str, module_name: str | None, settings: Any,
    flag_key: str, evaluate: Callable[[], Any] | None, native_status: Callable[[], tuple[bool, str]],
    dspy_installed: bool, circuit_allows: Callable[[], bool] | None = None,
) -> Decision:
    first, note = _first_choice(forced=forced, where=where, module_type=module_type, module_name=module_name,
                                settings=settings, flag_key=flag_key, evaluate=evaluate)
    if first is None:
        pref = settings.implementation_preference
        ok = native_status()[0] if pref == "native_first" else True
        impl = preference_choice(pref, dspy_installed, ok)
        first = Decision(impl, f"implementation_preference={pref!r} ({note})", "preference",
                         flag_key=flag_key if note.startswith("flag") else None)
    d = first
    if d.implementation != "dspy":
        ok, why = native_status()
        if not ok:
            return unavailable(d, why, settings, module_type, module_name)
        if d.implementation == "native" and not d.forced and circuit_allows is not None:
            verdict = circuit_allows()
            if not verdict:   # a falsy verdict may say which rule holds the circuit open
                rule = getattr(verdict, "why", None)
                opened = f"adaptive circuit open ({rule})" if rule else "adaptive circuit open"
                return replace(d, implementation="dspy", reason=f"{d.reason}; {opened} -> dspy")
    return d


def unavailable(d: Decision, why: str, settings: Any, module_type: str, module_name: str | None) -> Decision:
    """Native (or shadow) was chosen but cannot serve this call: DSPy answers with the reason, when allowed."""
    if d.source == "preference" or d.implementation == "shadow" or settings.allow_fallback:
        tail = "no shadow, dspy only" if d.implementation == "shadow" else "dspy"
        return replace(d, implementation="dspy", reason=f"{d.reason}; native unavailable ({why}) -> {tail}")
    raise NativeUnavailableError(
        f"dspex.{module_type}{f' {module_name!r}' if module_name else ''} was routed to native by "
        f"{d.reason}, but native is unavailable: {why}. Route it to 'dspy' (flag, module_overrides or "
        "implementation='dspy') or set allow_fallback=True."
    )
