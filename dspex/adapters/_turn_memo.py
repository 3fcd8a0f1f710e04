"""Rendered history turns, remembered for the length of one agent run.

An agent sends its whole conversation again on every turn, and DSPy renders every earlier turn again each time:
a five-turn ReActV2 run renders ten turns to send five. Within one run the earlier turns cannot change (the agent
appends them and nothing else holds them), so :func:`remember_turns` lets ChatAdapter's own rendering keep each
turn's messages and hand out fresh copies of them later in the same run. Outside such a scope nothing is kept:
a user's own ``History`` is rendered afresh on each call, as DSPy does. (The one case this changes: a tool that
edits, in place, a turn of the very history its agent is running on would be seen by DSPy's next turn and not by
native's. docs/parity.md lists it under known differences.)
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

__all__ = ["remember_turns", "TURNS"]

# id(turn) -> (turn, adapter class, signature, the turn's messages); None outside an agent run
TURNS: ContextVar[dict[int, tuple[Any, type, Any, list[dict[str, Any]]]] | None] = ContextVar(
    "dspex_turn_memo", default=None
)


@contextmanager
def remember_turns() -> Iterator[None]:
    """A scope (one agent run) in which each history turn is rendered once."""
    token = TURNS.set({})
    try:
        yield
    finally:
        TURNS.reset(token)
