"""``Image``: DSPy 3.4.1's image input without DSPy, rendered as the same ``image_url`` content part.

Construction takes what DSPy's takes in memory (http(s)/gs URLs and data URIs, a ``{"url": ...}`` dict, another
Image), with DSPy's deprecated ``download=`` / ``verify=`` arguments and ``from_file`` / ``from_PIL`` aliases and
their warnings; ``from_path`` reads a local file the way DSPy does. What DSPy decodes with Pillow (bytes, PIL
images) or downloads (``from_url``, and ``Image(http_url, download=True)``) raises
:class:`~dspex.errors.ConfigError` once DSPy's own checks have passed.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import warnings
from typing import Any
from urllib.parse import urlparse

from ._base import Type
from ._media import _FROZEN, _needs_dspy

__all__ = ["Image"]

_UNSET = object()
_DEPRECATED = ("The `download` and `verify` arguments to Image() are deprecated and will be removed in 3.4. "
               "Use Image.from_url(url, verify=...) to download a remote image, or Image.from_path(path) for a "
               "local file.")


def _is_url(text: str, schemes: tuple[str, ...] = ("http", "https", "gs")) -> bool:
    try:   # urlparse raises ValueError on a malformed netloc ("http://[::1"): DSPy's is_url says "not a URL"
        parsed = urlparse(text)
    except ValueError:
        return False
    return parsed.scheme in schemes and bool(parsed.netloc)


def _image_url(source: Any) -> str:
    if isinstance(source, dict) and "url" in source:
        return _image_url(source["url"])
    if isinstance(source, Image):
        return source.url
    if isinstance(source, str):
        if source.startswith("data:") or _is_url(source):
            return source
        raise ValueError(f"Unrecognized image string: {source}. Local files must be loaded with Image.from_path().")
    if isinstance(source, bytes) or hasattr(source, "save"):
        raise _needs_dspy("An image from bytes or a PIL image")
    raise ValueError(f"Unsupported image type: {type(source)}")


class Image(Type):
    # An image: an http(s)/gs URL or a data URI (``from_path`` for a local file). No docstring: DSPy's Image has
    # none, and pydantic would put one in the JSON schema an output field shows the LM.
    url: str
    model_config = _FROZEN

    def __init__(self, source: Any = None, /, *, download: Any = _UNSET, verify: Any = _UNSET, **data: Any) -> None:
        if download is not _UNSET or verify is not _UNSET:
            if source is None:   # DSPy's rule: never honoured through validation (a dict of untrusted data)
                raise TypeError("`download` and `verify` are only valid with a positional image source; "
                                "use Image.from_url(url, verify=...) to download a remote image.")
            warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        if source is not None and "url" in data:
            raise TypeError("Image received both `source` and `url`; provide only one image source")
        if source is not None:
            data["url"] = source["url"] if isinstance(source, dict) and set(source) == {"url"} else source
        url = data.get("url")
        if download is not _UNSET and download and isinstance(url, str) and _is_url(url, ("http", "https")):
            raise _needs_dspy("Image(url, download=True)")   # DSPy fetches the URL here; dspex never downloads
        if "url" in data:
            data["url"] = _image_url(data["url"])
        super().__init__(**data)

    def format(self) -> list[dict[str, Any]]:
        try:
            url = _image_url(self.url)
        except Exception as e:
            raise ValueError(f"Failed to format image for DSPy: {e}")
        return [{"type": "image_url", "image_url": {"url": url}}]

    @classmethod
    def from_url(cls, url: str, verify: bool = True, timeout: float | None = 30.0) -> "Image":
        if not _is_url(url, ("http", "https")):
            raise ValueError(f"Image.from_url requires an HTTP(S) URL, received: {url}")
        raise _needs_dspy("Image.from_url")

    @classmethod
    def from_path(cls, file_path: str) -> "Image":
        if not os.path.isfile(file_path):
            raise ValueError(f"File not found: {file_path}")
        with open(file_path, "rb") as f:   # read before the type is guessed, as DSPy does (errors come in order)
            raw = f.read()
        mime, _ = mimetypes.guess_type(file_path)
        if mime is None:
            raise ValueError(f"Could not determine MIME type for file: {file_path}")
        return cls(f"data:{mime};base64,{base64.b64encode(raw).decode('utf-8')}")

    @classmethod
    def from_file(cls, file_path: str) -> "Image":
        warnings.warn("Image.from_file is deprecated and will be removed in 3.4; use Image.from_path instead.",
                      DeprecationWarning, stacklevel=2)
        return cls.from_path(file_path)

    @classmethod
    def from_PIL(cls, pil_image: Any) -> "Image":  # noqa: N802 - DSPy's name
        warnings.warn("Image.from_PIL is deprecated and will be removed in 3.4; use Image(pil_image) instead.",
                      DeprecationWarning, stacklevel=2)
        return cls(pil_image)

    def __str__(self) -> str:
        return self.serialize_model()

    def __repr__(self) -> str:
        if "base64" in self.url:
            size = len(self.url.split("base64,")[1])
            kind = self.url.split(";")[0].split("/")[-1]
            return f"Image(url=data:image/{kind};base64,<IMAGE_BASE_64_ENCODED({size!s})>)"
        return f"Image(url='{self.url}')"
