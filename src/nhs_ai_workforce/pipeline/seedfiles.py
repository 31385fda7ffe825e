"""Reading a seed file's bytes into rows, naming every byte and character that cannot be data.

A seed file must be UTF-8 text without control characters (tab and line breaks excepted). A
byte that is not UTF-8 is reported with its line, its column and its offset in the file; a
control character (such as NUL) with its line, column and place in the cell. The rows are still
returned, with the bad bytes and characters replaced, so one run reports every problem.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from .cells import control_character
from .errors import Problem
from .locations import Location

#: What stands in for a byte that is not UTF-8, once it has been reported.
REPLACEMENT = "\ufffd"


def _bad_bytes(raw: bytes) -> list[int]:
    """The offsets of the bytes of ``raw`` that are not UTF-8, in order."""
    offsets: list[int] = []
    start = 0
    while True:
        try:
            raw[start:].decode("utf-8")
            return offsets
        except UnicodeDecodeError as error:
            offsets.extend(range(start + error.start, start + error.end))
            start += error.end


def _escaped(char: str) -> bool:
    return "\udc80" <= char <= "\udcff"


@dataclass
class SeedText:
    """A seed file decoded with each undecodable byte kept as a stand-in (``surrogateescape``)."""

    name: str
    raw: bytes
    text: str
    bad: list[int]  # offsets of the bytes that are not UTF-8, in file order
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path, name: str) -> SeedText:
        raw = path.read_bytes()
        return cls(name, raw, raw.decode("utf-8", errors="surrogateescape"), _bad_bytes(raw))

    def line_of(self, offset: int) -> int:
        return self.raw.count(b"\n", 0, offset) + 1

    def clean(self, cell: str, line: int, column: str | None) -> str:
        """``cell`` with bad bytes and control characters reported (once per cell) and replaced."""
        escaped = sum(1 for char in cell if _escaped(char))
        if escaped:
            taken, self.bad = self.bad[:escaped], self.bad[escaped:]
            offset = taken[0]
            more = f" and {escaped - 1} more byte(s)" if escaped > 1 else ""
            self.problems.append(Problem(
                Location(self.name, self.line_of(offset), column),
                f"not UTF-8 at byte {offset} (0x{self.raw[offset]:02x}){more}; save the file as UTF-8"))
            cell = "".join(REPLACEMENT if _escaped(char) else char for char in cell)
        wrong = control_character(cell)
        if wrong:
            self.problems.append(Problem(Location(self.name, line, column),
                                         f"{wrong}; remove it (only tabs and line breaks are allowed)"))
            cell = "".join(char for char in cell if control_character(char) is None)
        return cell


@dataclass
class SeedRows:
    """A CSV seed table: its header, its rows with their line numbers, and what is wrong."""

    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    problems: list[Problem]


def read_csv(path: Path, name: str, *, delimiter: str = ",") -> SeedRows:
    """The rows of a CSV seed table; each row's line is where it ends (the header is line 1).

    :raises OSError: if the file cannot be read.
    """
    seed = SeedText.read(path, name)
    reader = csv.reader(io.StringIO(seed.text, newline=""), delimiter=delimiter)
    header: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not header:
                header = [seed.clean(cell, line, cell or None) for cell in cells]
                continue
            if not cells:
                continue
            named = [header[i] if i < len(header) else None for i in range(len(cells))]
            values = [seed.clean(cell, line, column) for cell, column in zip(cells, named, strict=True)]
            if len(values) > len(header) and any(v.strip() for v in values[len(header):]):
                seed.problems.append(Problem(Location(name, line, None),
                                             f"the row has {len(values)} cells but the header names "
                                             f"{len(header)} columns"))
            rows.append((line, dict(zip(header, values, strict=False))))
    except csv.Error as error:
        seed.problems.append(Problem(Location(name, reader.line_num, None), f"not readable as CSV: {error}"))
    return SeedRows(header, rows, seed.problems)


def check_lines(path: Path, name: str, *, delimiter: str = "\t", comment: str = "#") -> list[Problem]:
    """Bad bytes and control characters in a line-based table (such as SSSOM/TSV), by line.

    The column is named from the first line not starting with ``comment`` (the header).

    :raises OSError: if the file cannot be read.
    """
    seed = SeedText.read(path, name)
    header: list[str] | None = None
    for number, line in enumerate(seed.text.split("\n"), start=1):
        line = line.removesuffix("\r")
        cells = line.split(delimiter)
        if header is None and not line.startswith(comment):
            header = [cell for cell in cells]
            names = [None] * len(cells)
        else:
            names = [header[i] if header and i < len(header) and not line.startswith(comment) else None
                     for i in range(len(cells))]
        for cell, column in zip(cells, names, strict=True):
            seed.clean(cell, number, column)
    return seed.problems
