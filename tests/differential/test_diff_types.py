"""Held-out runs of DSPy's content types and of dates against DSPy 3.4.1: Image / Audio / File / Document / Code
values built by this file (random URLs, data URIs of random bytes, audio formats, file ids, titles, code), alone,
in lists, optional, nested in dicts; Code and date/time outputs answered a dozen ways; Citations on models with
and without native citations. Identical LM requests
(content parts included), outputs, errors and warnings under ChatAdapter and JSONAdapter."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any, Optional

import dspy
import pytest
from adapter_diff_support import AdapterCase, assert_same_adapter
from diff_support import Case, assert_same, chat, examples
from dspy.experimental import Citations, Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))
PY = dspy.Code["python"]
WORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@st.composite
def image(draw: Any) -> Any:
    kind = draw(st.sampled_from(["https", "data", "gs"]))
    if kind == "data":
        mime = draw(st.sampled_from(["image/png", "image/jpeg", "image/webp"]))
        return dspy.Image(f"data:{mime};base64,{_b64(draw(st.binary(max_size=24)))}")
    path = draw(st.from_regex(r"[a-z0-9_/%-]{1,20}", fullmatch=True))
    ext = draw(st.sampled_from(["png", "jpg", "gif", "webp"]))
    return dspy.Image(f"https://img.example/{path}.{ext}" if kind == "https" else f"gs://bucket/{path}.{ext}")


@st.composite
def audio(draw: Any) -> Any:
    return dspy.Audio(data=_b64(draw(st.binary(max_size=24))), audio_format=draw(st.sampled_from(["wav", "mp3"])))


@st.composite
def file(draw: Any) -> Any:
    if draw(st.booleans()):
        return dspy.File(file_id="file-" + draw(st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True)))
    return dspy.File(file_data=f"data:application/pdf;base64,{_b64(draw(st.binary(max_size=24)))}",
                     filename=draw(st.one_of(st.none(), WORDS.map(lambda w: w + ".pdf"))))


@st.composite
def document(draw: Any) -> Any:
    return Document(data=draw(WORDS), title=draw(st.one_of(st.none(), WORDS)))


@st.composite
def code(draw: Any) -> Any:
    return PY(code=draw(st.sampled_from(["print(1)", "def f():\n    pass", "", "a = '«x»'"])))


KINDS = {"image": (dspy.Image, image), "audio": (dspy.Audio, audio), "file": (dspy.File, file),
         "document": (Document, document), "code": (PY, code)}


@st.composite
def media_field(draw: Any) -> tuple[Any, Any]:
    tp, values = KINDS[draw(st.sampled_from(sorted(KINDS)))]
    shape = draw(st.sampled_from(["one", "list", "optional", "none", "dict"]))
    if shape == "list":
        return list[tp], draw(st.lists(values(), max_size=3))
    if shape == "optional":
        return Optional[tp], draw(values())
    if shape == "none":
        return Optional[tp], None
    if shape == "dict":
        return dict[str, tp], draw(st.dictionaries(st.sampled_from(["a", "b", "ü"]), values(), max_size=2))
    return tp, draw(values())


def _answers(draw: Any, outs: dict[str, Any]) -> dict[str, str]:
    samples = {
        str: st.sampled_from(["a cat", "", "None"]),
        PY: st.sampled_from(["```python\nprint(2)\n```", "print(2)", '{"code": "x=1"}', "```\nx```", "nothing"]),
        datetime.date: st.sampled_from(["2024-02-29", "2024-02-30", "20240229", "today", '"2024-01-01"']),
        datetime.datetime: st.sampled_from(["2024-02-29T10:00:00Z", "2024-02-29 10:00", "1700000000", "later"]),
        datetime.time: st.sampled_from(["10:00", "10:00:00.5+02:00", "25:00", "noon"]),
    }
    return {n: draw(samples[tp]) for n, tp in outs.items()}


@st.composite
def media_case(draw: Any) -> Case:
    ins: dict[str, tuple[Any, Any]] = {f"m{k}": draw(media_field()) for k in range(draw(st.integers(1, 3)))}
    if draw(st.booleans()):
        ins["when"] = draw(st.sampled_from([(datetime.datetime, datetime.datetime(2024, 1, 2, 3, 4, 5)),
                                            (datetime.date, datetime.date(1999, 12, 31)),
                                            (datetime.time, datetime.time(23, 59, tzinfo=datetime.timezone.utc))]))
    outs = {"answer": str}
    for name, tp in (("snippet", PY), ("day", datetime.date), ("at", datetime.datetime), ("clock", datetime.time)):
        if draw(st.integers(0, 3)) == 0:
            outs[name] = tp
    cot = draw(st.booleans())
    fields = {n: (tp, dspy.InputField()) for n, (tp, _) in ins.items()}
    fields.update({n: (tp, dspy.OutputField()) for n, tp in outs.items()})
    sig = dspy.Signature(fields, draw(st.sampled_from(["", "Look at the media."])))
    answers = _answers(draw, outs)
    if cot:
        answers = {"reasoning": "because", **answers}
    adapter = draw(st.sampled_from([None, "json"]))
    as_json = json.dumps(answers)
    script = [[chat(**answers)], [as_json]] if adapter is None else [[as_json], [as_json]]
    return Case(build=lambda ns: (ns.ChainOfThought if cot else ns.Predict)(sig),
                call={n: v for n, (_, v) in ins.items()}, script=script, adapter=adapter,
                mode=draw(st.sampled_from(["sync", "async"])), label=f"fields={fields!r}")


@settings(max_examples=examples(80, 800), **SETTINGS)
@given(media_case())
def test_content_types_and_dates_match_dspy(case: Case) -> None:
    assert_same(case)


def test_an_image_reaches_the_lm_as_an_image_url_part_on_both_sides() -> None:
    sig = dspy.Signature({"pic": (dspy.Image, dspy.InputField()), "answer": (str, dspy.OutputField())})
    case = Case(build=lambda ns: ns.Predict(sig), call={"pic": dspy.Image("https://img.example/cat.png")},
                script=[[chat(answer="a cat")]])
    a, _ = assert_same(case)
    user = a.calls[0][1][-1]["content"]
    assert {"type": "image_url", "image_url": {"url": "https://img.example/cat.png"}} in user


CITED = [{"type": "char_location", "cited_text": "The sky is blue.", "document_index": 0, "document_title": "Sky",
          "start_char_index": 0, "end_char_index": 16}]


class Cited(dspy.Signature):
    """Answer with citations."""

    documents: list[Document] = dspy.InputField()
    question: str = dspy.InputField()
    answer: str = dspy.OutputField()
    citations: Citations = dspy.OutputField()


@pytest.mark.parametrize("model", ["anthropic/claude-3-5-sonnet-20240620", "openai/gpt-4o-mini"])
@pytest.mark.parametrize("response", [
    {"text": chat(answer="blue"), "citations": CITED},            # native citations beside the text
    chat(answer="blue", citations=json.dumps(CITED)),               # written in the text
    {"text": chat(answer="blue", citations="[]"), "citations": "junk"},
    chat(answer="blue"),
], ids=["native", "in_text", "junk_native", "missing"])
def test_citations_match_dspy_for_models_with_and_without_native_citations(model: str, response: Any) -> None:
    """An Anthropic model is not asked for the Citations output (DSPy deletes it from the prompt) and its
    response's ``citations`` become the field; any other model is asked for it in the text."""
    case = AdapterCase(lambda ns: ns.Predict(Cited), {"documents": [Document(data="The sky is blue.", title="Sky")],
                                                      "question": "What colour?"},
                       [[response], [json.dumps({"answer": "blue", "citations": CITED})]], "chat",
                       model=(model, "auto"), label=model)
    a, _ = assert_same_adapter(case)
    prompt = json.dumps(a.calls[0][2], ensure_ascii=False)
    assert ("citations" in prompt.split("Your output fields are")[1].split("All interactions")[0]) is \
        (not model.startswith("anthropic/"))


