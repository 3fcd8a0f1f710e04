"""Walking a program's attributes by path: DSPy's ``named_sub_modules`` order and ``magicattr``-style set."""

from __future__ import annotations

import re
from collections import deque
from typing import Any, Iterator

__all__ = ["sub_modules", "get_by_path", "set_by_path"]

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]|\['([^']*)'\]|\[([^\]]*)\]")


def sub_modules(root: Any, type_: type, skip_compiled: bool) -> Iterator[tuple[str, Any]]:
    """Breadth first from ``root`` (named ``self``); each object once, under the first path that reaches it."""
    from ._module import Module

    queue: deque[tuple[str, Any]] = deque([("self", root)])
    seen = {id(root)}

    def add(name: str, item: Any) -> None:
        if id(item) not in seen:
            seen.add(id(item))
            queue.append((name, item))

    while queue:
        name, item = queue.popleft()
        if isinstance(item, type_):
            yield name, item
        if isinstance(item, Module):
            if skip_compiled and getattr(item, "_compiled", False):
                continue
            for sub_name, sub_item in item.__dict__.items():
                add(f"{name}.{sub_name}", sub_item)
        elif isinstance(item, (list, tuple)):
            for i, sub_item in enumerate(item):
                add(f"{name}[{i}]", sub_item)
        elif isinstance(item, dict):
            for key, sub_item in item.items():
                add(f"{name}[{key}]", sub_item)


def _steps(path: str) -> list[tuple[str, Any]]:
    """``"a.b[0]['k']"`` -> ``[("attr", "a"), ("attr", "b"), ("item", 0), ("item", "k")]``."""
    text = "." + path if not path.startswith((".", "[")) else path
    steps: list[tuple[str, Any]] = []
    pos = 0
    for m in _STEP.finditer(text):
        if m.start() != pos:
            raise ValueError(f"Cannot read the attribute path {path!r}.")
        attr, index, key, other = m.groups()
        if attr is not None:
            steps.append(("attr", attr))
        elif index is not None:
            steps.append(("item", int(index)))
        else:
            steps.append(("item", key if key is not None else other))
        pos = m.end()
    if pos != len(text):
        raise ValueError(f"Cannot read the attribute path {path!r}.")
    return steps


def get_by_path(obj: Any, path: str) -> Any:
    """The object a ``named_predictors`` name points at (``"self"`` is ``obj`` itself)."""
    if path == "self":
        return obj
    for kind, key in _steps(path):
        obj = getattr(obj, key) if kind == "attr" else obj[key]
    return obj


def set_by_path(obj: Any, path: str, value: Any) -> None:
    steps = _steps(path)
    for kind, key in steps[:-1]:
        obj = getattr(obj, key) if kind == "attr" else obj[key]
    kind, key = steps[-1]
    if kind == "attr":
        setattr(obj, key, value)
    else:
        obj[key] = value
