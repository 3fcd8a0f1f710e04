"""A native agent's tool calls as DSPy's tool callbacks see them, while a routed module runs natively.

DSPy's ``Tool.__call__`` / ``acall`` carry ``with_callbacks``: every tool call a DSPy agent makes (ReAct's
``finish`` and ReActV2's ``submit`` included) fires ``on_tool_start`` / ``on_tool_end`` on DSPy's configured
callbacks and the tool's own, with the ``dspy.Tool`` as ``instance`` and ``{"kwargs": {...}}`` as ``inputs``
(``dspy.streamify``'s tool status messages come from there). A native agent calls native Tools; inside a routed
module's native call, where DSPy's books are kept (module, adapter and LM events), its run calls them through
:func:`agent_tools`, which fires the same events around the same call, naming the ``dspy.Tool`` DSPy would name:

* the one the DSPy twin of the agent holds under that name: what DSPy's ``__init__`` built from the same
  arguments (a user's ``dspy.Tool`` itself, DSPy's wrapper of a plain function, its ``finish`` / ``submit``);
* else the ``dspy.Tool`` the native tool was read from (``dspex.types.Tool._origin``);
* else one built from the native tool the first time callbacks want it (DSPy wraps a callable in a ``dspy.Tool``).

The call itself is the native tool's ``_invoke`` / ``_ainvoke``, so a failing tool's traceback keeps DSPy's depth
(caller, callbacks wrapper, ``__call__``, the function) whether callbacks are set or not. Outside a routed native
call (a plain native agent, a shadow candidate) nothing is reported, as for module and adapter events.
"""

from __future__ import annotations

import inspect
import uuid
import weakref
from typing import Any

import dspy
import dspy.utils.callback_context as callback_context
from dspy.utils.callback import logger as callback_logger

from dspex import hooks
from dspex.types import Tool

from ._precedence import _callbacks, own_attr

__all__ = ["agent_tools", "dspy_tool_for"]

_ROOT = hooks.native_root
_ACTIVE_CALL_ID = callback_context.ACTIVE_CALL_ID
_CALL, _ACALL = Tool.__call__, Tool.acall
_DSPY_CALL, _DSPY_ACALL = dspy.Tool.__call__.__wrapped__, dspy.Tool.acall.__wrapped__   # DSPy's undecorated methods
_built: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def agent_tools(agent: Any) -> Any:
    """The agent's ``tools`` (outside a routed native call), or a view of them whose calls report to callbacks."""
    if _ROOT.get() is None:
        return agent.tools
    return _RunTools(agent, _twin_tools(agent))


def _twin_tools(agent: Any) -> dict[str, Any]:
    """The ``tools`` of the agent's DSPy twin: the sub-module the router paired it with, or the routed module itself
    when the agent is its engine (its ``react`` predictor is paired with the routed module's ``react``)."""
    twin = getattr(agent, "_dspex_twin", None)
    if twin is None:
        root = _ROOT.get()[0]
        mine = getattr(agent.__dict__.get("react"), "_dspex_twin", None)
        if mine is not None and own_attr(root, "react") is mine:
            twin = root
    tools = None if twin is None else own_attr(twin, "tools")
    return tools if isinstance(tools, dict) else {}


class _RunTools:
    """``tools[name]`` for one run: the agent's tool of that name (read on each call, as DSPy reads ``self.tools``),
    reporting its call."""

    __slots__ = ("agent", "faces")

    def __init__(self, agent: Any, faces: dict[str, Any]) -> None:
        self.agent, self.faces = agent, faces

    def __getitem__(self, name: str) -> "_Reported":
        tool = self.agent.tools[name]
        face = self.faces.get(name)
        if not isinstance(face, dspy.Tool):
            origin = getattr(tool, "_origin", None)
            face = origin if isinstance(origin, dspy.Tool) else None
        return _Reported(tool, face)


def dspy_tool_for(tool: Any) -> Any:
    """The ``dspy.Tool`` a native tool stands for in DSPy's books (a trace entry's inputs), by the same rule as the
    callbacks' ``instance``: the routed agent's own tool of that name, else the one it was read from, else one
    made once from it."""
    active = _ROOT.get()
    if active is not None:
        try:
            tools = own_attr(active[0], "tools")
        except AttributeError:
            tools = None
        face = tools.get(tool.name) if isinstance(tools, dict) else None
        if isinstance(face, dspy.Tool):
            return face
    origin = getattr(tool, "_origin", None)
    return origin if isinstance(origin, dspy.Tool) else _face(tool)


