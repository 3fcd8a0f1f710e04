"""dspex.shadow.tracebacks: library frames leave an observation's traceback, the user's frames stay."""

from __future__ import annotations

import dspy

from dspex.shadow.tracebacks import library_roots, normalize_value, strip_library_frames

DSPY_ROOT = next(r for r in library_roots() if "dspy" in r)
DSPEX_ROOT = library_roots()[0]

TEXT = f'''Execution error in tool: 
Traceback (most recent call last):
  File "{DSPY_ROOT}predict/react.py", line 113, in forward
    trajectory[f"observation_{{idx}}"] = self.tools[pred.next_tool_name](**pred.next_tool_args)
                                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "{DSPEX_ROOT}types/_tool.py", line 150, in _invoke
    result = self.func(**parsed)
  File "/home/user/app/tools.py", line 9, in search
    raise ToolFailure("down")
dspy.utils.exceptions.ContextWindowExceededError: [m] too long
app.ToolFailure: down
    indented message line'''


def test_library_frames_go_user_frames_stay():
    out = strip_library_frames(TEXT)
    assert "react.py" not in out and "_tool.py" not in out and "^^^" not in out
    assert '  File "/home/user/app/tools.py", line 9, in search\n    raise ToolFailure("down")' in out
    assert "<library>.ContextWindowExceededError: [m] too long" in out
    assert "app.ToolFailure: down\n    indented message line" in out


def test_text_without_a_traceback_is_untouched():
    text = '  File "/x/dspy/a.py", line 1, in f\ndspy.Foo: bar'
    assert strip_library_frames(text) is text


def test_values_are_normalised_inside_containers():
    value = {"observation_0": TEXT, "args": [TEXT, 1], "t": (TEXT,)}
    out = normalize_value(value)
    assert out["observation_0"] == out["args"][0] == out["t"][0] == strip_library_frames(TEXT)
    assert out["args"][1] == 1


def test_dspy_root_is_found_without_importing_dspy():
    assert DSPY_ROOT.rstrip("/").endswith("dspy") and dspy.__file__.startswith(DSPY_ROOT)
