"""Names from files, logs and registrations are printed as text: never as rich markup, never as control codes.

A module named ``rag[alpha]`` must print as ``rag[alpha]`` (rich would take ``[alpha]`` for a style and drop it),
``[link=...]`` must not become a hyperlink, ``[/]`` must not raise ``MarkupError``, and an escape sequence in a
log line must not reach the terminal.
"""

from __future__ import annotations

from typing import Any

__all__ = ["plain_text", "cell", "shown"]


def plain_text(value: Any) -> str:
    """``value`` as printable text: control characters (ESC, BEL, ...) shown as ``\\x1b`` escapes."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\n" else repr(ch)[1:-1] for ch in text)


def cell(value: Any, style: str | None = None) -> Any:
    """A rich ``Text`` of :func:`plain_text` (markup never interpreted), optionally styled as a whole."""
    from rich.text import Text

    return Text(plain_text(value), style=style or "")


def shown(path: Any) -> str:
    """A file name for a one-line message: as is, or its ``repr`` when it holds a newline or a control character."""
    text = str(path)
    return text if text.isprintable() else repr(text)
