"""dspex.types' Image, Audio, File, Document and Code against DSPy 3.4.1's classes: the same construction
outcomes (value, ``format()``, repr, str, error class and message) for the same in-memory inputs and files, the
same JSON schemas and descriptions, and the classes work in a process where dspy was never imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import dspy
import pytest
from dspy.experimental import Document as DspyDocument

import dspex.types as nt


def _outcome(make: Callable[[], Any]) -> Any:
    try:
        value = make()
    except Exception as e:  # noqa: BLE001 - errors are compared
        return ("error", type(e).__name__, str(e))
    return ("ok", value.format(), repr(value), str(value), value.model_dump(mode="json"))


PNG = "data:image/png;base64,iVBORw0KGgo="
CASES: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("Image", ("https://img.example/a.png",), {}), ("Image", (PNG,), {}), ("Image", ("gs://b/c.webp",), {}),
    ("Image", ("  https://img.example/pad.png  ",), {}), ("Image", (), {"url": PNG}),
    ("Image", ({"url": "https://x.org/y.gif"},), {}), ("Image", ("ftp://x.org/y.gif",), {}),
    ("Image", ("relative/path.png",), {}), ("Image", (3,), {}), ("Image", (PNG,), {"url": PNG}),
    ("Audio", (), {"data": "AAAA", "audio_format": "wav"}), ("Audio", ("data:audio/x-wav;base64,QQ==",), {}),
    ("Audio", ("data:audio/mp3;base64,QQ==",), {"audio_format": "mp3"}), ("Audio", (b"\x00\x01",), {}),
    ("Audio", (b"\x00\x01",), {"audio_format": "mp3"}), ("Audio", ("clip.wav",), {}), ("Audio", ("data:audio",), {}),
    ("Audio", ({"data": "QQ==", "audio_format": "ogg"},), {}), ("Audio", (1, 2), {}),
    ("File", (), {"file_id": "file-1"}), ("File", ("data:application/pdf;base64,JVBERi0=",), {}),
    ("File", (b"hello",), {"filename": "h.txt"}), ("File", ("notes.txt",), {}), ("File", ({"x": 1},), {}),
    ("File", ({"file_id": "f"},), {"file_id": "g"}), ("File", (), {"file_data": "plain text", "filename": "a"}),
    ("Document", (), {"data": "The sky is blue.", "title": "Sky"}), ("Document", (), {"data": "JVBE",
                                                                                    "media_type": "application/pdf"}),
    ("Document", (), {"data": "x", "context": "ctx"}), ("Document", (), {"data": "x", "media_type": "text/html"}),
    ("Code", (), {"code": "print(1)"}), ("Code", (), {"code": 3}),
]


def _classes(name: str) -> tuple[Any, Any]:
    dspy_cls = DspyDocument if name == "Document" else getattr(dspy, name)
    return dspy_cls, getattr(nt, name)


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES, ids=lambda v: repr(v)[:40])
def test_construction_matches_dspy(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    theirs, ours = _classes(name)
    expected, got = _outcome(lambda: theirs(*args, **kwargs)), _outcome(lambda: ours(*args, **kwargs))
    if expected[0] == "error":   # pydantic names the model in its message: compare the class and what it says
        assert got[0] == "error" and got[1] == expected[1], (expected, got)
        assert expected[2].split("\n", 1)[-1] == got[2].split("\n", 1)[-1] or expected[2] == got[2], (expected, got)
    else:
        assert got == expected


@pytest.mark.parametrize("suffix", [".png", ".wav", ".pdf", ".unknownext"])
def test_from_path_matches_dspy(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"sample{suffix}"
    path.write_bytes(b"\x89PNG\r\n fake bytes \x00")
    for name in ("Image", "Audio", "File"):
        theirs, ours = _classes(name)
        assert _outcome(lambda: ours.from_path(str(path))) == _outcome(lambda: theirs.from_path(str(path))), name
    assert _outcome(lambda: nt.Image.from_path(str(tmp_path / "missing.png"))) == \
        _outcome(lambda: dspy.Image.from_path(str(tmp_path / "missing.png")))


@pytest.mark.parametrize("language", ["python", "Java", "sql"])
def test_code_language_classes_match_dspy(language: str) -> None:
    theirs, ours = dspy.Code[language], nt.Code[language]
    assert ours.__name__ == theirs.__name__ and ours.description() == theirs.description()
    assert ours.model_json_schema() == theirs.model_json_schema()
    for text in ["```python\nx = 1\n```", "x = 1", "```x```", "say ```a``` and ```b```", ""]:
        assert ours.model_validate(text).code == theirs.model_validate(text).code
        assert ours.model_validate({"code": text}).code == theirs.model_validate({"code": text}).code


def test_descriptions_and_schemas_match_dspy() -> None:
    for name in ("Image", "Audio", "File", "Document", "Code"):
        theirs, ours = _classes(name)
        assert ours.description() == theirs.description(), name
        assert ours.model_json_schema() == theirs.model_json_schema(), name   # prompt text (type notes)


def test_bytes_and_downloads_need_dspys_class() -> None:
    from dspex.errors import ConfigError

    with pytest.raises(ConfigError, match="DSPy's class"):
        nt.Image(b"\x89PNG")
    with pytest.raises(ConfigError, match="DSPy's class"):
        nt.Image.from_url("http://127.0.0.1:9/x.png")


def test_native_media_types_run_without_dspy() -> None:
    code = (
        "import sys\nimport dspex.native as native\n"
        "sig = native.Signature({'pic': (native.Image, native.InputField()), 'answer': (str, native.OutputField())})\n"
        "seen = []\n"
        "def lm(messages, **kw):\n"
        "    seen.append(messages)\n"
        "    return ['[[ ## answer ## ]]\\na cat\\n\\n[[ ## completed ## ]]']\n"
        "out = native.Predict(sig)(pic=native.Image('https://img.example/cat.png'), lm=lm)\n"
        "print(out.answer, seen[0][-1]['content'][1], 'dspy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "a cat {'type': 'image_url', 'image_url': {'url': 'https://img.example/cat.png'}} False"


def test_the_role_path_awaits_the_lm_s_acall_without_dspy() -> None:
    """A History input sends the call down the role path; without DSPy (no bridge) ``acall`` must await the LM's
    own ``acall`` (a held-out mutant once called the sync LM in a thread instead, unseen by the gate, which always
    runs with DSPy loaded); an LM with no ``acall`` runs in a worker thread."""
    code = (
        "import asyncio, sys, threading\nimport dspex.native as native\n"
        "sig = native.Signature({'history': (native.History, native.InputField()),\n"
        "                        'question': (str, native.InputField()), 'answer': (str, native.OutputField())})\n"
        "ANSWER = '[[ ## answer ## ]]\\n{}\\n\\n[[ ## completed ## ]]'\n"
        "class LM:\n"
        "    def __call__(self, messages, **kw):\n"
        "        return [ANSWER.format('sync in ' + threading.current_thread().name.split('_')[0])]\n"
        "    async def acall(self, messages, **kw):\n"
        "        return [ANSWER.format(f'async, {len(messages)} messages')]\n"
        "history = native.History(messages=[{'question': 'hi', 'answer': 'hello'}])\n"
        "p = native.Predict(sig)\n"
        "print(asyncio.run(p.acall(history=history, question='q', lm=LM())).answer)\n"
        "print(asyncio.run(p.acall(history=history, question='q', lm=LM().__call__)).answer)\n"
        "print('dspy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:3] == ["async, 4 messages", "sync in asyncio", "False"], out
