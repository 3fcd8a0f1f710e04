"""The architecture's rules, checked on the source (docs/architecture.md):

* a package is entered through its public ``__init__``: no module imports another package's private module;
* the native side (signature, adapters, native, types, lm) never imports the router, shadow, the gate, the parity
  harness, the CLI or dspy (the bridge to DSPy is loaded by name, by ``dspex.hooks``, once dspy is imported);
* importing ``dspex.native`` loads none of them at run time either;
* no module is over 300 lines.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "dspex"
NATIVE_SIDE = ("signature", "adapters", "native", "types", "lm")
NEVER_FROM_NATIVE = ("dspex.router", "dspex.shadow", "dspex.gate", "dspex.parity", "dspex.cli", "dspex.dspy_backend",
                     "dspy")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (relative imports resolved), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name.startswith("_")]
    return found


def _sources() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def _package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_no_import_reaches_into_another_package_s_private_module(path: Path) -> None:
    here = _package_of(_module_name(path))
    bad = []
    for line, module in _imports(path):
        if not module.startswith("dspex."):
            continue
        parts = module.split(".")
        private = [i for i, part in enumerate(parts) if part.startswith("_") and i >= 2]
        if private and _package_of(module) != here:
            bad.append(f"line {line}: {module}")
    assert not bad, f"{path.name} imports another package's private module; import from its __init__: {bad}"


@pytest.mark.parametrize("path", [p for p in _sources() if _package_of(_module_name(p)).split(".")[-1] in NATIVE_SIDE],
                         ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_the_native_side_never_imports_routing_shadow_gate_or_dspy(path: Path) -> None:
    bad = [f"line {line}: {module}" for line, module in _imports(path)
           if any(module == never or module.startswith(never + ".") for never in NEVER_FROM_NATIVE)]
    assert not bad, f"{path.name} (native side) imports {bad}"


def test_importing_dspex_native_loads_none_of_them() -> None:
    probe = ("import sys, dspex.native, dspex.adapters, dspex.types, dspex.lm\n"
             "heavy = ('dspy.', 'dspex.router', 'dspex.shadow', 'dspex.gate', 'dspex.parity', 'dspex.cli', "
             "'dspex.dspy_backend', 'pydantic', 'openfeature')\n"
             "print(sorted(m for m in sys.modules if m == 'dspy' or m.startswith(heavy)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=ROOT.parent)
    assert out.stdout.strip() == "[]"


def test_the_checker_sees_a_private_import() -> None:
    """The rule above is not vacuous: the scanner resolves relative imports and names private modules."""
    sample = ROOT / "native" / "chain_of_thought.py"
    assert any(module.startswith("dspex.signature") for _, module in _imports(sample))
    assert _package_of("dspex.shadow._job") == "dspex.shadow"


def test_no_module_is_over_300_lines() -> None:
    """Small rooms: a module past 300 lines mixes jobs (docs/architecture.md); split it by job."""
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert not long, f"split these modules by job: {long}"
