"""DSPy's legacy custom-type markers: a user message holding ``<<CUSTOM-TYPE-START-IDENTIFIER>>...`` is split
into content blocks before it reaches the LM (``dspy/adapters/_legacy_type_markers.py``).

Native signatures carry no ``dspy.Type`` values, but an input *string* can still contain the marker text, and
DSPy expands it then; so do we. The substring test keeps the common case to one ``in`` check.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["START", "END", "expand_markers"]

START = "<<CUSTOM-TYPE-START-IDENTIFIER>>"
END = "<<CUSTOM-TYPE-END-IDENTIFIER>>"
_PATTERN = re.compile(rf"{START}(.*?){END}", re.DOTALL)


def expand_markers(message: dict[str, Any]) -> dict[str, Any]:
    """Return ``message`` unchanged unless it is a user message whose text contains the start marker."""
    if message.get("role") != "user" or not isinstance(message.get("content"), str):
        return message
    content = message["content"]
    if START not in content:
        return message
    return {**message, "content": _split(content)}


def _split(text: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    last_end = 0
    for match in _PATTERN.finditer(text):
        start, end = match.span()
        if start > last_end:
            blocks.append({"type": "text", "text": text[last_end:start]})
        blocks.extend(_payload_blocks(match.group(1).strip()))
        last_end = end
    if last_end < len(text):
        blocks.append({"type": "text", "text": text[last_end:]})
    return blocks


def _payload_blocks(payload: str) -> list[dict[str, Any]]:
    parsed = _parse_payload(payload)
    if isinstance(parsed, list):
        return [block if isinstance(block, dict) else {"type": "text", "text": str(block)} for block in parsed]
    return [{"type": "text", "text": payload}]


def _doubly_quoted(value: str) -> Any:
    # A payload nested inside a larger JSON value was JSON-encoded twice.
    return json.loads(json.loads(f'"{value}"'))


def _repair(value: str) -> Any:
    import json_repair

    return json_repair.loads(value)


def _parse_payload(payload: str) -> Any:
    for parse in (json.loads, _doubly_quoted, _repair):
        try:
            return parse(payload)
        except Exception:
            continue
    return None
