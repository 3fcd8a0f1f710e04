"""dspex's pytest plugin (entry point ``pytest11``): prove your own module types at parity in your own suite.

* ``dspex_parity`` fixture: ``check(dspy_factory, native_factory, inputs, script)`` returns the harness's
  :class:`~dspex.parity.harness.ParityResult`; ``assert_parity(...)`` raises with a readable diff; ``prove(
  ParityModule, examples=...)`` runs a whole Hypothesis property with shrinking; ``strategies`` is
  :mod:`dspex.parity.strategies`; ``chat_answer(answer="42")`` writes an LM completion in ChatAdapter's format.
* ``@pytest.mark.dspex_parity("my_rag")`` marks a test as parity evidence for module type ``my_rag``; with
  ``--dspex-parity-report PATH`` the outcomes become a parity report (per DSPy version) that ``dspex flags
  check --parity PATH`` and ``dspex status --parity PATH`` read.

Every pytest run in an environment with dspex installed loads this module, so it imports only pytest and the
standard library here; dspy, Hypothesis and the harness are imported when a test asks for them.
"""

from __future__ import annotations

import datetime
import importlib
from pathlib import Path
from typing import Any, Callable, Sequence

import pytest

__all__ = ["ParityChecker", "dspex_parity", "strategies", "ParityModule", "ScriptedLM", "Raise"]

_LAZY = {
    "strategies": ("dspex.parity.strategies", None),
    "ParityModule": ("dspex.gate._modules", "ParityModule"),
    "ScriptedLM": ("dspex.parity.scripted_lm", "ScriptedLM"),
    "Raise": ("dspex.parity.scripted_lm", "Raise"),
}
_MARKER = "dspex_parity"


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)


class ParityChecker:
    """The ``dspex_parity`` fixture: dspex's differential harness, ready for a user's module pair."""

    def __getattr__(self, name: str) -> Any:   # strategies, ParityModule, ScriptedLM, Raise
        if name in _LAZY:
            return globals()["__getattr__"](name)
        raise AttributeError(name)

    def check(self, dspy_factory: Callable[[], Any], native_factory: Callable[[], Any], inputs: dict[str, Any],
              script: Sequence[Any] = (), **options: Any) -> Any:
        """Run both modules on ``inputs`` with a scripted LM answering ``script``; the ParityResult (never raises)."""
        from .harness import run_pair

        return run_pair(dspy_factory, native_factory, inputs, script, **options)

    def assert_parity(self, dspy_factory: Callable[[], Any], native_factory: Callable[[], Any],
                      inputs: dict[str, Any], script: Sequence[Any] = (), **options: Any) -> Any:
        result = self.check(dspy_factory, native_factory, inputs, script, **options)
        if not result.ok:
            raise AssertionError(result.report())
        return result

    def prove(self, module: Any, examples: int = 50, seed: int = 0) -> Any:
        """Run a :class:`ParityModule`'s property the way ``dspex parity`` does; raise with the shrunk case."""
        from ._targets import user_target
        from .runner import _quiet_dspy, prove

        with _quiet_dspy():
            result = prove(user_target(module), examples, seed)
        if not result.proven:
            failure = result.failure or {}
            raise AssertionError(f"{module.module_type} is not at parity ({result.status}, seed {seed}):\n"
                                 f"{failure.get('case', '')}\n{failure.get('diff', result.note)}")
        return result

    @staticmethod
    def chat_answer(**fields: Any) -> str:
        """One completion in ChatAdapter's format: ``[[ ## name ## ]]`` sections then the completed marker."""
        body = "\n\n".join(f"[[ ## {name} ## ]]\n{value}" for name, value in fields.items())
        return f"{body}\n\n[[ ## completed ## ]]"


@pytest.fixture(scope="session")
def dspex_parity() -> ParityChecker:
    """dspex's parity harness: ``check``/``assert_parity``/``prove``, ``strategies``, ``chat_answer``.

    Session-scoped (it holds no state) so ``@given`` tests can use it without Hypothesis' fixture health check.
    """
    return ParityChecker()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dspex")
    group.addoption("--dspex-parity-report", default=None, metavar="PATH",
                    help="write a dspex parity report from tests marked @pytest.mark.dspex_parity(module_type)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{_MARKER}(module_type): this test is parity evidence for module_type "
                                       "(recorded with --dspex-parity-report)")
    path = config.getoption("--dspex-parity-report", default=None)
    if path:
        config.pluginmanager.register(_Recorder(Path(path)), "dspex-parity-recorder")


class _Recorder:
    """Collects marked tests' outcomes per module type and writes them as a parity report at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.module_of: dict[str, str] = {}
        self.passed: dict[str, int] = {}
        self.failures: dict[str, list[tuple[str, str]]] = {}
        self.started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker(_MARKER)
            if marker is not None and marker.args:
                self.module_of[item.nodeid] = str(marker.args[0])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        module = self.module_of.get(report.nodeid)
        if module is None:
            return
        self.passed.setdefault(module, 0)
        if report.failed or (report.skipped and report.when == "call"):
            self.failures.setdefault(module, []).append((report.nodeid, str(report.longrepr)[-4000:]))
        elif report.when == "call" and report.passed:
            self.passed[module] += 1

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from dspex.gate import ModuleResult, ParityReport
        from dspex.environment import dspex_version, dspy_version

        report = ParityReport(dspy_version(), dspex_version(), None, 0, self.started)
        if self.path.exists():
            previous = ParityReport.read(self.path)
            if previous.dspy_version == report.dspy_version:
                report.modules.update(previous.modules)
        for module, passed in self.passed.items():
            failures = self.failures.get(module, [])
            result = ModuleResult(module, "failed" if failures or not passed else "proven", "pytest",
                                  examples_run=passed, note=f"{passed} passing test(s) marked {_MARKER}")
            if failures:
                nodeid, text = failures[0]
                result.failure = {"kind": "test failed or skipped", "case": nodeid, "diff": text,
                                  "first_failing_example": None}
            report.modules[module] = result
        report.write(self.path)
