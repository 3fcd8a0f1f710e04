"""``Audio`` and ``File`` (``Image`` is in ``_image``): DSPy 3.4.1's media inputs without DSPy, rendered as the
same content parts.

A value formats to one OpenAI content part (``image_url``, ``input_audio``, ``file``); pydantic serialises it to
DSPy's custom-type markers, which the adapter splits into those parts, exactly as for DSPy's own classes (which
native modules also accept, read by duck typing). Construction takes what DSPy's takes in memory (URLs and data
URIs, base64 audio, file ids, raw file bytes), with the same argument checks and deprecated aliases, and
``from_path`` reads a local file the way DSPy does. What needs a third-party decoder or the network on DSPy's side
(image bytes and PIL images through Pillow, audio arrays through soundfile, ``from_url`` and the deprecated
``Image(url, download=True)``) raises :class:`~dspex.errors.ConfigError` saying to use DSPy's class, once DSPy's
own checks of the arguments have passed.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import warnings
from typing import Any
from urllib.parse import urlparse

import pydantic

from ..errors import ConfigError
from . import _media_docs
from ._base import Type

__all__ = ["Audio", "File"]

_FROZEN = pydantic.ConfigDict(frozen=True, str_strip_whitespace=True, validate_assignment=True, extra="forbid")


def _needs_dspy(what: str) -> ConfigError:
    return ConfigError(f"{what} needs DSPy's class (it decodes or downloads with a third-party library): "
                       "build the value with dspy's type; native modules read it as it is")


def _data_uri(path: str, mime: str | None) -> str:
    with open(path, "rb") as f:
        return f"data:{mime};base64,{base64.b64encode(f.read()).decode('utf-8')}"


def _audio_dict(audio: Any, fmt: str = "wav") -> dict[str, Any]:
    if isinstance(audio, dict) and "data" in audio and "audio_format" in audio:
        return audio
    if isinstance(audio, Audio):
        return {"data": audio.data, "audio_format": audio.audio_format}
    if isinstance(audio, str) and audio.startswith("data:audio/"):
        header, comma, payload = audio.partition(",")
        _, slash, kind = header.removeprefix("data:").split(";", 1)[0].partition("/")
        if not comma or not slash or not kind:
            raise ValueError("Malformed audio data URI")
        return {"data": payload, "audio_format": kind.removeprefix("x-")}
    if isinstance(audio, str):
        raise ValueError("String audio inputs must be data URIs. "
                         "Load local files with Audio.from_path() and remote resources with Audio.from_url().")
    if isinstance(audio, bytes):
        return {"data": base64.b64encode(audio).decode("utf-8"), "audio_format": fmt}
    if hasattr(audio, "shape"):
        raise _needs_dspy("Audio from an array")
    raise ValueError(f"Unsupported type for encode_audio: {type(audio)}")


class Audio(Type):
    __doc__ = _media_docs.AUDIO   # DSPy's text: it is in the JSON schema an output field shows the LM

    data: str
    audio_format: str
    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    def __init__(self, *args: Any, **data: Any) -> None:
        if len(args) > 1:
            raise TypeError(f"Audio expected at most 1 positional argument, received {len(args)}")
        if args:
            if "data" in data:
                raise TypeError("Audio received data as both a positional and keyword argument")
            value = args[0]
            sampling_rate = data.pop("sampling_rate", None)
            fmt = data.pop("audio_format", None)
            if fmt is not None and (isinstance(value, Audio) or (isinstance(value, dict) and "audio_format" in value)
                                    or (isinstance(value, str) and value.startswith("data:audio/"))):
                raise TypeError("Audio received audio_format alongside an input that already carries its format; "
                                "provide only one")
            if sampling_rate is not None and not hasattr(value, "shape"):
                raise TypeError("Audio received sampling_rate for a non-array input; it only applies to array data")
            normalized = _audio_dict(value, fmt or "wav")   # a dict source itself, updated in place as DSPy does
            normalized.update(data)
            data = normalized
        super().__init__(**data)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _validate(cls, values: Any) -> Any:
        return _audio_dict(values)

    def format(self) -> list[dict[str, Any]]:
        return [{"type": "input_audio", "input_audio": {"data": self.data, "format": self.audio_format}}]

    @classmethod
    def from_url(cls, url: str, verify: bool = True, timeout: float | None = 30.0) -> "Audio":
        parsed = urlparse(url)   # DSPy's check, urlparse's ValueError included ("http://[::1")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"Audio.from_url requires an HTTP(S) URL, received: {url}")
        raise _needs_dspy("Audio.from_url")

    @classmethod
    def from_path(cls, file_path: str) -> "Audio":
        if not os.path.isfile(file_path):
            raise ValueError(f"File not found: {file_path}")
        mime, _ = mimetypes.guess_type(file_path)
        if not mime or not mime.startswith("audio/"):
            raise ValueError(f"Unsupported MIME type for audio: {mime}")
        with open(file_path, "rb") as f:
            payload = base64.b64encode(f.read()).decode("utf-8")
        return cls(data=payload, audio_format=mime.split("/")[1].removeprefix("x-"))

    @classmethod
    def from_file(cls, file_path: str) -> "Audio":
        warnings.warn("Audio.from_file is deprecated and will be removed in 3.4; use Audio.from_path instead.",
                      DeprecationWarning, stacklevel=2)
        return cls.from_path(file_path)

    @classmethod
    def from_array(cls, array: Any, sampling_rate: int, format: str = "wav") -> "Audio":
        raise _needs_dspy("Audio.from_array")

    def __str__(self) -> str:
        return self.serialize_model()

    def __repr__(self) -> str:
        return f"Audio(data=<AUDIO_BASE_64_ENCODED({len(self.data)})>, audio_format='{self.audio_format}')"


def _file_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, File):
        return {k: v for k in ("file_data", "file_id", "filename") if (v := getattr(value, k)) is not None}
    if isinstance(value, dict):
        if {"file_data", "file_id", "filename"} & set(value):
            return value
        raise ValueError("Value of `dspy.File` must contain at least one of: file_data, file_id, or filename")
    if isinstance(value, str):
        if value.startswith("data:"):
            return {"file_data": value}
        raise ValueError(f"String file inputs must be data URIs, received: {value}. "
                         "Load local files with File.from_path().")
    if isinstance(value, bytes):
        return {"file_data": f"data:application/octet-stream;base64,{base64.b64encode(value).decode('utf-8')}"}
    raise ValueError(f"Unsupported file input type: {type(value)}")


class File(Type):
    __doc__ = _media_docs.FILE   # a file part: file_data (a data URI), file_id (uploaded) and/or filename

    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None
    model_config = _FROZEN

    def __init__(self, *args: Any, **data: Any) -> None:
        if len(args) > 1:
            raise TypeError(f"File expected at most 1 positional argument, received {len(args)}")
        if args:
            normalized = _file_dict(args[0])
            overlap = sorted(set(normalized) & set(data))
            if overlap:
                raise TypeError(f"File received {', '.join(overlap)} from both the positional source and keyword "
                                "arguments")
            normalized.update(data)   # a dict source itself, updated in place as DSPy does
            data = normalized
        super().__init__(**data)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _validate(cls, values: Any) -> Any:
        return _file_dict(values)

    def format(self) -> list[dict[str, Any]]:
        part = {k: v for k in ("file_data", "file_id", "filename") if (v := getattr(self, k))}
        return [{"type": "file", "file": part}]

    @classmethod
    def from_path(cls, file_path: str, filename: str | None = None, mime_type: str | None = None) -> "File":
        if not os.path.isfile(file_path):
            raise ValueError(f"File not found: {file_path}")
        if mime_type is None:   # DSPy tests for None: an empty filename or MIME type is kept as given
            mime_type = mimetypes.guess_type(file_path)[0] or "application/octet-stream"
        return cls(file_data=_data_uri(file_path, mime_type),
                   filename=os.path.basename(file_path) if filename is None else filename)

    @classmethod
    def from_bytes(cls, file_bytes: bytes, filename: str | None = None,
                   mime_type: str = "application/octet-stream") -> "File":
        return cls(file_data=f"data:{mime_type};base64,{base64.b64encode(file_bytes).decode('utf-8')}",
                   filename=filename)

    @classmethod
    def from_file_id(cls, file_id: str, filename: str | None = None) -> "File":
        return cls(file_id=file_id, filename=filename)

    def __str__(self) -> str:
        return self.serialize_model()

    def __repr__(self) -> str:
        parts = []
        if self.file_data is not None:
            if self.file_data.startswith("data:"):
                mime = self.file_data.split(";")[0].split(":")[1]
                size = len(self.file_data.split("base64,")[1]) if "base64," in self.file_data else len(self.file_data)
                parts.append(f"file_data=<DATA_URI({mime}, {size} chars)>")
            else:
                parts.append(f"file_data=<DATA({len(self.file_data)} chars)>")
        if self.file_id is not None:
            parts.append(f"file_id='{self.file_id}'")
        if self.filename is not None:
            parts.append(f"filename='{self.filename}'")
        return f"File({', '.join(parts)})"


def __getattr__(name: str) -> Any:
    if name == "Image":   # Image lived here before it had its own module: what was pickled then still loads
        from ._image import Image

        return Image
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
