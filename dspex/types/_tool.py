"""``Tool``: a function an agent may call, described the way DSPy 3.4.1's ``dspy.Tool`` describes it.

Name, description and per-argument JSON schemas are inferred from the function (docstring, type hints,
defaults) exactly as DSPy infers them, so the tool list an LM reads is the same text; calling validates and
converts the LM's arguments with DSPy's errors (see ``_args``). A ``dspy.Tool`` is read through its attributes
(:func:`as_tool`), never by importing dspy.

The call path keeps DSPy's depth on purpose: ``__call__`` -> ``_invoke`` -> the function is as deep as DSPy's
``__call__`` wrapper -> ``__call__`` -> the function, so an error's traceback (which ReAct shows the LM, five
frames deep) holds the same frames of the user's own code on both sides. ``_invoke`` / ``_ainvoke`` (the call
after the keyword check) are also what DSPy's side calls when it reports an agent's tool call to DSPy's tool
callbacks in place of ``__call__`` (``dspex.dspy_backend``), at the same depth.

An async tool called on the sync path fails as DSPy's does, unless DSPy's ``allow_tool_async_sync_conversion``
setting is on in a program that has loaded DSPy (read through :mod:`dspex.hooks`): then it runs to completion in
a fresh event loop, or fails with DSPy's other message inside a running one.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Callable

from .. import hooks
from ._args import check_against_schema, needs_conversion, plainly_valid, wrapper_for

__all__ = ["Tool", "as_tool", "is_tool_like"]

_ASYNC_IN_SYNC = (
    "You are calling `__call__` on an async tool, please use `acall` instead or enable async-to-sync conversion "
    "with `dspy.configure(allow_tool_async_sync_conversion=True)` or "
    "`with dspy.context(allow_tool_async_sync_conversion=True):`."
)
_IN_RUNNING_LOOP = (
    "You are calling `__call__` on an async tool from within a running event loop, which cannot be converted to a "
    "sync call, even with `allow_tool_async_sync_conversion` enabled. Please use `await tool.acall(...)` instead."
)


class Tool:
    """``Tool(func, name=None, desc=None, args=None, arg_types=None, arg_desc=None)``; what is not given is
    inferred from ``func``."""

    # The ``dspy.Tool`` this one was read from (:meth:`from_tool_like`), else None: the object DSPy's tool
    # callbacks are told about when DSPy's side reports a call of this tool.
    _origin: Any = None

    def __init__(
        self,
        func: Callable[..., Any],
        name: str | None = None,
        desc: str | None = None,
        args: dict[str, Any] | None = None,
        arg_types: dict[str, Any] | None = None,
        arg_desc: dict[str, str] | None = None,
    ) -> None:
        if not callable(func):
            from ..errors import ToolError

            raise ToolError(f"Tool(func=...) needs a callable (a function, method or object with __call__), "
                            f"not {type(func).__name__} {func!r}.")
        self.func = func
        self.name = name
        self.desc = desc
        self.args = args
        self.arg_types = arg_types
        self.arg_desc = arg_desc
        self.has_kwargs = False
        self._parse_function(func, arg_desc)

    def _parse_function(self, func: Callable[..., Any], arg_desc: dict[str, str] | None) -> None:
        import inspect
        from typing import get_type_hints

        from ._schema import arg_schema

        target = func if inspect.isfunction(func) or inspect.ismethod(func) else func.__call__
        name = getattr(func, "__name__", type(func).__name__)
        desc = getattr(func, "__doc__", None) or getattr(target, "__doc__", "")
        sig = inspect.signature(target)
        hints = get_type_hints(target)
        params = sig.parameters
        args: dict[str, Any] = {}
        arg_types: dict[str, Any] = {}
        for k, p in params.items():
            v = hints.get(k, Any)
            arg_types[k] = v
            args[k] = arg_schema(v, p.default, inspect.Parameter.empty, arg_desc, k)
        self.name = self.name or name
        self.desc = self.desc or desc
        self.args = self.args if self.args is not None else args
        self.arg_types = self.arg_types if self.arg_types is not None else arg_types
        self.has_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())

    @classmethod
    def from_tool_like(cls, other: Any) -> "Tool":
        """A native copy of a ``dspy.Tool`` (or any object with its attributes), without re-inferring anything."""
        tool = cls.__new__(cls)
        tool.func = other.func
        tool.name = other.name
        tool.desc = other.desc
        tool.args = other.args
        tool.arg_types = other.arg_types
        tool.arg_desc = getattr(other, "arg_desc", None)
        tool.has_kwargs = bool(getattr(other, "has_kwargs", False))
        tool._origin = other._origin if isinstance(other, Tool) else other
        return tool

    # --- what the LM reads --------------------------------------------------------------------------------------
    def format(self) -> str:
        return str(self)

    def format_as_litellm_function_call(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry for native function calling."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.desc,
                "parameters": {
                    "type": "object",
                    "properties": self.args,
                    "required": [k for k in self.args if "default" not in self.args[k]],
                },
            },
        }

    def __repr__(self) -> str:
        return f"Tool(name={self.name}, desc={self.desc}, args={self.args})"

    def __str__(self) -> str:
        desc = f", whose description is <desc>{self.desc}</desc>.".replace("\n", "  ") if self.desc else "."
        return f"{self.name}{desc} It takes arguments {self.args}."

    # --- calling ------------------------------------------------------------------------------------------------
    def _validate_and_parse_args(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        args = self.args
        for k, v in kwargs.items():
            if k not in args:
                if self.has_kwargs:
                    continue
                raise ValueError(f"Arg {k} is not in the tool's args.")
            instance = v.model_dump() if hasattr(v, "model_dump") else v
            schema = args[k]
            type_str = schema.get("type")
            if type_str is not None and type_str != "Any" and not plainly_valid(instance, schema):
                check_against_schema(k, instance, schema)
        parsed: dict[str, Any] = {}
        arg_types = self.arg_types
        for k, v in kwargs.items():
            if k in arg_types and arg_types[k] != Any:
                annotation = arg_types[k]
                parsed[k] = wrapper_for(annotation).model_validate({"value": v}).value \
                    if needs_conversion(annotation, v) else v
            else:
                parsed[k] = v
        return parsed

    def __call__(self, /, **kwargs: Any) -> Any:
        if "instance" in kwargs or "self" in kwargs:
            raise _bound_twice("__call__", kwargs)
        return self._invoke(kwargs)

    def _invoke(self, kwargs: dict[str, Any]) -> Any:
        parsed = self._validate_and_parse_args(kwargs)
        result = self.func(**parsed)
        if isinstance(result, Coroutine):
            if _async_to_sync():
                return self._run_async_in_sync(result)
            raise ValueError(_ASYNC_IN_SYNC)  # left unawaited, as DSPy leaves it (Python then warns)
        return result

    def _run_async_in_sync(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """DSPy's conversion: the coroutine in a fresh event loop; inside a running one, closed, and an error."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # run outside the ``except`` block, so an error of the tool is not chained to this one
        if loop is None:
            return asyncio.run(coroutine)
        coroutine.close()
        raise ValueError(_IN_RUNNING_LOOP)

    async def acall(self, /, **kwargs: Any) -> Any:
        if "instance" in kwargs or "self" in kwargs:
            raise _bound_twice("acall", kwargs)
        return await self._ainvoke(kwargs)

    async def _ainvoke(self, kwargs: dict[str, Any]) -> Any:
        parsed = self._validate_and_parse_args(kwargs)
        result = self.func(**parsed)
        if isinstance(result, Coroutine):
            return await result
        return result  # a sync tool is fine on the async path


