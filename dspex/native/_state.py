"""Saving and loading a native ``Predict`` in DSPy's state layout, so saved programs move between the two."""

from __future__ import annotations

import logging
import sys
from typing import Any

from ..signature import make_signature

__all__ = ["dump_predict_state", "load_predict_state", "serialize_object"]

logger = logging.getLogger("dspex.native.predict")

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
        "fields": [{"prefix": f.prefix, "description": f.desc} for f in sig._fields.values()],
    }
    dump = getattr(module.lm, "dump_state", None) if module.lm else None
    state["lm"] = dump() if dump is not None else None
    return state


def load_predict_state(module: Any, state: dict[str, Any], allow_unsafe_lm_state: bool = False) -> Any:
    sig = module.signature
    saved = state["signature"]
    fields = sig.fields
    for (name, field), saved_field in zip(list(fields.items()), saved["fields"]):
        fields[name] = field.replace(prefix=saved_field["prefix"], desc=saved_field["description"])
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
        from ..lm import LM

        module.lm = LM.load_state(lm_state)
    else:
        module.lm = None
    if "extended_signature" in state:
        raise NotImplementedError("Loading extended_signature is no longer supported in DSPy 2.6+")
    return module
