"""A routed module whose signature uses DSPy's content types (Image, Audio, File, Document, Code), Citations or
dates now runs on the native route (before: UnsupportedTypeError, so DSPy), with the DSPy route's LM requests
(content parts included) and results; a field type native still does not handle keeps the module on DSPy."""

from __future__ import annotations

import datetime
import json

import dspy
import pytest
from dspy.experimental import Citations, Document

import dspex
from dspex.parity.scripted_lm import ScriptedLM

MEDIA = {
    "image": (dspy.Image, lambda: dspy.Image("https://img.example/cat.png")),
    "audio": (dspy.Audio, lambda: dspy.Audio(data="QUJD", audio_format="wav")),
    "file": (dspy.File, lambda: dspy.File(file_id="file-1", filename="a.pdf")),
    "document": (list[Document], lambda: [Document(data="The sky is blue.", title="Sky")]),
    "code": (dspy.Code["python"], lambda: dspy.Code["python"](code="print(1)")),
}
ANSWER = ("[[ ## answer ## ]]\nblue\n\n[[ ## when ## ]]\n2024-02-29\n\n[[ ## citations ## ]]\n"
          + json.dumps([{"cited_text": "The sky is blue.", "document_index": 0, "start_char_index": 0,
                        "end_char_index": 16}]) + "\n\n[[ ## completed ## ]]")


@pytest.mark.parametrize("kind", sorted(MEDIA))
def test_a_routed_module_with_content_types_runs_natively_as_on_the_dspy_route(kind, events):
    annotation, make = MEDIA[kind]
    sig = dspy.Signature({"media": (annotation, dspy.InputField()), "answer": (str, dspy.OutputField()),
                          "when": (datetime.date, dspy.OutputField()), "citations": (Citations, dspy.OutputField())})
    seen = events("dspex.router.route")
    runs = {}
    for impl in ("dspy", "native"):
        lm = ScriptedLM([[ANSWER]])
        with dspy.context(lm=lm):
            pred = dspex.Predict(sig)(media=make(), implementation=impl)
        runs[impl] = (repr(dict(pred)), [(c.messages, c.kwargs) for c in lm.calls])
        assert seen[-1][2]["implementation"] == impl, seen[-1][2]["reason"]
    assert runs["native"] == runs["dspy"]
    user = runs["native"][1][0][0][-1]["content"]
    assert kind == "code" or isinstance(user, list)   # the value reached the LM as content parts


def test_a_field_native_does_not_handle_still_routes_to_dspy(events, flagfile):
    from routing_helpers import flag

    flagfile.write({"dspex.predict": flag("native")})
    dspex.configure(flags=str(flagfile))
    seen = events("dspex.router.route")
    sig = dspy.Signature({"span": (datetime.timedelta, dspy.InputField()), "answer": (str, dspy.OutputField())})
    with dspy.context(lm=ScriptedLM([["[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"]])):
        dspex.Predict(sig)(span=datetime.timedelta(days=1))
    assert seen[-1][2]["implementation"] == "dspy"
    assert "span" in seen[-1][2]["reason"]
