"""``History`` and ``Reasoning``, as DSPy 3.4.1 defines them (pydantic models, imported on first use)."""

from __future__ import annotations

from typing import Any

import pydantic

from ._base import Type

__all__ = ["History", "Reasoning"]


class History(pydantic.BaseModel):
    """A conversation so far: each message is a dict keyed by the signature's field names.

    A signature input typed ``History`` is rendered as earlier user/assistant turns (inputs in the user message,
    outputs in the assistant's), then the current request, exactly as DSPy renders ``dspy.History``.
    """

    messages: list[dict[str, Any]]

    model_config = pydantic.ConfigDict(frozen=True, str_strip_whitespace=True, validate_assignment=True, extra="forbid")


class Reasoning(Type):
    # The docstring is DSPy's, word for word: pydantic puts it in the JSON schema sent as a structured-output
    # ``response_format``, which must be the same request on both sides.
    """Reasoning type in DSPy.

    This type is useful when you want the DSPy output to include the reasoning of the LM. We build this type so that
    DSPy can support the reasoning model and non-reasoning model with the same code.

    This is a str-like type, you can convert a string directly to a Reasoning object, and from DSPy adapters'
    perspective, `Reasoning` is treated as a string.
    """

    content: str

    def format(self) -> str:
        return f"{self.content}"

    @pydantic.model_validator(mode="before")
    @classmethod
    def validate_input(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if isinstance(data, str):
            return {"content": data}
        if isinstance(data, dict):
            if "content" not in data:
                raise ValueError("`content` field is required for `dspy.Reasoning`")
            if not isinstance(data["content"], str):
                raise ValueError(f"`content` field must be a string, but received type: {type(data['content'])}")
            return {"content": data["content"]}
        raise ValueError(f"Received invalid value for `dspy.Reasoning`: {data}")

    @classmethod
    def parse_lm_response(cls, response: Any) -> "Reasoning | None":
        """The provider's native reasoning (``reasoning_content`` in a response dict), as DSPy reads it: a text
        response is tested with ``in`` too, so one that mentions ``reasoning_content`` fails as it does there."""
        if "reasoning_content" in response:
            return cls(content=response["reasoning_content"])
        return None

    # str-like, as DSPy's is: compares, concatenates and indexes like its content
    def __repr__(self) -> str:
        return f"{self.content!r}"

    def __str__(self) -> str:
        return self.content

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Reasoning):
            return self.content == other.content
        if isinstance(other, str):
            return self.content == other
        return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self.content)

    def __getitem__(self, key: Any) -> Any:
        return self.content[key]

    def __contains__(self, item: Any) -> bool:
        return item in self.content

    def __iter__(self) -> Any:  # type: ignore[override]
        return iter(self.content)

    def __add__(self, other: Any) -> Any:
        if isinstance(other, Reasoning):
            return Reasoning(content=self.content + other.content)
        if isinstance(other, str):
            return self.content + other
        return NotImplemented

    def __radd__(self, other: Any) -> Any:
        if isinstance(other, str):
            return other + self.content
        if isinstance(other, Reasoning):
            return Reasoning(content=other.content + self.content)
        return NotImplemented

    def __getattr__(self, name: str) -> Any:
        if hasattr(str, name):
            return getattr(self.content, name)
        raise AttributeError(
            f"`{type(self).__name__}` object has no attribute '{name}'. "
            f"If you are using `dspy.ChainOfThought`, note that the 'reasoning' field in ChainOfThought is now a "
            "`dspy.Reasoning` object (not a plain string). "
            f"You can convert it to a string with str(reasoning) or access the content with reasoning.content."
        )
