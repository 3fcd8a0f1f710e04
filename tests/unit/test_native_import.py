"""``import dspex.native`` stays light: no dspy, pydantic, json_repair or HTTP stack until they are needed."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["dspy", "pydantic", "json_repair", "litellm", "http.client", "logging", "dspex.adapters", "dspex.lm"]


def modules_after(code: str) -> dict[str, bool]:
    script = f"import sys, json\n{code}\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_loads_nothing_heavy() -> None:
    loaded = modules_after("import dspex.native")
    assert not any(loaded.values()), {k: v for k, v in loaded.items() if v}


def test_calling_a_module_still_skips_dspy_and_pydantic() -> None:
    code = (
        "import dspex.native as n\n"
        "lm = lambda messages, **kw: ['[[ ## answer ## ]]\\n4\\n\\n[[ ## completed ## ]]']\n"
        "p = n.Predict('question -> answer')(question='2+2?', lm=lm)\n"
        "assert p.answer == '4', p\n"
        "c = n.ChainOfThought('question -> answer')\n"
    )
    loaded = modules_after(code)
    assert loaded["dspy"] is False and loaded["pydantic"] is False and loaded["litellm"] is False
    assert loaded["dspex.adapters"] is True  # loaded on first call, not on import


def test_lazy_exports_resolve() -> None:
    import dspex.native as native
    from dspex.adapters import ChatAdapter, JSONAdapter
    from dspex.errors import AdapterParseError
    from dspex.lm import LM

    assert native.ChatAdapter is ChatAdapter and native.JSONAdapter is JSONAdapter
    assert native.LM is LM and native.AdapterParseError is AdapterParseError
    assert set(native.__all__) == {
        "Signature", "InputField", "OutputField", "Module", "Predict", "ChainOfThought", "Prediction", "Completions",
        "ChatAdapter", "JSONAdapter", "LM", "AdapterParseError", "settings", "ReAct", "ReActV2", "Tool", "ToolCalls",
        "ToolCallResults", "History", "XMLAdapter", "TwoStepAdapter", "MultiChainComparison", "BestOfN", "Refine",
        "Parallel", "majority", "Majority", "Image", "Audio", "File", "Document", "Code",
    }
    for name in native.__all__:
        assert getattr(native, name) is not None
    try:
        native.Nope  # noqa: B018
    except AttributeError as exc:
        assert "Nope" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("unknown attribute did not raise")
