"""Parsing ``"question, ctx: list[str] -> answer: int"`` into fields, as DSPy does, with clearer errors.

(Minimal first cut; to be hardened against DSPy's behaviour on malformed strings.)
"""

from __future__ import annotations

import ast
import typing
from typing import Any, Mapping

from ..errors import SignatureError
from ._field import Field, InputField, OutputField

__all__ = ["parse_signature_string", "detect_custom_types_from_caller"]


def detect_custom_types_from_caller(text: str) -> dict[str, Any] | None:
    return None


def parse_signature_string(text: str, custom_types: Mapping[str, Any] | None = None) -> dict[str, Field]:
    if text.count("->") != 1:
        raise SignatureError(f"Invalid signature format: '{text}', must contain exactly one '->'.")
    names: dict[str, Any] = dict(typing.__dict__)
    names["NoneType"] = type(None)
    for t in (int, str, float, bool, list, tuple, dict, set, frozenset, bytes):
        names.setdefault(t.__name__, t)
    names.update(custom_types or {})
    ins, outs = text.split("->")
    fields: dict[str, Field] = {}
    for part, maker in ((ins, InputField), (outs, OutputField)):
        args = ast.parse(f"def f({part}): pass").body[0].args.args  # type: ignore[attr-defined]
        for arg in args:
            if arg.annotation is None:
                fields[arg.arg] = maker().replace(annotation=str, type_undefined=maker is InputField)
            else:
                fields[arg.arg] = maker().replace(annotation=eval(compile(ast.Expression(arg.annotation), "<sig>", "eval"), {}, names))
    return fields
