"""dspex.types' Image, Audio and File against DSPy 3.4.1's classes on the arguments beside the value: Image's
deprecated ``download=`` / ``verify=``, the deprecated ``from_file`` / ``from_PIL`` aliases, ``from_url``'s checks
before it would download, Audio's ``sampling_rate``, ``File.from_path``'s empty ``filename`` / ``mime_type``, and
URL strings urlparse rejects. The outcome (value or error) and the warnings (class, text, the file they point at)
are compared; where DSPy would download or decode with a third-party library, dspex raises ConfigError instead."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable

import dspy
import pytest

import dspex.types as nt
from dspex.errors import ConfigError

PNG = "data:image/png;base64,iVBORw0KGgo="
WEB = "https://img.example/cat.png"


def _run(make: Callable[[], Any]) -> tuple[Any, list[tuple[str, str, str]]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            value = make()
            outcome: Any = ("ok", value.format(), repr(value), value.model_dump(mode="json"))
        except Exception as e:  # noqa: BLE001 - errors are compared
            outcome = ("error", type(e).__name__, str(e).split("\n", 1)[-1])   # pydantic's first line names a class
    return outcome, [(w.category.__name__, str(w.message), Path(w.filename).name) for w in seen]


def _same(name: str, call: Callable[[Any], Any]) -> None:
    expected, got = _run(lambda: call(getattr(dspy, name))), _run(lambda: call(getattr(nt, name)))
    assert got == expected


IMAGE_ARGS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((WEB,), {"download": False}), ((WEB,), {"verify": False}), ((WEB,), {"verify": True}),
    ((WEB,), {"download": False, "verify": False}), ((WEB,), {"download": 0}), ((WEB,), {"download": None}),
    ((PNG,), {"download": True}), (("gs://bucket/a.webp",), {"download": True}), (({"url": PNG},), {"download": True}),
    (("ftp://x.org/y.gif",), {"download": False}), (("http://[::1",), {"download": True}),
    ((), {"verify": False}), ((), {"download": True, "url": PNG}), ((None,), {"download": False}),
    ((PNG,), {"download": False, "url": PNG}), ((PNG,), {"verify": False, "extra": 1}),
]


@pytest.mark.parametrize(("args", "kwargs"), IMAGE_ARGS, ids=lambda v: repr(v)[:40])
def test_image_download_and_verify_as_dspy(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _same("Image", lambda cls: cls(*args, **kwargs))


def test_image_download_and_verify_through_validation_as_dspy() -> None:
    for value in ({"url": PNG, "download": True}, {"url": WEB, "verify": False}, {"url": PNG, "download": False}):
        _same("Image", lambda cls: cls.model_validate(value))


def test_image_download_of_a_web_url_is_a_config_error_after_dspy_s_warning() -> None:
    for kwargs in ({"download": True}, {"download": True, "verify": False}, {"download": "yes"}):
        outcome, seen = _run(lambda: nt.Image(WEB, **kwargs))
        assert outcome[:2] == ("error", "ConfigError") and "DSPy's class" in outcome[2], outcome
        assert seen == [("DeprecationWarning", _run(lambda: dspy.Image(PNG, download=True))[1][0][1],
                         Path(__file__).name)]


@pytest.mark.parametrize("url", ["http://[::1", "https://[bad/x.png", "gs://[x/y.png", "http://[::1]/a.png",
                                 "http:///a.png"])
def test_image_strings_urlparse_rejects_as_dspy(url: str) -> None:
    _same("Image", lambda cls: cls(url))
    _same("Image", lambda cls: cls(url=url))
    _same("Image", lambda cls: cls.model_validate({"url": url}))


@pytest.mark.parametrize("url", ["http://[::1", "gs://b/x.png", "ftp://x.org/a.wav", "/tmp/a.png", "https://"])
def test_from_url_checks_the_url_before_downloading_as_dspy(url: str) -> None:
    _same("Image", lambda cls: cls.from_url(url))
    _same("Audio", lambda cls: cls.from_url(url))
    _same("Image", lambda cls: cls.from_url(url, verify=False, timeout=1.0))
    _same("Image", lambda cls: cls.from_url(url, retries=2))   # not a parameter of DSPy's: a TypeError
    _same("Audio", lambda cls: cls.from_url(url, retries=2))


def test_from_url_of_a_web_url_is_a_config_error() -> None:
    for cls in (nt.Image, nt.Audio):
        with pytest.raises(ConfigError, match="DSPy's class"):
            cls.from_url("https://example.invalid/a.wav", verify=False, timeout=None)


@pytest.mark.parametrize("suffix", [".png", ".wav", ".unknownext"])
def test_from_file_is_dspy_s_deprecated_alias(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"sample{suffix}"
    path.write_bytes(b"RIFF\x00\x01fake")
    for name in ("Image", "Audio"):
        _same(name, lambda cls: cls.from_file(str(path)))
        _same(name, lambda cls: cls.from_file(str(tmp_path / f"missing{suffix}")))


def test_image_from_pil_is_dspy_s_deprecated_alias() -> None:
    _same("Image", lambda cls: cls.from_PIL(3))
    _same("Image", lambda cls: cls.from_PIL(PNG))


AUDIO_ARGS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((b"\x00\x01",), {"sampling_rate": 16000}), (("data:audio/wav;base64,QUJD",), {"sampling_rate": 8000}),
    (("not a data uri",), {"sampling_rate": 8000}), (({"data": "QQ==", "audio_format": "ogg"},), {"sampling_rate": 1}),
    ((b"\x00\x01",), {"sampling_rate": 0}), ((b"\x00\x01",), {"sampling_rate": None}),
    ((b"\x00\x01",), {"sampling_rate": None, "audio_format": "mp3"}), ((3,), {"sampling_rate": 8000}),
    (("data:audio/wav;base64,QUJD",), {"sampling_rate": 8000, "audio_format": "wav"}),
    ((), {"data": "QQ==", "audio_format": "wav", "sampling_rate": 8000}), ((b"\x00",), {"audio_format": ""}),
]


@pytest.mark.parametrize(("args", "kwargs"), AUDIO_ARGS, ids=lambda v: repr(v)[:40])
def test_audio_sampling_rate_as_dspy(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _same("Audio", lambda cls: cls(*args, **kwargs))


def test_audio_from_array_needs_dspy_s_class() -> None:
    with pytest.raises(ConfigError, match="DSPy's class"):
        nt.Audio.from_array([0.0, 0.1], sampling_rate=16000)


@pytest.mark.parametrize("kwargs", [{"filename": ""}, {"mime_type": ""}, {"filename": "", "mime_type": ""},
                                    {"filename": None, "mime_type": None}, {"filename": "x.bin", "mime_type": "a/b"},
                                    {"filename": "  pad.pdf  "}, {"mime_type": "text/plain"}])
def test_file_from_path_keeps_what_it_is_given_as_dspy(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4")
    _same("File", lambda cls: cls.from_path(str(path), **kwargs))
    _same("File", lambda cls: cls.from_bytes(b"%PDF-1.4", **kwargs))


@pytest.mark.parametrize("kwargs", [{"filename": ""}, {"filename": None}, {}])
def test_file_from_file_id_as_dspy(kwargs: dict[str, Any]) -> None:
    _same("File", lambda cls: cls.from_file_id("file-1", **kwargs))
    _same("File", lambda cls: cls.from_file_id("", **kwargs))


def test_a_dict_source_is_updated_in_place_as_dspy_s() -> None:
    """DSPy's Audio and File hand a dict source back as it is and add the keyword arguments to it."""
    for name, source, extra in (("Audio", {"data": "QQ==", "audio_format": "ogg"}, {"x": 1}),
                                ("File", {"file_id": "f"}, {"filename": "a.txt"})):
        theirs, ours = dict(source), dict(source)
        _run(lambda: getattr(dspy, name)(theirs, **extra))
        _run(lambda: getattr(nt, name)(ours, **extra))
        assert ours == theirs, name
