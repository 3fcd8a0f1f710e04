"""A gate finding: which file, which flag, what is wrong and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    file: str
    flag: str | None            # None: the file as a whole
    message: str                # what is wrong, then what to do
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        from ..cli import shown

        where = f"{shown(self.file)}: flag {self.flag!r}" if self.flag else shown(self.file)
        return f"{self.severity}: {where}: {self.message}"
