"""The build: seed tables -> RDF -> inferred triples -> SHACL validation -> dumps and store.

Nothing is published unless every step succeeds: bad seeds or SHACL violations raise
:class:`BuildFailed` and leave the live store and ``data/`` exactly as they were.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox
from rdflib import Dataset

from ..core.namespaces import ProjectNamespaces
from ..core.settings import Settings
from . import dumps, store
from .errors import BuildFailed, Problem, SeedError
from .terms import graph_label, oxigraph_quads


class Report(Protocol):
    """What the build needs from a validation report."""

    conforms: bool
    problems: list[Problem]
    warnings: list[Problem]
    text: str


@dataclass(frozen=True)
class Steps:
    """The data steps of a build; tests may pass their own."""

    convert: Callable[[Settings], Any]
    materialise: Callable[[Dataset, ProjectNamespaces], int]
    validate: Callable[[Dataset, Settings, dict], Report]


def default_steps() -> Steps:
    """The real conversion, inference and validation."""
    from .convert import convert_seeds
    from .inference import materialise
    from .validation import validate

    return Steps(convert=convert_seeds, materialise=materialise, validate=validate)


@dataclass
class BuildResult:
    """What a build produced and how long each phase took."""

    build_id: str
    store_dir: Path
    timings: dict[str, float] = field(default_factory=dict)
    graph_counts: dict[str, int] = field(default_factory=dict)
    inferred: int = 0
    warnings: list[Problem] = field(default_factory=list)
    dumps: list[Path] = field(default_factory=list)

    @property
    def total_quads(self) -> int:
        """Quads loaded into the store (a triple in two graphs counts twice)."""
        return sum(self.graph_counts.values())


@contextmanager
def _timed(timings: dict[str, float], phase: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = time.perf_counter() - start


def _prepare(settings: Settings, steps: Steps, timings: dict[str, float]) -> tuple[Any, int]:
    """Convert and infer; :class:`SeedError` becomes :class:`BuildFailed`."""
    ns = ProjectNamespaces(settings.base)
    with _timed(timings, "convert"):
        try:
            converted = steps.convert(settings)
        except SeedError as error:
            raise BuildFailed(error.problems) from error
    with _timed(timings, "inference"):
        inferred = steps.materialise(converted.dataset, ns)
    return converted, inferred


def validate_only(settings: Settings, *, steps: Steps | None = None) -> Report:
    """Convert, infer and validate without writing anything.

    :raises BuildFailed: if the seed tables cannot be read.
    """
    steps = steps or default_steps()
    converted, _ = _prepare(settings, steps, {})
    return steps.validate(converted.dataset, settings, converted.locations)


def build(
    settings: Settings, *, write_dumps: bool = True, steps: Steps | None = None
) -> BuildResult:
    """Build, validate and publish the graph; the new store replaces the live one atomically.

    :raises BuildFailed: with every problem, if the seeds are unreadable or SHACL finds
        violations; the live store and ``data/`` are then untouched.
    """
    steps = steps or default_steps()
    timings: dict[str, float] = {}
    converted, inferred = _prepare(settings, steps, timings)
    dataset = converted.dataset
    with _timed(timings, "validation"):
        report = steps.validate(dataset, settings, converted.locations)
    if not report.conforms:
        raise BuildFailed(report.problems)

    with store.build_lock(settings):
        with _timed(timings, "store"):
            quads = list(oxigraph_quads(dataset))
            new_dir = store.load_store(quads, settings)
        try:
            written: list[Path] = []
            if write_dumps:
                with _timed(timings, "dumps"):
                    written = dumps.write_dumps(dataset, settings)
            with _timed(timings, "swap"):
                store.swap_in(new_dir, settings)
        except BaseException:
            store.discard(new_dir, settings)
            raise
    return BuildResult(
        build_id=new_dir.name,
        store_dir=new_dir,
        timings=timings,
        graph_counts=_graph_counts(quads, ProjectNamespaces(settings.base)),
        inferred=inferred,
        warnings=list(report.warnings),
        dumps=written,
    )


def _graph_counts(quads: list[ox.Quad], ns: ProjectNamespaces) -> dict[str, int]:
    counts = Counter(graph_label(quad.graph_name, ns) for quad in quads)
    return dict(sorted(counts.items()))
