"""Routes calls to real DSPy. Nothing here imports dspy until a call actually goes to DSPy."""

from ._adapter import DSPyAdapter, dspy_version, import_dspy
from ._signature import to_dspy_signature

__all__ = ["DSPyAdapter", "dspy_version", "import_dspy", "to_dspy_signature"]