# --- dspex.types' own classes on the native side, DSPy's on DSPy's -----------------------------------------------
def _twin(ns: Any, name: str) -> Any:
    if ns is dspy:
        return Document if name == "Document" else getattr(dspy, name)
    import dspex.types as nt

    return getattr(nt, name)


@st.composite
def twin_inputs(draw: Any) -> tuple[str, str, list[tuple[str, tuple[Any, ...], dict[str, Any]]]]:
    """A type name, a shape and the constructor calls (args, kwargs) each side makes with its own class."""
    name = draw(st.sampled_from(["Image", "Audio", "File", "Document", "Code"]))
    blob = _b64(draw(st.binary(max_size=16)))
    makers = {
        "Image": st.sampled_from([((f"data:image/png;base64,{blob}",), {}), (("https://img.example/a.png",), {}),
                                  ((), {"url": "gs://b/c.jpg"})]),
        "Audio": st.sampled_from([((), {"data": blob, "audio_format": "wav"}), ((f"data:audio/x-mp3;base64,{blob}",),
                                                                                 {})]),
        "File": st.sampled_from([((), {"file_id": "file-9"}), ((f"data:application/pdf;base64,{blob}",), {}),
                                 ((), {"file_data": f"data:text/plain;base64,{blob}", "filename": "n «1».txt"})]),
        "Document": st.sampled_from([((), {"data": "The sky is blue.", "title": "Sky"}), ((), {"data": blob}),
                                     ((), {"data": blob, "media_type": "application/pdf", "context": "c"})]),
        "Code": st.sampled_from([((), {"code": "print(1)"}), ((), {"code": "```python\nx = 2\n```"})]),
    }
    calls = [(name, *draw(makers[name])) for _ in range(draw(st.integers(1, 3)))]
    return name, draw(st.sampled_from(["one", "list", "optional"])), calls


