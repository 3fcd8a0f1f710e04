"""Red-team kit for agents: fixed tools with every behaviour, an independent traceback normaliser, and the
comparison of a ReAct / ReActV2 run through real DSPy 3.4.1 and through dspex.native.

Independent of ``dspex.parity`` (and of ``dspex.shadow.tracebacks``) on purpose: its own tools, its own
normaliser (one regular expression over the text, where the gate walks lines), the kit's own snapshots.
A failing tool's observation quotes a traceback; frames inside DSPy's or dspex's files are removed and a
library exception class is named ``LIB.<Name>``; the user's frames and every message stay byte for byte.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any, Literal, Optional

import dspy
import pydantic

import dspex
from diff_support import Case, Outcome, _prediction, run

DSPY_DIR = os.path.dirname(dspy.__file__)
DSPEX_DIR = os.path.dirname(dspex.__file__)
_PLAIN = re.compile(r'  File "(?P<p>[^"\n]*)", line \d+, in [^\n]*\n(?:    [^\n]*\n)*')
_ESCAPED = re.compile(r'  File \\"(?P<p>(?:[^"\\]|\\\\)*)\\", line \d+, in (?:(?!\\n).)*\\n(?:    (?:(?!\\n).)*\\n)*')
_LIB = re.compile(r"(?m)(^|\\n)(?:dspy|dspex)(?:\.\w+)*\.(\w+)(?=:)")


def _drop_library(match: re.Match[str]) -> str:
    path = match.group("p").replace("\\\\", "\\")
    return "" if path.startswith((DSPY_DIR, DSPEX_DIR)) else match.group(0)


def clean_text(text: str) -> str:
    if "Traceback" not in text:
        return text
    text = _PLAIN.sub(_drop_library, text)
    text = _ESCAPED.sub(_drop_library, text)
    return _LIB.sub(lambda m: f"{m.group(1)}LIB.{m.group(2)}", text)


def clean(value: Any) -> Any:
    """``value`` rebuilt with every string cleaned (dicts, lists, tuples, pydantic models, Predictions)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clean(v) for v in value)
    if isinstance(value, pydantic.BaseModel):
        return value.model_copy(update={name: clean(getattr(value, name)) for name in type(value).model_fields})
    if hasattr(value, "_store") and hasattr(value, "toDict"):
        return type(value)(**{k: clean(v) for k, v in value._store.items()})
    return value


def compare(case: Case) -> list[str]:
    """What differs between the two runs once tracebacks are cleaned (empty: the same)."""
    a, b = run(case, dspy), run(case, dspex.native)
    for out in (a, b):
        out.calls = [(mode, clean(msgs), kwargs) for mode, msgs, kwargs in out.calls]
        out.warnings = [clean_text(w) for w in out.warnings]
        if out.error is not None:
            out.error = (out.error[0], clean_text(out.error[1]))
        if out.raw is not None:
            out.result = _prediction(clean(out.raw))
    problems = []
    if a.error != b.error:
        problems.append(f"error: dspy={a.error!r}\n  native={b.error!r}")
    if len(a.calls) != len(b.calls):
        problems.append(f"call count: dspy={len(a.calls)} native={len(b.calls)}")
    problems += [f"call {i}: dspy={x!r}\n  native={y!r}" for i, (x, y) in enumerate(zip(a.calls, b.calls)) if x != y]
    if a.result != b.result:
        problems.append(f"result: dspy={a.result!r}\n  native={b.result!r}")
    if a.warnings != b.warnings:
        problems.append(f"warnings: dspy={a.warnings!r}\n  native={b.warnings!r}")
    return problems


# --- the tools (module level: the same functions on both sides; their state is reset per run) --------------------
class Spot(pydantic.BaseModel):
    lat: float
    lon: float = 0.0


CALLS: list[str] = []


def weather(city: str, days: int = 1) -> str:
    """Weather forecast.

    Args:
        city: where."""
    CALLS.append("weather")
    return f"{city}: sunny for {days} day(s)"


def locate(spot: Spot, label: Optional[str] = None) -> dict[str, Any]:
    CALLS.append("locate")
    return {"spot": spot, "label": label}


def crash(reason: Literal["disk", "net"]) -> None:
    """Always fails."""
    CALLS.append("crash")
    _inner(reason)


def _inner(reason: str) -> None:
    raise OSError(f"{reason} unavailable")


def numbers(n: int) -> list[int]:
    CALLS.append("numbers")
    return list(range(n))


async def slow_echo(text: str) -> str:
    CALLS.append("slow_echo")
    await asyncio.sleep(0)
    return text[::-1]


class Counter:
    """Counts calls."""

    def __call__(self, step: int = 1) -> int:
        CALLS.append("counter")
        return step * 2


TOOLS = {"weather": weather, "locate": locate, "crash": crash, "numbers": numbers, "slow_echo": slow_echo,
         "Counter": Counter()}
ARGS: dict[str, list[dict[str, Any]]] = {
    "weather": [{"city": "Oslo"}, {"city": "Köln", "days": 3}, {"city": 5}, {}, {"city": "x", "hours": 1}],
    "locate": [{"spot": {"lat": 1.5}}, {"spot": {"lat": "north"}}, {"spot": {"lat": 1, "lon": 2}, "label": "home"}],
    "crash": [{"reason": "disk"}, {"reason": "tape"}],
    "numbers": [{"n": 0}, {"n": 2}, {"n": "2"}],
    "slow_echo": [{"text": "abc"}, {"text": None}],
    "Counter": [{}, {"step": 4}, {"step": True}],
}