def _async_to_sync() -> bool:
    """DSPy's ``allow_tool_async_sync_conversion`` as this thread / task sees it (off without DSPy)."""
    bridge = hooks.current()
    setting = getattr(bridge, "setting", None)
    return bool(setting("allow_tool_async_sync_conversion")) if setting is not None else False


def _bound_twice(method: str, kwargs: dict[str, Any]) -> TypeError:
    """DSPy's TypeError for an argument named like its wrapper's first parameter (``instance``, checked first)
    or like the method's own (``self``): such a tool call fails before the tool runs."""
    name = "instance" if "instance" in kwargs else "self"
    return TypeError(f"Tool.{method}() got multiple values for argument '{name}'")


def is_tool_like(obj: Any) -> bool:
    """A ``dspy.Tool`` or another object carrying a tool's attributes (read without importing dspy)."""
    return not isinstance(obj, Tool) and all(
        hasattr(obj, a) for a in ("func", "name", "desc", "args", "arg_types", "format_as_litellm_function_call")
    )


def as_tool(obj: Any) -> Tool:
    """What DSPy's agents do with each entry of ``tools``: a Tool as is, a ``dspy.Tool`` copied, else ``Tool(obj)``."""
    if isinstance(obj, Tool):
        return obj
    if is_tool_like(obj):
        return Tool.from_tool_like(obj)
    return Tool(obj)