def _face(tool: Any) -> Any:
    """A ``dspy.Tool`` standing for a native tool no DSPy object stands for, made once per tool: what DSPy's
    ``Tool(func)`` holds (native tools infer name, description and schemas as DSPy does), without inferring it again
    (a shadow replay's tool has no function to infer from)."""
    face = _built.get(tool)
    if face is None:
        face = dspy.Tool.model_construct(func=tool.func, name=tool.name, desc=tool.desc, args=tool.args,
                                         arg_types=tool.arg_types, arg_desc=tool.arg_desc, has_kwargs=tool.has_kwargs)
        _built[tool] = face
    return face


class _Reported:
    """One tool call, wrapped as DSPy's ``with_callbacks`` wraps ``dspy.Tool.__call__`` / ``acall``: an argument named
    ``instance`` collides with the wrapper's own parameter; with callbacks set, the inputs are what
    ``inspect.getcallargs`` makes of DSPy's method (so an argument named ``self`` fails there, with its message)."""

    __slots__ = ("tool", "face")

    def __init__(self, tool: Any, face: Any) -> None:
        self.tool, self.face = tool, face

    def __call__(self, /, **kwargs: Any) -> Any:
        if "instance" in kwargs:
            raise TypeError("Tool.__call__() got multiple values for argument 'instance'")
        tool = self.tool
        own = type(tool).__call__ is not _CALL   # a subclass's own call (shadow's replay): one frame deeper
        callbacks = _active(self.face)
        if not callbacks:
            if "self" in kwargs:
                raise TypeError("Tool.__call__() got multiple values for argument 'self'")
            return tool(**kwargs) if own else tool._invoke(kwargs)
        call_id = uuid.uuid4().hex
        _start(callbacks, _face(tool) if self.face is None else self.face, _DSPY_CALL, call_id, kwargs)
        parent = _ACTIVE_CALL_ID.get()   # set right before the call, as DSPy does, and put back after it
        _ACTIVE_CALL_ID.set(call_id)
        results = exception = None
        try:
            results = tool(**kwargs) if own else tool._invoke(kwargs)
            return results
        except BaseException as exc:
            exception = exc
            raise
        finally:
            _ACTIVE_CALL_ID.set(parent)
            _end(callbacks, call_id, results, exception, "__call__")

    async def acall(self, /, **kwargs: Any) -> Any:
        if "instance" in kwargs:
            raise TypeError("Tool.acall() got multiple values for argument 'instance'")
        tool = self.tool
        own = type(tool).acall is not _ACALL
        callbacks = _active(self.face)
        if not callbacks:
            if "self" in kwargs:
                raise TypeError("Tool.acall() got multiple values for argument 'self'")
            return await (tool.acall(**kwargs) if own else tool._ainvoke(kwargs))
        call_id = uuid.uuid4().hex
        _start(callbacks, _face(tool) if self.face is None else self.face, _DSPY_ACALL, call_id, kwargs)
        parent = _ACTIVE_CALL_ID.get()
        _ACTIVE_CALL_ID.set(call_id)
        results = exception = None
        try:
            results = await (tool.acall(**kwargs) if own else tool._ainvoke(kwargs))
            return results
        except BaseException as exc:
            exception = exc
            raise
        finally:
            _ACTIVE_CALL_ID.set(parent)
            _end(callbacks, call_id, results, exception, "acall")


def _active(face: Any) -> list[Any]:
    """DSPy's configured callbacks, then the tool's own (``getattr(instance, "callbacks", [])``): a plain
    ``dspy.Tool`` has none (it has no such field and takes no extra attributes), only a subclass may."""
    return _callbacks(None if face is None or type(face) is dspy.Tool else face)


def _start(callbacks: list[Any], face: Any, method: Any, call_id: str, kwargs: dict[str, Any]) -> None:
    inputs = inspect.getcallargs(method, face, **kwargs)   # DSPy's inputs: {"kwargs": {...}} once self is dropped
    inputs.pop("self", None)
    for callback in callbacks:
        try:
            callback.on_tool_start(call_id=call_id, instance=face, inputs=inputs)
        except Exception as e:  # noqa: BLE001 - DSPy logs a failing callback and goes on
            callback_logger.warning(f"Error when calling callback {callback}: {e}")


def _end(callbacks: list[Any], call_id: str, results: Any, exception: BaseException | None, method: str) -> None:
    for callback in callbacks:
        try:
            callback.on_tool_end(call_id=call_id, outputs=results, exception=exception)
        except Exception as e:  # noqa: BLE001
            callback_logger.warning(
                f"Error when applying callback {callback}'s end handler on function {method}: {e}."
            )
