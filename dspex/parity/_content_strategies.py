"""Parity cases for DSPy's content types (``dspex parity --module content_types``): ``dspy.Image``, ``Audio``,
``File``, ``Document`` and ``Code`` fields, alone, in lists, optional, beside plain fields and dates.

Native reads these by duck typing: a value renders through its own ``format()`` (DSPy's custom-type markers, split
into image_url / input_audio / file / document content parts), an annotation through its name and
``description()`` ("Type description of Code_python: ..."), and a ``Code`` output parses as DSPy parses it. The
signature is a ``dspy.Signature`` class handed to both sides, as a migrating program hands it; values are DSPy's
own objects. Answers write each output in the ChatAdapter's format (a JSON object for the fallback), ``Code``
fenced, bare, JSON-wrapped or as junk; a ``Citations`` output as JSON text, or as the response's native
``citations`` (read by the class's own ``parse_lm_response``).
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Optional

from hypothesis import strategies as st

from ._case import Case, FieldSpec, LMSpec, SignatureSpec
from ._error_strategies import lm_exceptions
from ._type_strategies import texts

__all__ = ["content_cases", "media_input"]

_URLS = ["https://example.com/cat.png", "https://example.com/a%20b.jpg?x=1&y=«2»", "data:image/png;base64,iVBORw0KGgo=",
         "gs://bucket/obj.webp", "http://127.0.0.1:9/x.gif"]
_AUDIO = [("AAAA", "wav"), ("SUQzBAAAAA==", "mp3"), ("", "wav")]
_FILES = [{"file_id": "file-abc123"}, {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
          {"file_data": "data:text/plain;base64,aGk=", "filename": "notes «1».txt"}, {"file_id": "f", "filename": "x"}]
_CITES = [{"type": "char_location", "cited_text": "The sky is blue.", "document_index": 0, "document_title": "Sky",
           "start_char_index": 0, "end_char_index": 16}, {"cited_text": "x", "document_index": 1}]
_CODE = ["print(1)", "def f(x):\n    return x * 2\n", "", "x = '```'\n", "SELECT 1;"]


def _value(kind: str, i: int) -> Any:
    import dspy
    from dspy.experimental import Document

    if kind == "Image":
        return dspy.Image(_URLS[i % len(_URLS)])
    if kind == "Audio":
        data, fmt = _AUDIO[i % len(_AUDIO)]
        return dspy.Audio(data=data, audio_format=fmt)
    if kind == "File":
        return dspy.File(**_FILES[i % len(_FILES)])
    if kind == "Document":
        return Document(data=["The sky is blue.", "Line one\nline two «x»", ""][i % 3],
                        title=[None, "Sky", "ü"][i % 3])
    return dspy.Code["python"](code=_CODE[i % len(_CODE)])


def _annotation(kind: str) -> Any:
    import dspy
    from dspy.experimental import Document

    return {"Image": dspy.Image, "Audio": dspy.Audio, "File": dspy.File, "Document": Document,
            "Code": dspy.Code["python"]}[kind]


@st.composite
def media_input(draw: Any, name: str) -> tuple[FieldSpec, Any]:
    kind = draw(st.sampled_from(["Image", "Image", "Audio", "File", "Document", "Code"]))
    tp = _annotation(kind)
    shape = draw(st.sampled_from(["one", "one", "list", "optional", "optional_none"]))
    i = draw(st.integers(0, 9))
    if shape == "list":
        return FieldSpec(name, "input", list[tp]), [_value(kind, i + k) for k in range(draw(st.integers(0, 3)))]
    if shape.startswith("optional"):
        return FieldSpec(name, "input", Optional[tp]), None if shape == "optional_none" else _value(kind, i)
    return FieldSpec(name, "input", tp), _value(kind, i)


@st.composite
def _code_answer(draw: Any) -> str:
    code = draw(st.sampled_from(_CODE))
    return draw(st.sampled_from([f"```python\n{code}\n```", code, json.dumps({"code": code}), f"```\n{code}```",
                                 "no code here", f"Here:\n```python\n{code}\n```\nDone."]))


@st.composite
def content_cases(draw: Any) -> tuple[Case, str]:
    import dspy

    ins = [draw(media_input(f"media{k}")) for k in range(draw(st.integers(1, 2)))]
    fields = [f for f, _ in ins]
    inputs = {f.name: v for f, v in ins}
    if draw(st.booleans()):
        fields.append(FieldSpec("question", "input", str))
        inputs["question"] = draw(texts)
    outputs: list[tuple[str, Any]] = [("answer", str)]
    if draw(st.booleans()):
        outputs.append(("code", dspy.Code["python"]))
    cites = draw(st.integers(0, 2)) == 0
    if cites:   # DSPy's Citations: from the text, or from the response's native ``citations``
        from dspy.experimental import Citations

        outputs.append(("citations", Citations))
    if draw(st.integers(0, 3)) == 0:
        outputs.append(("when", datetime.date))
    fields += [FieldSpec(n, "output", tp, desc=draw(st.sampled_from([None, "the result"]))) for n, tp in outputs]
    module = draw(st.sampled_from(["predict", "cot"]))
    values = {"answer": draw(texts), "code": draw(_code_answer()), "when": draw(st.sampled_from(["2024-02-29", "x"])),
              "citations": draw(st.sampled_from([json.dumps(_CITES), "[]", "none", json.dumps(_CITES[0])]))}
    if module == "cot":
        outputs.insert(0, ("reasoning", str))
        values["reasoning"] = draw(texts)
    chat = "".join(f"[[ ## {n} ## ]]\n{values[n]}\n\n" for n, _ in outputs) + "[[ ## completed ## ]]"
    first = draw(st.one_of(st.just([chat]), st.just([chat[: len(chat) // 2]]), lm_exceptions))
    if cites and isinstance(first, list) and draw(st.booleans()):
        first = [{"text": first[0], "citations": draw(st.sampled_from([_CITES, [], "junk"]))}]
    fallback = [json.dumps({n: values[n] for n, _ in outputs})]
    spec = SignatureSpec(tuple(fields), draw(st.sampled_from([None, "Describe the media."])), "dspy_class")
    case = Case(module, spec, inputs, LMSpec((first, fallback)),
                adapter=draw(st.sampled_from(["chat", "chat", "json"])))
    return case, draw(st.sampled_from(["sync", "sync", "async"]))