@settings(max_examples=examples(60, 600), **SETTINGS)
@given(twin_inputs(), st.booleans(), st.sampled_from(["chat", "json"]), st.sampled_from(["sync", "async"]))
def test_dspex_types_twins_send_what_dspys_classes_send(spec: Any, code_out: bool, adapter: str, mode: str) -> None:
    """A native program builds its media with dspex.types (no dspy); DSPy's program with dspy's classes: the same
    requests, results (a Code output parses into each side's own Code_python) and errors."""
    name, shape, calls = spec

    def annotation(ns: Any) -> Any:
        tp = _twin(ns, name) if name != "Code" else _twin(ns, "Code")["python"]
        return list[tp] if shape == "list" else Optional[tp] if shape == "optional" else tp

    def build(ns: Any) -> Any:
        code = _twin(ns, "Code")["python"]
        fields = {"media": (annotation(ns), ns.InputField()), "answer": (str, ns.OutputField())}
        if code_out:
            fields["snippet"] = (code, ns.OutputField())
        return ns.Predict(ns.Signature(fields, "Use the media."))

    def call(ns: Any) -> dict[str, Any]:
        cls = _twin(ns, name) if name != "Code" else _twin(ns, "Code")["python"]
        values = [cls(*args, **kwargs) for _, args, kwargs in calls]
        return {"media": values if shape == "list" else values[0]}

    answers = {"answer": "ok", **({"snippet": "```python\nprint(3)\n```"} if code_out else {})}
    text = chat(**answers) if adapter == "chat" else json.dumps(answers)
    assert_same_adapter(AdapterCase(build, call, [[text], [json.dumps(answers)]], adapter, mode=mode,
                                    label=f"{name} {shape} {calls}"))
