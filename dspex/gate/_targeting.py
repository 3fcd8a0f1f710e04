"""What a flag can evaluate to: the variants its targeting may return, and its ``fractional`` splits.

json-logic is a small language; for the gate we only need which variant *names* a rule can return. Results of
``if`` branches and ``fractional`` buckets (weight > 0) are followed; any other operator at a result position
(``var``, ``cat``, ...) computes a name at run time and is reported as dynamic, since no static check can vouch
for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcomes", "outcomes", "reachable", "fractional_nodes"]


@dataclass
class Outcomes:
    variants: set[str] = field(default_factory=set)     # names a rule may return
    dynamic: list[str] = field(default_factory=list)    # operators whose result cannot be known statically
    fractionals: list[list[Any]] = field(default_factory=list)   # raw argument lists of each fractional


def _walk(node: Any, out: Outcomes) -> None:
    if node is None or isinstance(node, bool):
        return
    if isinstance(node, str):
        out.variants.add(node)
        return
    if isinstance(node, dict) and len(node) == 1:
        op, args = next(iter(node.items()))
        args = args if isinstance(args, list) else [args]
        if op in ("if", "?:"):
            results = args[1::2] + ([args[-1]] if len(args) % 2 == 1 and len(args) > 1 else [])
            for result in results:
                _walk(result, out)
            return
        if op == "fractional":
            out.fractionals.append(args)
            for bucket in buckets(args):
                if isinstance(bucket, list) and bucket and (len(bucket) == 1 or _weight(bucket[1]) > 0):
                    _walk(bucket[0], out)
            return
        out.dynamic.append(op)
        return
    out.dynamic.append(type(node).__name__)


def _weight(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def buckets(args: list[Any]) -> list[Any]:
    """The bucket list of a ``fractional`` (its optional first argument is a bucketing expression)."""
    return args[1:] if args and not isinstance(args[0], list) else args


def outcomes(targeting: Any) -> Outcomes:
    out = Outcomes()
    if targeting:
        _walk(targeting, out)
    return out


def reachable(flag: dict[str, Any]) -> set[str]:
    """Variant names an ENABLED flag can serve: targeting results plus the default (its fallback)."""
    if flag.get("state") == "DISABLED":
        return set()
    names = set(outcomes(flag.get("targeting")).variants)
    if flag.get("defaultVariant"):
        names.add(str(flag["defaultVariant"]))
    return names


def fractional_nodes(flag: dict[str, Any]) -> list[list[Any]]:
    return outcomes(flag.get("targeting")).fractionals
