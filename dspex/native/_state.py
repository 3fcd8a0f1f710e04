"""Saving and loading a native ``Predict`` in DSPy's state layout, so saved programs move between the two."""

from __future__ import annotations

import logging
import sys
from typing import Any

from ..signature import make_signature

__all__ = ["dump_predict_state", "load_predict_state", "serialize_object", "restore_lm"]

logger = logging.getLogger("dspy.predict.predict")   # DSPy's Predict.load_state warns there

# Keys that would redirect an LM to another server; dropped on load unless the file is trusted (as in DSPy).
UNSAFE_LM_STATE_KEYS = frozenset({"api_base", "base_url", "model_list"})


def serialize_object(obj: Any) -> Any:
    """JSON-friendly copy of a demo value (pydantic models dumped in JSON mode), as DSPy saves demos."""
    if "pydantic" in sys.modules:
        from pydantic import BaseModel

        if isinstance(obj, BaseModel):
            return obj.model_dump(mode="json")
    if isinstance(obj, list):
        return [serialize_object(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(serialize_object(v) for v in obj)
    if isinstance(obj, dict):
        return {k: serialize_object(v) for k, v in obj.items()}
    return obj


LM_CLASS_KEY = "_dspy_lm_class"
BUILTIN_LM_CLASS = "dspy.clients.lm.LM"


def restore_lm(state: dict[str, Any], allow_custom_lm_class: bool) -> Any:
    """A saved LM back as an object, with DSPy's rule: its own ``dspy.LM`` (here: ``dspex.LM``, which speaks the
    same state) always; any other class only from a trusted file, since loading it imports and runs its code."""
    state = dict(state)
    class_path = state.pop(LM_CLASS_KEY, None)
    if class_path is None or class_path == BUILTIN_LM_CLASS:
        from ..lm import LM

        return LM.load_state(state)
    if not allow_custom_lm_class:
        raise ValueError(
            f"Refusing to import custom serialized LM class `{class_path}`. "
            "Pass allow_unsafe_lm_state=True when loading trusted files to enable custom LM classes."
        )
    import importlib

    parts = class_path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:split]))
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except (ImportError, AttributeError):
            continue
        if not isinstance(obj, type):
            raise TypeError(f"Serialized LM class `{class_path}` did not resolve to a class.")
        return obj.load_state(state)
    raise ImportError(f"Could not import serialized LM class `{class_path}`.")


def dump_predict_state(module: Any, json_mode: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {"traces": module.traces, "train": module.train, "demos": []}
    for demo in module.demos:
        demo = demo.copy()
        for field in demo:
            demo[field] = serialize_object(demo[field])
        state["demos"].append(demo if isinstance(demo, dict) or not json_mode else demo.toDict())
    sig = module.signature
    state["signature"] = {
        "instructions": sig.instructions,
        "fields": [f.saved() for f in sig._fields.values()],
    }
    dump = getattr(module.lm, "dump_state", None) if module.lm else None
    state["lm"] = dump() if dump is not None else None
    return state


def load_predict_state(module: Any, state: dict[str, Any], allow_unsafe_lm_state: bool = False) -> Any:
    sig = module.signature
    saved = state["signature"]
    fields = sig.fields
    for (name, field), saved_field in zip(list(fields.items()), saved["fields"]):
        fields[name] = field.loaded(saved_field)
    module.signature = make_signature(fields, saved["instructions"], signature_name=sig.__name__)
    for name, value in state.items():
        if name not in ("signature", "extended_signature", "lm", "fields"):
            setattr(module, name, value)
    lm_state = state.get("lm")
    if lm_state:
        unsafe = sorted(UNSAFE_LM_STATE_KEYS.intersection(lm_state))
        if unsafe and not allow_unsafe_lm_state:
            logger.warning(
                "Ignoring unsafe LM config key(s) during state load: %s. "
                "Pass allow_unsafe_lm_state=True to preserve these keys for trusted files.",
                unsafe,
            )
            lm_state = {k: v for k, v in lm_state.items() if k not in UNSAFE_LM_STATE_KEYS}
        module.lm = restore_lm(lm_state, allow_unsafe_lm_state)
    else:
        module.lm = None
    if "extended_signature" in state:
        raise NotImplementedError("Loading extended_signature is no longer supported in DSPy 2.6+")
    return module
