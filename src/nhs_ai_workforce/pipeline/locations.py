"""Where a fact came from in the seed tables: file, row and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a seed file; ``row`` is the file's line number (the header is line 1)."""

    file: str
    row: int
    column: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row else self.file
        return f"{where} column {self.column!r}" if self.column else where
