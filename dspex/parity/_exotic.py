"""Odd values a caller might pass: user Enums and str/int subclasses, dataclasses, datetimes, Decimals, bytes,
objects with no JSON schema, dicts with non-str keys. Fixed objects, shared by both implementations."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import pathlib
import uuid
from typing import Any

__all__ = ["Color", "Shade", "Level", "Tagged", "Opaque", "Point", "Pair", "exotic_values"]


class Color(enum.Enum):
    """A fixed Enum for odd inputs (a value of a type the field did not ask for)."""

    RED = "red"
    GREEN = "green"


class Shade(str, enum.Enum):
    """A str-mixin Enum: ``isinstance(x, str)`` is true but ``type(x) is str`` is not."""

    DARK = "dark"
    LIGHT = "light «x»"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Tagged(str):
    """A str subclass with its own repr."""

    def __repr__(self) -> str:
        return f"Tagged({str(self)!r})"


class Opaque:
    """An arbitrary object: no JSON schema, custom __str__."""

    def __str__(self) -> str:
        return "<opaque «thing»>"


@dataclasses.dataclass
class Point:
    x: int
    y: float = 0.5


Pair = collections.namedtuple("Pair", ["left", "right"])


def exotic_values() -> list[Any]:
    return [
        datetime.datetime(2024, 2, 29, 13, 5, 7, 123456), datetime.date(1999, 12, 31), datetime.time(23, 59),
        datetime.timedelta(days=1, seconds=3), datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
        decimal.Decimal("1.10"), decimal.Decimal("NaN"), uuid.UUID(int=7), pathlib.PurePosixPath("/tmp/a b"),
        b"bytes \xc3\xa9", b"\xff\xfe", bytearray(b"ba"), 3 + 4j, Shade.DARK, Shade.LIGHT, Level.HIGH, Tagged("tag"),
        Opaque(), Point(1), Pair(1, "b"), {1: "int key", None: "none key", False: "bool key"}, {(1, 2): "tuple key"},
        {2.5: [Point(2)]}, [Shade.DARK, Level.LOW, Color.RED], range(3), frozenset({"a"}), {"nested": {"deep": [None]}},
    ]
