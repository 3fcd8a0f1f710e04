"""A routed module's signature, prepared once at construction for both sides.

A string signature is parsed where the user wrote it: the custom type names it mentions are looked up in the
caller's frames *now* (DSPy would search the stack at construction too; a lazily built DSPy module would search
ours instead). Both sides then get the same names. The native Signature is built eagerly (cheap, no dspy): it
tells whether native can serve this signature, and a malformed string fails at construction, as in DSPy.
"""

from __future__ import annotations

import builtins
import re
import typing
from dataclasses import dataclass
from types import FrameType
from typing import Any

from dspex.errors import SignatureError, UnsupportedTypeError

__all__ = ["PreparedSignature", "prepare_signature", "capture_custom_types", "unsupported_reason"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KNOWN = frozenset(dir(builtins)) | frozenset(typing.__dict__)


def capture_custom_types(text: str, frame: FrameType | None, max_frames: int = 20) -> dict[str, Any]:
    """Names in the type annotations of ``text`` that are neither builtins nor typing names, from the caller's scope."""
    wanted: set[str] = set()
    for part in text.replace("->", ",").split(","):
        if ":" in part:
            wanted.update(n for n in _IDENT.findall(part.split(":", 1)[1]) if n not in _KNOWN)
    found: dict[str, Any] = {}
    while frame is not None and wanted and max_frames > 0:
        for name in list(wanted):
            if name in frame.f_locals:
                found[name] = frame.f_locals[name]
            elif name in frame.f_globals:
                found[name] = frame.f_globals[name]
            else:
                continue
            wanted.discard(name)
        frame, max_frames = frame.f_back, max_frames - 1
    return found


@dataclass(frozen=True, slots=True)
class PreparedSignature:
    original: Any                      # what the user passed
    native: Any = None                 # native Signature class, when it could be built
    why_not_native: str = ""           # why it could not
    custom_types: dict[str, Any] | None = None
    text: str = ""                     # "question -> answer", for targeting


def unsupported_reason(native_sig: Any) -> str:
    """Why native cannot serve this signature's field types ("" when it can), naming each field."""
    from dspex.signature import unsupported_fields

    bad = unsupported_fields(native_sig)
    if not bad:
        return ""
    if isinstance(bad, dict):
        return "; ".join(f"field `{k}`: {v}" for k, v in bad.items())
    return ", ".join(str(b) for b in bad)


def _text(sig: Any) -> str:
    return sig if isinstance(sig, str) else str(getattr(sig, "signature", sig))


def prepare_signature(sig: Any, frame: FrameType | None, custom: dict[str, Any] | None = None) -> PreparedSignature:
    """``custom``: the custom types a string signature names, when already known (an unpickled module)."""
    from dspex.signature import SignatureMeta, ensure_signature, is_dspy_signature, make_signature

    if custom is None and isinstance(sig, str):
        custom = capture_custom_types(sig, frame)
    try:
        if isinstance(sig, str):
            native = make_signature(sig, custom_types=custom or None)
        elif isinstance(sig, SignatureMeta) or is_dspy_signature(sig):
            native = ensure_signature(sig)
        else:
            raise SignatureError(
                f"Expected a signature string like 'question -> answer' or a Signature class, got {sig!r}."
            )
    except UnsupportedTypeError as exc:
        return PreparedSignature(sig, None, str(exc), custom, _text(sig))
    except Exception as exc:
        if not is_dspy_signature(sig):
            raise  # a malformed string or class fails at construction, as in DSPy, with the same error
        # a valid dspy.Signature the native reader cannot translate: DSPy serves it
        return PreparedSignature(sig, None, f"{type(exc).__name__}: {exc}", custom, _text(sig))
    why = unsupported_reason(native)
    return PreparedSignature(sig, None if why else native, why and f"unsupported field types: {why}", custom,
                             native.signature)
