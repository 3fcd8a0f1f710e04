"""Edit one member of a JSON document in place, leaving every other byte of the file as it was.

Flag files live in git and are reviewed as diffs; re-dumping the whole file would reorder or reformat flags
nobody touched. :func:`member_span` finds the text of ``doc[k1][k2]...`` with the standard library's own
scanner (``JSONDecoder.raw_decode`` from an offset), and :func:`replace_member` splices a re-serialised value
there, indented like its surroundings and with the file's own line ending (CRLF stays CRLF).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["member_span", "replace_member", "insert_member", "indent_unit", "newline"]

_WS = re.compile(r"\s*")
_decoder = json.JSONDecoder()


def _skip(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]


def _members(text: str, start: int) -> list[tuple[str, int, int, int]]:
    """``(key, key_start, value_start, value_end)`` for each member of the object starting at ``start``."""
    if text[start] != "{":
        raise ValueError("not a JSON object")
    out = []
    pos = _skip(text, start + 1)
    if text[pos] == "}":
        return out
    while True:
        key, key_end = _decoder.raw_decode(text, pos)
        colon = _skip(text, key_end)
        value_start = _skip(text, colon + 1)
        _, value_end = _decoder.raw_decode(text, value_start)
        out.append((key, pos, value_start, value_end))
        pos = _skip(text, value_end)
        if text[pos] == "}":
            return out
        pos = _skip(text, pos + 1)   # the comma


def member_span(text: str, path: list[str]) -> tuple[int, int, int]:
    """``(key_start, value_start, value_end)`` of ``doc[path[0]][path[1]]...`` in ``text`` (``[]``: the document)."""
    start = _skip(text, 0)
    key_start, value_end = -1, (_decoder.raw_decode(text, start)[1] if not path else -1)   # []: the document
    for key in path:
        match = next((m for m in _members(text, start) if m[0] == key), None)
        if match is None:
            raise KeyError(key)
        _, key_start, start, value_end = match
    return key_start, start, value_end


def newline(text: str) -> str:
    """The file's line ending: ``\\r\\n`` when it uses CRLF (a Windows editor, ``eol=crlf``), else ``\\n``."""
    return "\r\n" if "\r\n" in text else "\n"


def indent_unit(text: str) -> str | None:
    """The file's indentation step (from its first indented line); None for single-line JSON."""
    match = re.search(r"\n([ \t]+)\S", text)
    return match.group(1) if match else None


def replace_member(text: str, path: list[str], value: Any) -> str:
    """``text`` with ``doc[path...]`` replaced by ``value``, serialised in the file's style; all else unchanged."""
    key_start, value_start, value_end = member_span(text, path)
    unit = indent_unit(text)
    if unit is None:
        dumped = json.dumps(value, ensure_ascii=False)
    else:
        line_start = text.rfind("\n", 0, key_start) + 1
        base = text[line_start:key_start]
        width = len(unit) if unit.strip(" ") == "" else unit
        dumped = json.dumps(value, indent=width, ensure_ascii=False).replace("\n", newline(text) + base)
    return text[:value_start] + dumped + text[value_end:]


def insert_member(text: str, path: list[str], key: str, value: Any) -> str:
    """``text`` with ``key: value`` appended to the object at ``path`` (its last member's indentation)."""
    _, start, end = member_span(text, path)
    members = _members(text, start)
    close = end - 1                                   # the object's closing brace
    unit = indent_unit(text)
    if not members or unit is None:
        sep = ", " if members else ""
        body = json.dumps({key: value}, ensure_ascii=False)[1:-1]
        return text[:close] + sep + body + text[close:]
    last_key_start, last_end = members[-1][1], members[-1][3]
    line_start = text.rfind("\n", 0, last_key_start) + 1
    base = text[line_start:last_key_start]
    width = len(unit) if unit.strip(" ") == "" else unit
    nl = newline(text)
    dumped = json.dumps(value, indent=width, ensure_ascii=False).replace("\n", nl + base)
    return text[:last_end] + f",{nl}{base}{json.dumps(key)}: {dumped}" + text[last_end:]
