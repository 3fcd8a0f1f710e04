"""A routed module's signature, prepared once at construction for both sides.

A string signature is parsed where the user wrote it: the custom type names it mentions are looked up in the
caller's frames *now* (DSPy would search the stack at construction too; a lazily built DSPy module would search
ours instead). Both sides then get the same names. The native Signature is built eagerly (cheap, no dspy): it
tells whether native can serve this signature, and a malformed string fails at construction, as in DSPy.

After construction a native engine runs the module's *current* signature, converted by ``native_signature``:
cached per DSPy class with a stamp of what the conversion read (``dspex.signature.signature_stamp``), since DSPy
lets a program change a signature class in place (``sig.instructions = ...``, a field's ``json_schema_extra``).
"""

from __future__ import annotations

import builtins
import re
import typing
import weakref
from dataclasses import dataclass
from types import FrameType
from typing import Any

from dspex.errors import SignatureError, UnsupportedTypeError
from dspex.signature import SignatureMeta, signature_stamp, stamp_holds

__all__ = ["PreparedSignature", "prepare_signature", "capture_custom_types", "unsupported_reason", "native_signature",
           "sig_stamp"]

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


# --- the module's current signature, for a native engine (``_engine``) --------------------------------------
_native_sigs: "weakref.WeakKeyDictionary[Any, tuple[Any, Any, str]]" = weakref.WeakKeyDictionary()


def sig_stamp(sig: Any) -> Any:
    """``None`` for a native signature (immutable: its identity says it all), else the stamp of what reading the
    DSPy class takes from it (``stamp_holds`` tells whether it still matches)."""
    return None if isinstance(sig, SignatureMeta) else signature_stamp(sig)


def native_signature(sig: Any) -> tuple[Any, str]:
    """``(native Signature, "")`` for any signature, or ``(None, why native cannot serve it)``; a DSPy class changed
    in place since its last conversion is converted again."""
    from dspex.signature import ensure_signature

    if isinstance(sig, SignatureMeta):
        return sig, ""
    try:
        cached = _native_sigs.get(sig)
    except TypeError:
        cached = None
    if cached is not None and stamp_holds(sig, cached[0]):
        return cached[1], cached[2]
    stamp = signature_stamp(sig)
    try:
        native = _with_native_agent_types(ensure_signature(sig))
        why = unsupported_reason(native)
        result = (None, f"unsupported field types: {why}") if why else (native, "")
    except Exception as exc:  # noqa: BLE001 - any signature native cannot read is served by DSPy
        result = (None, f"signature not readable natively ({type(exc).__name__}: {exc})")
    try:
        _native_sigs[sig] = (stamp, *result)
    except TypeError:
        pass
    return result


_AGENT_TYPES = {"history": "History", "tool_calls": "ToolCalls", "tool_call_results": "ToolCallResults",
                "reasoning": "Reasoning"}


def _with_native_agent_types(sig: Any) -> Any:
    """DSPy's agent types in a converted signature (dspy.History, dspy.ToolCalls...) as dspex's: the engine is a
    native module, and its agents read and build dspex.types values."""
    from dspex.types import native_class as agent_class
    from dspex.types import role_of

    changed = {}
    for name, field in sig.fields.items():
        annotation = field.annotation
        role = role_of(annotation) if isinstance(annotation, type) else None
        if role in _AGENT_TYPES and not annotation.__module__.startswith("dspex."):
            changed[name] = field.replace(annotation=agent_class(_AGENT_TYPES[role]))
    if not changed:
        return sig
    from dspex.signature import make_signature

    return make_signature({**sig.fields, **changed}, sig.instructions, signature_name=sig.__name__)
