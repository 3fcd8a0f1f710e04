"""dspex.LM's request body: orjson where its output means what ``json.dumps(..., ensure_ascii=False)`` sends, the
standard library (same bytes, same errors) everywhere else; and the fast ``uuid4`` text of history entries."""

from __future__ import annotations

import enum
import json
import math
import os
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dspex.lm import _body
from dspex.lm._complete import uuid4_text


class Colour(enum.Enum):
    RED = "red"


class Label(str):
    pass


class Count(int):
    def __repr__(self) -> str:
        return "Count!"


ODD = [math.nan, math.inf, -math.inf, 1 << 70, -(1 << 64), Colour.RED, Label("x"), Count(3), "\ud800",
       {1: "int key"}, {None: 1}, {True: 2}, {"\ud800": 1}, uuid.UUID(int=5), b"bytes", (1, "two"), 1e16, -0.0]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(),
                    st.sampled_from(ODD))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.one_of(st.text(max_size=5), st.sampled_from([1, None, True, "\udfff"])), inner, max_size=4),
), max_leaves=12)


def _stdlib(payload: Any) -> tuple[str, Any]:
    try:
        return "ok", json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except Exception as exc:   # noqa: BLE001 - the error is the behaviour compared
        return "error", (type(exc), str(exc))


def _ours(payload: Any) -> tuple[str, Any]:
    try:
        return "ok", _body.dumps_body(payload)
    except Exception as exc:   # noqa: BLE001
        return "error", (type(exc), str(exc))


def _same_json(a: bytes, b: bytes) -> bool:
    # NaN != NaN: compare the parsed values' JSON text, where the standard library spells NaN one way
    return json.dumps(json.loads(a), sort_keys=True) == json.dumps(json.loads(b), sort_keys=True)


@settings(max_examples=600, deadline=None)
@given(values)
def test_the_body_means_what_json_dumps_sends_and_fails_as_it_fails(payload: Any) -> None:
    expected, got = _stdlib(payload), _ours(payload)
    assert expected[0] == got[0], (expected, got)
    if expected[0] == "error":
        assert got == expected
    else:
        assert _same_json(expected[1], got[1])
        if not _body._plain(payload):
            assert got[1] == expected[1]   # the standard library's own bytes


@settings(max_examples=300, deadline=None)
@given(values)
def test_the_cache_key_is_stable_and_tells_different_requests_apart(payload: Any) -> None:
    key = _body.cache_key(["http://127.0.0.1/v1", None, payload])
    assert key == _body.cache_key(["http://127.0.0.1/v1", None, payload])
    assert key != _body.cache_key(["http://127.0.0.1/v1", "rollout-2", payload])


def test_orjson_serves_plain_requests_and_the_standard_library_the_rest() -> None:
    assert _body._orjson_dumps is not None, "orjson is a dependency of dspex: pip install -e ."
    plain = {"model": "m", "messages": [{"role": "user", "content": "héllo \u2028 \"q\""}], "temperature": 0.7}
    assert _body.dumps_body(plain) == json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode()
    assert _body.dumps_body({"temperature": math.nan}) == b'{"temperature": NaN}'   # not orjson's null
    with pytest.raises(TypeError, match="Colour is not JSON serializable"):
        _body.dumps_body({"tool": Colour.RED})   # orjson would have written "red"


def test_without_orjson_the_standard_library_serves_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_body, "_orjson_dumps", None)
    plain = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert _body.dumps_body(plain) == json.dumps(plain, ensure_ascii=False).encode()
    assert _body.cache_key([plain]) == json.dumps([plain], sort_keys=True, default=repr)


def test_uuid4_text_is_uuid4s_text() -> None:
    for raw in [bytes(16), b"\xff" * 16, *(os.urandom(16) for _ in range(2000))]:
        assert uuid4_text(raw) == str(uuid.UUID(bytes=raw, version=4))
    fresh = uuid.UUID(uuid4_text())
    assert fresh.version == 4 and fresh.variant == uuid.RFC_4122
