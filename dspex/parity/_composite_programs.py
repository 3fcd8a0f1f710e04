"""What the composite cases wrap and score: inner modules, a user program compiled per library, reward functions.

Refine shows the LM ``inspect.getsource`` of the wrapped module's class and of the reward function, so both must
have real source: the rewards are module-level functions and callable classes of this file (the same objects on
both sides), and the user program is one source text compiled once per library (``Module``, ``Predict`` and
``ChainOfThought`` bound to DSPy's or native's classes) under a file name registered in ``linecache``, so
``inspect`` reads the same text for both.
"""

from __future__ import annotations

import linecache
import math
import sys
import types
from typing import Any

__all__ = ["REWARDS", "make_reward", "build_inner", "INNER_KINDS", "PROGRAM_SOURCE"]

INNER_KINDS = ("predict", "cot", "program")

PROGRAM_SOURCE = '''class DraftAndPolish(Module):
    """Draft an answer with reasoning, then answer again."""

    def __init__(self, signature):
        super().__init__()
        self.draft = ChainOfThought(signature)
        self.polish = Predict(signature)

    def forward(self, **kwargs):
        self.draft(**kwargs)
        return self.polish(**kwargs)
'''
_PROGRAM_FILE = "<dspex-parity-programs>"
_programs: dict[str, Any] = {}


def _program_class(side: str, lib: Any) -> Any:
    """``DraftAndPolish`` compiled for one library (once), with source ``inspect`` can find."""
    cls = _programs.get(side)
    if cls is None:
        linecache.cache[_PROGRAM_FILE] = (len(PROGRAM_SOURCE), None, PROGRAM_SOURCE.splitlines(True), _PROGRAM_FILE)
        name = f"dspex_parity_programs_{side}"
        module = types.ModuleType(name)
        module.__file__ = _PROGRAM_FILE
        module.__dict__.update(Module=lib.Module, Predict=lib.Predict, ChainOfThought=lib.ChainOfThought)
        sys.modules[name] = module
        exec(compile(PROGRAM_SOURCE, _PROGRAM_FILE, "exec"), module.__dict__)  # noqa: S102 - a fixed text
        cls = _programs[side] = module.DraftAndPolish
    return cls


def build_inner(kind: str, side: str, lib: Any, signature: Any) -> Any:
    if kind == "predict":
        return lib.Predict(signature)
    if kind == "cot":
        return lib.ChainOfThought(signature)
    return _program_class(side, lib)(signature)


# --- rewards ------------------------------------------------------------------------------------------------------
def _last(pred: Any) -> Any:
    return pred[list(pred.keys())[-1]]


def length_reward(args, pred):
    return float(len(str(_last(pred))))


def digit_reward(args, pred):
    text = str(_last(pred))
    if not text:
        raise ValueError(f"empty answer for «{sorted(args)}»")
    return sum(ch.isdigit() for ch in text)


def mutating_reward(args, pred):
    args["attempts_seen"] = args.get("attempts_seen", 0) + 1
    return 0.5


def none_reward(args, pred):
    return None if len(str(_last(pred))) % 2 else 1.0


constant_reward = lambda args, pred: 0.25  # noqa: E731 - a lambda's source is its line: Refine shows it


class ScoreTable:
    """Scores in call order (a callable object: Refine shows its class's source)."""

    def __init__(self, scores):
        self.scores = list(scores)
        self.calls = 0

    def __call__(self, args, pred):
        score = self.scores[self.calls % len(self.scores)]
        self.calls += 1
        if score == "raise":
            raise RuntimeError(f"reward table entry {self.calls} raises")
        return score


REWARDS = ("length", "digits", "mutating", "none", "constant", "table")
_FUNCTIONS = {"length": length_reward, "digits": digit_reward, "mutating": mutating_reward, "none": none_reward,
              "constant": constant_reward}


def make_reward(kind: str, table: tuple[Any, ...] = ()) -> Any:
    """A fresh reward per side (a ScoreTable counts its calls)."""
    if kind == "table":
        return ScoreTable([math.nan if s == "nan" else s for s in table] or [0.0])
    return _FUNCTIONS[kind]


# --- majority's normalize= ------------------------------------------------------------------------------------------
def _first_word_or_none(value):
    words = str(value).split()
    return words[0].lower() if words else None


class CountingNormalize:
    """An impure ``normalize`` (a fresh one per side): each answer carries the call's number. DSPy normalises every
    completion once to vote and again to find the winner's completion, and with this one the second pass never
    meets the winner, so a native that reused the first pass's values would pick another completion."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, value):
        self.calls += 1
        return (str(value).lower(), self.calls)


NORMALIZERS = {None: None, "identity": lambda value: value, "first_word": _first_word_or_none,
               "always_none": lambda value: None, "counting": CountingNormalize}
FRESH_NORMALIZERS = frozenset({"counting"})   # classes: one instance per side and call
