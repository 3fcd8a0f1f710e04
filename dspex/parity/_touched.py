"""Which module types a change touches, so CI proves them at full strength.

CI splits its gate budget (``DSPEX_PARITY_BUDGET``): the signature/adapter core every module stands on runs at
the full count, each module built on it at a lighter one. A change to one of those modules' own code (or to its
cases) should meet the full count, though: ``.ci/run`` lists the changed files, and the module types they belong
to (below) are proven at ``--examples`` whatever the split says. A file not listed here is either core (already
at full strength) or not native code.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Iterable

__all__ = ["OWNERS", "touched_modules", "owners_of", "at_full_strength"]

_AGENTS = ("react", "react_v2")
_COMPOSITES = ("multi_chain_comparison", "best_of_n", "refine", "parallel", "majority")
_ADAPTERS = ("xml_adapter", "two_step_adapter", "json_adapter")

#: file (or file-name prefix, ending in ``*``) under ``dspex/`` -> the module types whose own code it is
OWNERS: dict[str, tuple[str, ...]] = {
    "native/chain_of_thought.py": ("chain_of_thought",),
    "native/react.py": ("react",), "native/_agent_support.py": _AGENTS,
    "native/react_v2.py": ("react_v2",), "native/_react_v2_support.py": ("react_v2",),
    "adapters/_history.py": ("react_v2",), "adapters/_turn_memo.py": ("react_v2",),
    "native/multi_chain_comparison.py": ("multi_chain_comparison",),
    "native/best_of_n.py": ("best_of_n",), "native/_rollouts.py": ("best_of_n", "refine"),
    "native/refine.py": ("refine",), "native/_feedback.py": ("refine",),
    "native/parallel.py": ("parallel",), "native/_executor.py": ("parallel",), "native/_batch.py": ("parallel",),
    "native/aggregation.py": ("majority",),
    "adapters/xml_adapter.py": ("xml_adapter",), "adapters/_xml.py": ("xml_adapter",),
    "adapters/two_step.py": ("two_step_adapter",),
    "adapters/json_adapter.py": ("json_adapter",), "adapters/_schema.py": ("json_adapter",),
    "parity/_agent*": _AGENTS, "parity/_composite*": _COMPOSITES, "parity/_adapter*": _ADAPTERS,
}


def owners_of(path: str) -> tuple[str, ...]:
    """The module types ``path`` (relative to the repository, e.g. ``dspex/native/refine.py``) belongs to."""
    parts = PurePosixPath(path).parts
    if len(parts) < 2 or parts[0] != "dspex":
        return ()
    inner = "/".join(parts[1:])
    for pattern, owners in OWNERS.items():
        if inner == pattern or (pattern.endswith("*") and inner.startswith(pattern[:-1])):
            return owners
    return ()


def touched_modules(paths: Iterable[str]) -> list[str]:
    """The module types the changed ``paths`` belong to, sorted, each once."""
    return sorted({owner for path in paths for owner in owners_of(path.strip())})


def at_full_strength(budget: str, modules: Iterable[str]) -> str:
    """``budget`` (``DSPEX_PARITY_BUDGET``'s ``"react=300,refine=300"``) without the entries of ``modules``, which
    then get the run's ``--examples``."""
    from .runner import module_budgets   # the one parser of the budget text (and its error for a bad one)

    drop = set(modules)
    return ",".join(f"{name}={count}" for name, count in module_budgets(0, budget).items() if name not in drop)


def main(argv: list[str]) -> int:
    """``python -m dspex.parity._touched BUDGET < changed-paths``: print the budget with the touched module types
    taken out, and (to stderr) which they are."""
    import sys

    modules = touched_modules(sys.stdin.read().split())
    if modules:
        print(f"proven at full strength (touched by this change): {', '.join(modules)}", file=sys.stderr)
    print(at_full_strength(argv[0] if argv else "", modules))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
