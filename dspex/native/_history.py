"""Printing LM call history as ``dspy.inspect_history`` prints it (DSPy 3.4.1's ``pretty_print_history``): the same
text, blank lines and colours, so a native-only program's printout reads like its DSPy twin's. Colours only on a
terminal (no ``file``). One deliberate difference: an entry without outputs prints no response, where DSPy raises
IndexError."""

from __future__ import annotations

import json
import sys
from contextlib import suppress
from typing import Any, TextIO

__all__ = ["print_history"]

_RED, _GREEN, _BLUE = "31", "32", "34"


def _paint(text: Any, code: str, on: bool, end: str = "\n") -> str:
    # DSPy strips the left of green text only, and every painted text carries its own end before print's newline.
    text = str(text).lstrip() if code == _GREEN else str(text)
    return (f"\x1b[{code}m{text}\x1b[0m" if on else text) + end


def _part(part: dict[str, Any]) -> tuple[str, str] | None:
    """A content part as (text, colour): text as itself, media as a short placeholder; other kinds print nothing."""
    kind = part["type"]
    if kind == "text":
        return part["text"].strip(), ""
    if kind == "image_url":
        if "base64" in part["image_url"].get("url", ""):
            head, data = part["image_url"]["url"].split("base64,")[:2]
            return f"<{head}base64,<IMAGE BASE 64 ENCODED({len(data)!s})>", _BLUE
        return f"<image_url: {part['image_url']['url']}>", _BLUE
    if kind == "input_audio":
        audio = part["input_audio"]
        return f"<audio format='{audio['format']}' base64-encoded, length={len(audio['data'])}>", _BLUE
    if kind in ("file", "input_file"):
        info = part.get("file", part.get("input_file", {}))
        return (f"<file: name:{info.get('filename', '')}, id:{info.get('file_id', '')}, "
                f"data_length:{len(info.get('file_data', ''))}>"), _BLUE
    return None


def _tool_calls(calls: Any, out: TextIO, color: bool) -> None:
    if calls:
        print(_paint("Tool calls:", _RED, color), file=out)
    for call in calls or []:
        function = call.get("function") or {}
        arguments = function.get("arguments")
        if arguments is None:
            arguments = call.get("args", call.get("arguments", {}))
        with suppress(json.JSONDecodeError):
            arguments = json.loads(arguments) if isinstance(arguments, str) else arguments
        shown = json.dumps(arguments, ensure_ascii=False) if isinstance(arguments, (dict, list)) else str(arguments)
        print(_paint(f"{function.get('name') or call.get('name', '<unknown>')}: {shown}", _GREEN, color), file=out)


def _message(message: dict[str, Any], out: TextIO, color: bool) -> None:
    print(_paint(f"{message['role'].capitalize()} message:", _RED, color), file=out)
    content = message["content"]
    if isinstance(content, str):
        print(content.strip(), file=out)
    elif isinstance(content, list):
        for part in content:
            shown = _part(part)
            if shown is not None:
                print(_paint(shown[0].strip(), shown[1], color) if shown[1] else shown[0], file=out)
    _tool_calls(message.get("tool_calls"), out, color)
    print("\n", file=out)


def _response(outputs: list[Any], out: TextIO, color: bool) -> None:
    if not outputs:
        return
    first = outputs[0]
    if isinstance(first, dict):
        if first.get("text"):
            print(_paint("Response:", _RED, color), file=out)
            print(_paint(first["text"].strip(), _GREEN, color), file=out)
        _tool_calls(first.get("tool_calls"), out, color)
    else:
        print(_paint("Response:", _RED, color), file=out)
        print(_paint(first.strip(), _GREEN, color), file=out)
    if len(outputs) > 1:
        print(_paint(f" \t (and {len(outputs) - 1} other completions)", _RED, color, end=""), file=out)


def print_history(history: list[dict[str, Any]], n: int = 1, file: TextIO | None = None) -> None:
    """The last ``n`` entries (``n=0``: all of them, as ``history[-0:]`` is in DSPy): messages, then the response."""
    out = file or sys.stdout
    color = file is None
    for entry in history[-n:]:
        print("\n\n\n", file=out)
        print(_paint(f"[{entry.get('timestamp', 'Unknown time')}]", _BLUE, color), file=out)
        for message in entry["messages"] or [{"role": "user", "content": entry["prompt"]}]:
            _message(message, out, color)
        _response(entry["outputs"], out, color)
    print("\n\n\n", file=out)
