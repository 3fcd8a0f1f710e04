"""``loads_like_json_repair`` is ``json_repair.loads`` (the function DSPy's parse_value calls) for any text: valid
JSON through ``json.loads``, the rest through json_repair told that ``json.loads`` already failed."""

from __future__ import annotations

import json_repair
from hypothesis import given, settings
from hypothesis import strategies as st

from dspex.adapters._coerce import loads_like_json_repair

JSONISH = st.text(alphabet=st.sampled_from(list('{}[]()"\':,#/\\`-.0123456789 \nabeflnrstuxTFN\u201c\u201d')),
                  max_size=40)


def _outcome(fn, text):  # type: ignore[no-untyped-def]
    try:
        return "ok", fn(text)
    except Exception as e:  # noqa: BLE001 - an error is part of the behaviour compared
        return type(e).__name__, str(e)


@settings(max_examples=600, deadline=None)
@given(st.one_of(JSONISH, st.text(max_size=40)))
def test_same_value_as_json_repair(text: str) -> None:
    assert repr(_outcome(loads_like_json_repair, text)) == repr(_outcome(json_repair.loads, text))
