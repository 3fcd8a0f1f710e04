"""``json.dumps(value, ensure_ascii=False)`` for values already known to be plain JSON, without its per-call setup.

``json.dumps`` builds a new encoder on every call, with a dict that watches for circular references. A value that
``is_plain_json`` passed (or a list of ``str``) has none: its nesting is bounded. So the C encoder is built once,
with no such watch, and gives the same text (checked when this module loads: any difference, or an interpreter
without the C encoder, and the standard ``JSONEncoder.encode`` is used instead).
"""

from __future__ import annotations

import json
import json.encoder
from typing import Any, Callable

__all__ = ["plain_dumps"]


def _plain_encoder() -> Callable[[Any], str]:
    reference = json.JSONEncoder(ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return reference.encode
    try:
        encoder = make(None, reference.default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)
        probe = {"a": [1, -0.0, 1e16, 2.5, "é\n\"\\\u2028", None, True, False, {"": [], "k": {}}], "ü": "\x00"}
        if "".join(encoder(probe, 0)) != reference.encode(probe):
            return reference.encode
    except Exception:  # noqa: BLE001 - another interpreter's C encoder: the documented path is always right
        return reference.encode

    def dumps(value: Any) -> str:
        return "".join(encoder(value, 0))

    return dumps


plain_dumps = _plain_encoder()
