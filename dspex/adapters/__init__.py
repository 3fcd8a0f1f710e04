"""DSPy 3.4.1's ChatAdapter and JSONAdapter, natively: same messages byte for byte, same parsing and errors.

Importing this package loads only the standard library; pydantic and json_repair are imported on first need.
"""

from .chat import ChatAdapter
from ._plan import field_descriptions
from ._values import format_field_value
from .json_adapter import JSONAdapter

__all__ = ["ChatAdapter", "JSONAdapter", "format_field_value", "field_descriptions"]
