"""DSPy 3.4.1's ChatAdapter, JSONAdapter, XMLAdapter and TwoStepAdapter, natively: same messages byte for byte, same parsing and errors.

Importing this package loads only the standard library; pydantic and json_repair are imported on first need.
"""

from .chat import ChatAdapter
from ._plan import field_descriptions
from ._turn_memo import remember_turns
from ._values import format_field_value
from .json_adapter import JSONAdapter
from .two_step import TwoStepAdapter
from .xml_adapter import XMLAdapter

__all__ = ["ChatAdapter", "JSONAdapter", "XMLAdapter", "TwoStepAdapter", "format_field_value", "field_descriptions",
           "remember_turns"]
