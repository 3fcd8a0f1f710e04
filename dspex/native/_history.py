"""Printing LM call history the way ``dspy.inspect_history`` does (plain text when written to a file)."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

__all__ = ["print_history"]


def _color(text: str, code: str, on: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if on else text


def _content(content: Any) -> str:
    if isinstance(content, str):
        return content.strip()
    parts = []
    for part in content if isinstance(content, list) else [content]:
        if isinstance(part, dict) and part.get("type") == "text":
            parts.append(str(part.get("text", "")).strip())
        else:
            parts.append(f"<{part.get('type', 'part') if isinstance(part, dict) else type(part).__name__}>")
    return "\n".join(parts)


def print_history(history: list[dict[str, Any]], n: int = 1, file: TextIO | None = None) -> None:
    """The last ``n`` entries: each message, then the response (colored only on a terminal, as in DSPy)."""
    out = file or sys.stdout
    color = file is None
    for entry in history[-n:] if n > 0 else []:
        messages = entry.get("messages") or [{"role": "user", "content": entry.get("prompt")}]
        print("\n\n\n", file=out)
        print(_color(f"[{entry.get('timestamp', 'Unknown time')}]", "34", color), file=out)
        for message in messages:
            print(_color(f"{str(message.get('role', '?')).capitalize()} message:", "31", color), file=out)
            print(_content(message.get("content", "")), file=out)
            print("\n", file=out)
        print(_color("Response:", "31", color), file=out)
        outputs = entry.get("outputs") or []
        first = outputs[0] if outputs else ""
        text = first.get("text") if isinstance(first, dict) else first
        print(_color(str(text).strip(), "32", color), file=out)
        if len(outputs) > 1:
            print(_color(f"\n\t(and {len(outputs) - 1} other completions)", "31", color), file=out)
        if isinstance(first, dict) and first.get("tool_calls"):
            print(_color("Tool calls:", "31", color), file=out)
            print(json.dumps(first["tool_calls"], ensure_ascii=False, default=str), file=out)
    print("\n\n\n", file=out)
