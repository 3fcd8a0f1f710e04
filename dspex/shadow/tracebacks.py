"""Comparing agent observations that quote a traceback: library frames out, the rest byte for byte.

DSPy's agents show the LM a failing tool's traceback (``Execution error in <tool>: ...``, five frames deep).
The frames inside DSPy's own files (or dspex's) name files and lines that differ between the two
implementations and between installations, so they are dropped before comparing; the user's own frames,
third-party frames (jsonschema, pydantic), the exception lines and the chain between them are kept. An
exception class defined in ``dspy.*`` or ``dspex.*`` is compared by its name (``<library>.Name``), as the
parity contract compares raised errors. Native agents keep DSPy's frame depth, so the frames kept are the
same frames on both sides (see ``dspex/types/_tool.py``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["library_roots", "strip_library_frames", "normalize_value"]

_FRAME = re.compile(r'^  File "(?P<path>[^"]*)", line \d+, in .*$', re.S)
# The same traceback inside a JSON string (a tool result in ReActV2's prompt): "\n" and '\"' escaped.
_FRAME_ESCAPED = re.compile(r'^  File \\"(?P<path>(?:[^"\\]|\\\\)*)\\", line \d+, in .*$', re.S)
_LIB_EXC = re.compile(r"^(?:dspy|dspex)(?:\.[A-Za-z_]\w*)*\.(?P<name>[A-Za-z_]\w*)(?P<rest>:.*|)$", re.S)
_roots: tuple[str, ...] | None = None


def library_roots() -> tuple[str, ...]:
    """The dspex package folder, and DSPy's when it is installed (found without importing it)."""
    global _roots
    if _roots is None:
        import importlib.util

        roots = [str(Path(__file__).resolve().parents[1])]
        spec = importlib.util.find_spec("dspy")
        if spec is not None and spec.submodule_search_locations:
            roots.extend(str(Path(p).resolve()) for p in spec.submodule_search_locations)
        _roots = tuple(r.rstrip("/") + "/" for r in roots)
    return _roots


def _is_library(path: str, roots: tuple[str, ...]) -> bool:
    if path.startswith(roots):
        return True
    if not path.startswith("/"):
        return False  # "<string>" and friends: code compiled from text, never a library file
    try:
        return str(Path(path).resolve()).startswith(roots)
    except (OSError, ValueError):
        return False


def _strip(text: str, newline: str, frame_re: re.Pattern[str], unescape: bool) -> str:
    roots = library_roots()
    out: list[str] = []
    skipping = False
    for line in text.split(newline):
        frame = frame_re.match(line)
        if frame is not None:
            path = frame.group("path").replace("\\\\", "\\") if unescape else frame.group("path")
            skipping = _is_library(path, roots)
            if not skipping:
                out.append(line)
            continue
        if skipping and line.startswith("    "):
            continue  # the skipped frame's source line and its ^^^ markers
        skipping = False
        lib = _LIB_EXC.match(line)
        out.append(f"<library>.{lib.group('name')}{lib.group('rest')}" if lib is not None else line)
    return newline.join(out)


def strip_library_frames(text: str) -> str:
    """``text`` with every traceback frame in a dspy/dspex file removed and library exception names shortened,
    in plain text and inside JSON strings (where line breaks and quotes are escaped)."""
    if "Traceback (most recent call last):" not in text:
        return text
    if "Traceback (most recent call last):\n" in text:
        text = _strip(text, "\n", _FRAME, False)
    if "Traceback (most recent call last):\\n" in text:
        text = _strip(text, "\\n", _FRAME_ESCAPED, True)
    return text


def normalize_value(value: Any) -> Any:
    """``strip_library_frames`` applied to every string inside ``value`` (dicts, lists and tuples rebuilt)."""
    if type(value) is str:
        return strip_library_frames(value)
    if type(value) is dict:
        return {k: normalize_value(v) for k, v in value.items()}
    if type(value) is list:
        return [normalize_value(v) for v in value]
    if type(value) is tuple:
        return tuple(normalize_value(v) for v in value)
    return value
