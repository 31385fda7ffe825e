"""Reconciling a column of a table: every row back, with the concept and its codes added.

Used by ``aiwf reconcile --csv``. Each distinct title is matched once.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from .candidate import Candidate
from .catalogue import Catalogue
from .matcher import Reconciler

#: The columns added to each row, in order: the best candidate whether or not it is a match
#: (``status`` says which: ``matched``, ``review`` or ``none``), how the title matched it, and
#: the standard codes its curated mappings give it, each with its title.
ADDED_COLUMNS = (
    "status", "concept", "label", "score", "match", "matched_by", "matched_label",
    "soc2020", "soc2020_title", "isco", "isco_title", "esco", "esco_title", "ddat", "ddat_title",
)
#: The code columns, by mapping scheme.
_CODE_SCHEMES = ("soc2020", "isco", "esco", "ddat")


class ColumnError(ValueError):
    """The column to reconcile is not in the table."""


@dataclass
class Table:
    """A CSV table read whole: its dialect, header and rows."""

    fieldnames: list[str]
    rows: list[dict[str, str]]
    dialect: type[csv.Dialect] | csv.Dialect = csv.excel


def read_table(handle: TextIO) -> Table:
    """Read a CSV table; the delimiter (comma, semicolon, tab or bar) is sniffed."""
    text = handle.read()
    if text.startswith("\ufeff"):
        text = text[1:]
    dialect: type[csv.Dialect] | csv.Dialect = csv.excel
    sample = text[:8192]
    if sample.strip():
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        if dialect.delimiter not in ",;\t|":
            dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    fieldnames = list(reader.fieldnames or [])
    rows = [{key: (value if value is not None else "") for key, value in row.items() if key is not None}
            for row in reader]
    return Table(fieldnames, rows, dialect)


def find_column(fieldnames: Sequence[str], wanted: str) -> str:
    """The header naming ``wanted``: exactly, else the only one equal ignoring case and spaces.

    :raises ColumnError: naming the columns found.
    """
    if wanted in fieldnames:
        return wanted
    folded = [name for name in fieldnames if name.strip().casefold() == wanted.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    found = ", ".join(repr(name) for name in fieldnames) or "none"
    raise ColumnError(f"no column {wanted!r} in the input; the columns are: {found}")


def added_names(fieldnames: Sequence[str]) -> list[str]:
    """The names of the added columns, prefixed ``reconciled_`` where the input has them already."""
    return [f"reconciled_{name}" if name in fieldnames else name for name in ADDED_COLUMNS]


@dataclass
class Summary:
    """What a batch came to: rows and distinct titles, and how many rows are matched, to review
    (a best candidate but no match) or with no candidate."""

    rows: int = 0
    distinct: int = 0
    matched: int = 0
    review: int = 0
    none: int = 0
    seconds: float = 0.0

    def text(self) -> str:
        return (f"reconciled {self.rows} row{'' if self.rows == 1 else 's'} "
                f"({self.distinct} distinct) in {self.seconds:.2f} s: {self.matched} matched, "
                f"{self.review} to review (a best candidate, not a match), {self.none} with no candidate")


def reconcile_rows(
    table: Table,
    column: str,
    reconciler: Reconciler,
    *,
    types: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
    summary: Summary | None = None,
) -> Iterator[dict[str, str]]:
    """Each row of ``table`` with the :data:`ADDED_COLUMNS` filled in from its ``column``: the best
    candidate and its codes whether or not it is a match; ``status`` and ``match`` say which.
    Each distinct title is matched once."""
    column = find_column(table.fieldnames, column)
    names = added_names(table.fieldnames)
    types = list(types) if types is not None else None
    cache: dict[str, tuple[str, ...]] = {}
    summary = summary if summary is not None else Summary()
    start = time.perf_counter()
    for number, row in enumerate(table.rows, start=1):
        title = (row.get(column) or "").strip()
        if title not in cache:
            found = reconciler.match(title, types=types, limit=1) if title else []
            cache[title] = _values(found[0] if found else None, reconciler.catalogue)
        values = cache[title]
        out = dict(row)
        out.update(zip(names, values, strict=True))
        summary.rows += 1
        status = values[0]
        if status == "matched":
            summary.matched += 1
        elif status == "review":
            summary.review += 1
        else:
            summary.none += 1
        if progress:
            progress(number)
        yield out
    summary.distinct = len(cache)
    summary.seconds = time.perf_counter() - start


def _values(top: Candidate | None, catalogue: Catalogue) -> tuple[str, ...]:
    """The :data:`ADDED_COLUMNS` for the best candidate (all empty but ``status`` and ``match``
    without one)."""
    if top is None:
        return ("none", "", "", "", "false", *("",) * (len(ADDED_COLUMNS) - 5))
    entity = catalogue.get(top.id)
    codes: list[str] = []
    for scheme in _CODE_SCHEMES:
        code = entity.best(scheme) if entity else None
        shown = (code.id if scheme in ("esco", "ddat") else code.code) if code else ""
        codes += [shown, code.label if code else ""]
    return ("matched" if top.match else "review", top.id, top.name, f"{top.score:.1f}",
            "true" if top.match else "false", top.matched_by or "", top.matched_label or "", *codes)


def write_table(handle: TextIO, table: Table, rows: Iterable[dict[str, str]]) -> None:
    """Write the rows with the input's columns first, then the added ones."""
    fieldnames = [*table.fieldnames, *added_names(table.fieldnames)]
    writer = csv.DictWriter(handle, fieldnames=fieldnames, delimiter=table.dialect.delimiter,
                            quotechar=table.dialect.quotechar or '"', lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)


class Progress:
    """A one-line progress bar on a terminal, or a line every tenth of the way elsewhere."""

    def __init__(self, total: int, stream: TextIO | None = None, *, label: str = "reconciling") -> None:
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.label = label
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_tenth = -1
        self._last_draw = 0.0

    def __call__(self, done: int) -> None:
        if self.tty:
            now = time.monotonic()
            if done < self.total and now - self._last_draw < 0.1:
                return
            self._last_draw = now
            width = 30
            filled = int(width * done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total} ({100 * done // self.total}%)")
            if done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
            return
        tenth = 10 * done // self.total
        if tenth > self._last_tenth and (tenth > 0 or done == self.total):
            self._last_tenth = tenth
            self.stream.write(f"{self.label}: {done}/{self.total} ({100 * done // self.total}%)\n")
            self.stream.flush()
