"""Errors of the build, each naming the file, row and column at fault."""

from __future__ import annotations

from dataclasses import dataclass

from .locations import Location


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data, where it is, and the shape that caught it if any."""

    location: Location
    message: str
    shape: str | None = None

    def __str__(self) -> str:
        shape = f" [{self.shape}]" if self.shape else ""
        return f"{self.location}: {self.message}{shape}"


class DataError(Exception):
    """Data that must not reach the store; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the data")

    def report(self) -> str:
        """One line per problem, in file order."""
        ordered = sorted(self.problems, key=lambda p: (p.location.file, p.location.row))
        return "\n".join(str(p) for p in ordered)


class SeedError(DataError):
    """A seed table that cannot be read: bad cells, unknown columns, dangling keys."""


class BuildFailed(DataError):
    """A build that stopped before replacing the store: unreadable seeds or SHACL violations."""
