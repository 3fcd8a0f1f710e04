"""Cut an LM completion into its parts, with DSPy 3.4.1's quirks kept on purpose.

``split_sections`` is ChatAdapter's splitter: a header is recognised on the *stripped* line but the value is
sliced from the *unstripped* line at the stripped match's end, so an indented header leaves part of its own
text in the value, exactly as in DSPy. ``first_balanced_braces`` is JSONAdapter's fallback search
(``regex.search(r"\\{(?:[^{}]|(?R))*\\}", text, regex.DOTALL)``) without the ``regex`` package: the leftmost
``{`` that has a balanced closing ``}``, up to that closing brace.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Container, Sequence

__all__ = ["HEADER", "split_sections", "wanted_sections", "canonical_reader", "first_balanced_braces"]

HEADER = re.compile(r"\[\[ ## (\w+) ## \]\]")
_BRACE = re.compile(r"[{}]")


def split_sections(completion: str) -> list[tuple[str | None, str]]:
    """``[(header or None, stripped text)]`` in order, duplicates and unknown headers included."""
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    match_header = HEADER.match
    precheck = isinstance(completion, str)  # anything else fails inside re, with re's own error, as in DSPy
    for line in completion.splitlines():
        # Cheap pre-check: a header line contains "[[ ## " somewhere after optional whitespace.
        if not precheck or "[[ ## " in line:
            match = match_header(line.strip())
            if match:
                rest = line[match.end() :].strip()
                sections.append((match.group(1), [rest] if rest else []))
                continue
        sections[-1][1].append(line)
    return [(k, "\n".join(v).strip()) for k, v in sections]


def wanted_sections(completion: str, wanted: Container[str]) -> list[tuple[str, str]]:
    """``split_sections`` restricted to the first section of each wanted header, in completion order.

    Text outside wanted sections is never used by the parser, so it is never joined or stripped here.
    """
    if isinstance(completion, str):
        if "[[ ## " not in completion:
            return []
        if not _exotic(completion):
            return _wanted_fast(completion, wanted)
    # Rare inputs (other line breaks, non-str completions, which fail inside ``re`` as in DSPy): the full split.
    seen: set[Any] = set()
    out = []
    for k, v in split_sections(completion):
        if k in wanted and k not in seen:
            seen.add(k)
            out.append((k, v))
    return out


# Line breaks that ``str.splitlines`` honours besides "\n". Without them, lines are exactly the "\n"-separated
# pieces, and one multiline regex over the whole completion finds the header lines (the common case, in C).
_EXOTIC_BREAK = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# A header line: leading blanks (what ``line.strip()`` removes before DSPy's match), the header, the rest.
_HEADER_LINE = re.compile(r"^([^\S\n]*)\[\[ ## (\w+) ## \]\]([^\n]*)", re.M)


def _wanted_fast(completion: str, wanted: Container[str]) -> list[tuple[str, str]]:
    """``wanted_sections`` for completions whose only line break is "\n": same result, no line loop.

    When every ``[[ ## `` opens a line (what LMs write), the completion is cut at ``\n[[ ## `` with
    ``str.split``; anything else (an indented header, a header mid-line, a ``[[ ## `` that is not a header)
    takes one multiline regex pass.
    """
    at_line_start = completion.count("\n[[ ## ") + completion.startswith("[[ ## ")
    if completion.count("[[ ## ") != at_line_start:
        return _wanted_regex(completion, wanted)
    pieces = completion.split("\n[[ ## ")
    if completion.startswith("[[ ## "):
        pieces[0] = pieces[0][6:]
    else:
        del pieces[0]  # text before the first header: never part of a wanted section
    found: dict[str, str] = {}
    words = _WORDS
    for piece in pieces:
        name, sep, tail = piece.partition(" ## ]]")
        if not sep or not (words.get(name) or _is_word(name)):  # not a header: it belongs to the section above
            return _wanted_regex(completion, wanted)
        if name in wanted and name not in found:
            rest, _, body = tail.partition("\n")
            rest = rest.strip()
            found[name] = (f"{rest}\n{body}" if rest else body).strip()
    return list(found.items())


_WORD = re.compile(r"\w+").fullmatch
_WORDS: dict[str, bool] = {}  # header names seen so far (few: field names and "completed"), bounded below


def _is_word(name: str) -> bool:
    known = _WORDS.get(name)
    if known is None:
        known = _WORD(name) is not None
        if len(_WORDS) < 4096:
            _WORDS[name] = known
    return known


def _wanted_regex(completion: str, wanted: Container[str]) -> list[tuple[str, str]]:
    """``wanted_sections`` for "\n"-only completions with headers anywhere: one regex pass."""
    heads = list(_HEADER_LINE.finditer(completion))
    found: list[tuple[str, str]] = []
    done: set[str] = set()
    last = len(heads) - 1
    for n, m in enumerate(heads):
        key = m.group(2)
        if key in wanted and key not in done:
            done.add(key)
            # DSPy slices the *unstripped* line at the stripped match's end: an indented header keeps a tail.
            rest = m.group(0)[m.start(3) - m.end(1) :].strip()
            start = m.end() + 1
            body = completion[start : heads[n + 1].start() - 1 if n < last else len(completion)]
            found.append((key, (f"{rest}\n{body}" if rest else body).strip()))
    return found


def canonical_reader(names: Sequence[str]) -> Callable[[str], dict[str, str] | None] | None:
    r"""A reader for the completion an LM writes when it follows the prompt exactly, for outputs ``names``.

    That completion is each output's header on its own line, in order, then ``[[ ## completed ## ]]``, with no
    other ``[[ ## `` and only "\n" line breaks inside the values. A few ``str.partition`` calls recognise it and
    return, by name in ``names`` order, the values ``wanted_sections`` would find; any other completion gets
    ``None`` (the caller then takes ``wanted_sections``). Names that are not ``\w+`` are never headers to DSPy, so
    they get no reader.
    """
    if not names or not all(_WORD(n) for n in names):
        return None
    # The shape is ``[[ ## a ## ]]\n<a>\n[[ ## b ## ]]\n<b>\n[[ ## completed ## ]]...``. With exactly one "[[ ## "
    # per header in the completion, each separator below occurs at most once, so cutting at the first occurrence
    # of each in turn finds what matching ``\[\[ ## a ## \]\]\n(.*?)\n\[\[ ## b ...`` (re.S) at the start finds.
    # (One "[[ ## " per header: the first header, one per separator, none in a value or in the tail.)
    first = f"[[ ## {names[0]} ## ]]\n"
    skip = len(first)
    seps = tuple(zip(names, tuple(f"\n[[ ## {n} ## ]]\n" for n in names[1:]) + ("\n[[ ## completed ## ]]",)))
    # The other line breaks ``str.splitlines`` honours (``_EXOTIC_BREAK``) are whitespace: where ``strip`` took them
    # off a value, or in the tail, DSPy's line walk reads the same values. Only inside a value do they matter, and
    # there is none in a value of printable characters (a one-line answer: the common case), so the completion is
    # searched for them only when a value is not printable.
    if len(names) == 1:   # (one output, Predict's commonest signature: the same steps without the loop)
        only, end = seps[0]

        def read_one(completion: str) -> dict[str, str] | None:
            if completion[:skip] != first:
                return None
            value, found, rest = completion[skip:].partition(end)
            if not found or "[[ ## " in value or "[[ ## " in rest:
                return None
            value = value.strip()
            return {only: value} if value.isprintable() or not _exotic(completion) else None

        return read_one
    if len(names) == 2:   # (two outputs, ChainOfThought's commonest: reasoning, answer)
        (one, sep_one), (two, sep_two) = seps

        def read_two(completion: str) -> dict[str, str] | None:
            if completion[:skip] != first:
                return None
            a, found, rest = completion[skip:].partition(sep_one)
            if not found or "[[ ## " in a:
                return None
            b, found, rest = rest.partition(sep_two)
            if not found or "[[ ## " in b or "[[ ## " in rest:
                return None
            a, b = a.strip(), b.strip()
            return {one: a, two: b} if (a.isprintable() and b.isprintable()) or not _exotic(completion) else None

        return read_two

    def read(completion: str) -> dict[str, str] | None:
        if completion[:skip] != first:
            return None
        values = {}
        rest = completion[skip:]
        printable = True
        for name, sep in seps:   # each value ends where the next header (or the completed marker) starts
            value, found, rest = rest.partition(sep)
            if not found or "[[ ## " in value:
                return None
            value = values[name] = value.strip()
            printable = printable and value.isprintable()
        if "[[ ## " in rest:
            return None
        return values if printable or not _exotic(completion) else None

    return read


def _exotic(text: str) -> bool:
    """``_EXOTIC_BREAK.search(text) is not None``; an ASCII ``str`` is searched for its six candidates directly."""
    if type(text) is str and text.isascii():
        return "\r" in text or "\x0b" in text or "\x0c" in text or "\x1c" in text or "\x1d" in text or "\x1e" in text
    return _EXOTIC_BREAK.search(text) is not None


def first_balanced_braces(text: str) -> str | None:
    """The leftmost-starting balanced ``{...}`` substring, or None (the regex's ``search`` result)."""
    if not isinstance(text, str):  # the `regex` package's errors for a str pattern on other objects
        if isinstance(text, (bytes, bytearray, memoryview)):
            raise TypeError("cannot use a string pattern on a bytes-like object")
        raise TypeError(f"a bytes-like object is required, not '{type(text).__name__}'")
    if "{" not in text or "}" not in text:
        return None
    stack: list[int] = []
    best: tuple[int, int] | None = None
    for m in _BRACE.finditer(text):
        i = m.start()
        if text[i] == "{":
            stack.append(i)
        elif stack:
            start = stack.pop()
            if best is None or start < best[0]:
                best = (start, i + 1)
            if not stack:  # every earlier "{" is closed: nothing can start further left
                break
    return None if best is None else text[best[0] : best[1]]
