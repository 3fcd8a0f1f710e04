"""``Document`` and ``Code``: DSPy 3.4.1's text-bearing types without DSPy.

A ``Document`` formats to the ``document`` content part citation-capable LMs read (text or base64 PDF, title,
context, citations enabled). ``Code`` renders as its bare code (no markers), describes itself to the LM with its
language, and parses an answer by taking the first fenced block, as DSPy's does; ``Code["python"]`` makes the
``Code_python`` subclass.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

import pydantic

from . import _media_docs
from ._base import Type

__all__ = ["Document", "Code"]


class Document(Type):
    __doc__ = _media_docs.DOCUMENT   # text (or base64 PDF) an LM can cite; DSPy's text, which the schema carries

    data: str
    title: str | None = None
    media_type: Literal["text/plain", "application/pdf"] = "text/plain"
    context: str | None = None

    def format(self) -> list[dict[str, Any]]:
        block: dict[str, Any] = {
            "type": "document",
            "source": {"type": "base64" if self.media_type == "application/pdf" else "text",
                       "media_type": self.media_type, "data": self.data},
            "citations": {"enabled": True},
        }
        if self.title:
            block["title"] = self.title
        if self.context:
            block["context"] = self.context
        return [block]

    @classmethod
    def description(cls) -> str:
        return ("A document containing text content that can be referenced and cited. "
                "Include the full text content and optionally a title for proper referencing.")

    @pydantic.model_validator(mode="before")
    @classmethod
    def _validate(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if isinstance(data, str):
            return {"data": data}
        if isinstance(data, dict):
            return data
        raise ValueError(f"Received invalid value for `Document`: {data}")

    def __str__(self) -> str:
        title = f"'{self.title}': " if self.title else ""
        return f"Document({title}{len(self.data)} chars)"


_FENCED = re.compile(r"```(?:[^\n]*)\n(.*?)```", re.DOTALL)
_INLINE = re.compile(r"```(.*?)```", re.DOTALL)


def _strip_fence(code: str) -> str:
    match = _FENCED.search(code) or _INLINE.search(code)
    return match.group(1).strip() if match else code


class Code(Type):
    __doc__ = _media_docs.CODE   # source code; Code["lang"] names the language the LM is told to write

    code: str
    language: ClassVar[str] = "python"

    def format(self) -> str:
        return f"{self.code}"

    @pydantic.model_serializer()
    def serialize_model(self) -> Any:   # bare code: no custom-type markers
        return self.format()

    @classmethod
    def description(cls) -> str:
        return ("Code represented in a string, specified in the `code` field. If this is an output field, the code "
                f"field should follow the markdown code block format, e.g. \n```{cls.language.lower()}\n{{code}}\n```"
                f"\nProgramming language: {cls.language}")

    @pydantic.model_validator(mode="before")
    @classmethod
    def _validate(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if isinstance(data, str):
            return {"code": _strip_fence(data)}
        if isinstance(data, dict):
            if "code" not in data:
                raise ValueError("`code` field is required for `dspy.Code`")
            if not isinstance(data["code"], str):
                raise ValueError(f"`code` field must be a string, but received type: {type(data['code'])}")
            return {"code": _strip_fence(data["code"])}
        raise ValueError(f"Received invalid value for `dspy.Code`: {data}")

    def __class_getitem__(cls, language: str) -> type["Code"]:  # type: ignore[override]
        made = pydantic.create_model(f"{cls.__name__}_{language}", __base__=cls)
        made.language = language
        return made
