"""The source text ``Refine`` shows the LM for a module's class: what DSPy's ``inspect.getsource`` would show.

DSPy's Refine puts ``inspect.getsource(module.__class__)`` into its feedback prompt. A native built-in module
stands where DSPy's class of the same name would stand, so its source is DSPy's: read from the installed DSPy
package's file (located with ``importlib.util.find_spec("dspy")``, which finds a top-level package without
importing it) and cut out as ``inspect`` cuts a class (``ast`` finds the ``class`` line, ``inspect.getblock``
the block). Any other class (a user's module) is its own source. Without DSPy installed a built-in falls back to
its own source.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import linecache
import os
from typing import Any

__all__ = ["class_source", "module_source", "DSPY_SOURCES"]

# native class (module, qualname) -> (file under the dspy package, class name there)
DSPY_SOURCES: dict[tuple[str, str], tuple[str, str]] = {
    ("dspex.native.predict", "Predict"): ("predict/predict.py", "Predict"),
    ("dspex.native.chain_of_thought", "ChainOfThought"): ("predict/chain_of_thought.py", "ChainOfThought"),
    ("dspex.native.react", "ReAct"): ("predict/react.py", "ReAct"),
    ("dspex.native.react_v2", "ReActV2"): ("predict/react_v2.py", "ReActV2"),
    ("dspex.native.multi_chain_comparison", "MultiChainComparison"): (
        "predict/multi_chain_comparison.py", "MultiChainComparison"),
    ("dspex.native.best_of_n", "BestOfN"): ("predict/best_of_n.py", "BestOfN"),
    ("dspex.native.refine", "Refine"): ("predict/refine.py", "Refine"),
    ("dspex.native.parallel", "Parallel"): ("predict/parallel.py", "Parallel"),
}


def _dspy_dir() -> str | None:
    try:
        spec = importlib.util.find_spec("dspy")
    except (ImportError, ValueError):
        return None
    locations = getattr(spec, "submodule_search_locations", None) if spec is not None else None
    return list(locations)[0] if locations else None


def _cut(path: str, qualname: str) -> str | None:
    """``inspect.getsource`` of class ``qualname`` defined in ``path`` (decorators included, as inspect does)."""
    lines = linecache.getlines(path)
    if not lines:
        return None
    tree = ast.parse("".join(lines))
    body: list[Any] = tree.body
    node = None
    for part in qualname.split("."):
        node = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if node is None:
            return None
        body = node.body
    assert node is not None
    first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
    return "".join(inspect.getblock(lines[first - 1:]))


def module_source(module: Any) -> str:
    """The source Refine shows for ``module``: a routed module's native engine names the class DSPy sees
    (``_dspex_source``, set by the router), else :func:`class_source` of its own class."""
    shown = getattr(module, "_dspex_source", None)
    return inspect.getsource(shown) if isinstance(shown, type) else class_source(module.__class__)


def class_source(cls: type) -> str:
    """``inspect.getsource(cls)``, or DSPy's class's source for a native built-in (see the module docstring)."""
    mapped = DSPY_SOURCES.get((cls.__module__, cls.__qualname__))
    if mapped is not None:
        root = _dspy_dir()
        if root is not None:
            text = _cut(os.path.join(root, *mapped[0].split("/")), mapped[1])
            if text is not None:
                return text
    return inspect.getsource(cls)
