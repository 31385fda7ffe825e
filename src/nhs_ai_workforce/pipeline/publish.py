"""Publishing a dataset: infer -> validate -> imports -> load -> dumps -> swap, the one path to a served store.

``aiwf build`` (seed tables), ``POST /update`` (an edited copy of the live store) and ``aiwf import``
(a new classification) all end here. Nothing is published unless every step succeeds: SHACL
violations raise :class:`~.errors.BuildFailed` and leave the live store and ``data/`` exactly as
they were. The rdflib dataset is converted to pyoxigraph quads once, and those quads feed both the
store and the dumps. The imported classifications (:mod:`.imported`) join the seed graphs after
inference and validation, each in its own graph, and reach the dumps only with
``AIWF_DUMP_IMPORTS`` set.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox
from rdflib import Dataset

from ..core.namespaces import ProjectNamespaces
from ..core.settings import Settings
from ..core.terms import graph_label, oxigraph_quads
from ..store import builds, dumps
from ..store import imports as import_records
from .errors import BuildFailed, Problem
from .imported import Attached, Pending, attach, recorded


class Report(Protocol):
    """What publishing needs from a validation report."""

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
    """What a build or update published and how long each phase took."""

    build_id: str
    store_dir: Path
    timings: dict[str, float] = field(default_factory=dict)
    graph_counts: dict[str, int] = field(default_factory=dict)
    inferred: int = 0
    imports: Attached = field(default_factory=Attached)
    warnings: list[Problem] = field(default_factory=list)
    dumps: list[Path] = field(default_factory=list)

    @property
    def total_quads(self) -> int:
        """Quads loaded into the store (a triple in two graphs counts twice)."""
        return sum(self.graph_counts.values())


@contextlib.contextmanager
def timed(timings: dict[str, float], phase: str) -> Iterator[None]:
    """Record how long the ``with`` block took as ``timings[phase]`` (seconds)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = time.perf_counter() - start


def check(
    dataset: Dataset, settings: Settings, *, steps: Steps, locations: dict | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[int, Report]:
    """Add the inferred triples to ``dataset`` in place, then validate it with SHACL.

    Returns the number of inferred triples and the report; nothing is written.
    """
    timings = {} if timings is None else timings
    ns = ProjectNamespaces(settings.base)
    with timed(timings, "inference"):
        inferred = steps.materialise(dataset, ns)
    with timed(timings, "validation"):
        report = steps.validate(dataset, settings, locations or {})
    return inferred, report


def publish(
    dataset: Dataset,
    settings: Settings,
    *,
    steps: Steps | None = None,
    locations: dict | None = None,
    write_dumps: bool = False,
    build_id: str | None = None,
    timings: dict[str, float] | None = None,
    swap: bool = True,
    lock: bool = True,
    imports: list[Pending] | None = None,
    modified: datetime | None = None,
) -> BuildResult:
    """Infer, validate, load ``dataset`` and the imported classifications as a new store, write the dumps
    and swap it in.

    :param swap: swap the new store in; when false the caller swaps ``store_dir`` itself.
    :param lock: take the build lock; false when the caller already holds it.
    :param imports: the classifications to add; by default those recorded under ``var/imports/``, and
        then what checking them found is kept for the next build.
    :param modified: when the data last changed, for the build's record (a build from files passes
        ``SOURCE_DATE_EPOCH``: :func:`~nhs_ai_workforce.store.builds.source_date`); by default, now.
    :raises BuildFailed: with every SHACL violation; nothing is written.
    """
    steps = steps or default_steps()
    timings = {} if timings is None else timings
    inferred, report = check(dataset, settings, steps=steps, locations=locations, timings=timings)
    if not report.conforms:
        raise BuildFailed(report.problems)
    with builds.build_lock(settings) if lock else contextlib.nullcontext():
        remove_leftovers(settings)
        with timed(timings, "imports"):
            attached = attach(recorded(settings) if imports is None else imports, dataset, settings)
            if imports is None:
                attached.keep(settings)
        with timed(timings, "store"):
            quads = list(oxigraph_quads(dataset)) + attached.quads
            new_dir = builds.load_store(quads, settings, build_id=build_id, modified=modified)
        try:
            staged = None
            if write_dumps:
                with timed(timings, "dumps"):
                    staged = dumps.stage_dumps(quads, settings)
            written = _swap_and_commit(new_dir, staged, settings, timings) if swap else []
            if staged is not None and not swap:
                written = staged.commit()
        except BaseException:
            builds.discard(new_dir, settings)
            raise
    return BuildResult(
        build_id=new_dir.name,
        store_dir=new_dir,
        timings=timings,
        graph_counts=_graph_counts(quads, ProjectNamespaces(settings.base)),
        inferred=inferred,
        imports=attached,
        warnings=list(report.warnings),
        dumps=written,
    )


def remove_leftovers(settings: Settings) -> None:
    """Remove what killed builds left: ``.partial`` stores and dump staging directories.

    Call only with the build lock held (no other build is running, so they are all orphans).
    """
    builds.remove_leftovers(settings)
    dumps.remove_staging(settings)
    import_records.remove_staging(settings)


def _swap_and_commit(new_dir: Path, staged, settings: Settings, timings: dict[str, float]) -> list[Path]:
    """Swap the new store in, then move the staged dumps into ``data/``.

    If the dumps cannot be moved into place, the previous store is swapped back, so the store
    and ``data/`` change together or not at all.
    """
    with timed(timings, "swap"):
        previous = builds.swap_in(new_dir, settings)
        if staged is None:
            return []
        try:
            return staged.commit()
        except BaseException:
            builds.restore(previous, settings)
            raise


def _graph_counts(quads: list[ox.Quad], ns: ProjectNamespaces) -> dict[str, int]:
    counts = Counter(graph_label(quad.graph_name, ns) for quad in quads)
    return dict(sorted(counts.items()))
