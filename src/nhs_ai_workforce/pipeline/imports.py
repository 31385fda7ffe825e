"""``aiwf import``: a classification from a user-supplied file into its own named graph, or out again.

:func:`read_classification` reads the file (:mod:`.soc2020`, :mod:`.esco`);
:func:`import_classification` then publishes the seed graphs with every recorded import and the
new one through :func:`~.publish.publish` (which checks it against ``shapes/classifications.ttl``),
without swapping; only when the new store is complete are the import's files staged, the store
swapped in and the files moved into ``var/imports/``, all under the build lock. A file that cannot
be read, a violation or any other failure leaves the live store and ``var/imports/`` as they were.
:func:`remove_import` publishes without one import the same way and deletes its files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from ..core.namespaces import IMPORT_GRAPHS
from ..core.settings import Settings
from ..core.terms import to_oxigraph
from ..store import builds
from ..store import imports as files
from .build import sources
from .classification import Classification
from .esco import read_esco
from .imported import Pending, recorded
from .publish import BuildResult, Steps, publish
from .soc2020 import read_soc2020

__all__ = ["ImportResult", "NotImported", "import_classification", "read_classification", "remove_import"]


class NotImported(LookupError):
    """``aiwf import --remove`` names a classification that has not been imported."""


@dataclass
class ImportResult:
    """What an import (or a removal) published: the record written (``None`` for a removal) and the build."""

    name: str
    record: files.ImportRecord | None
    build: BuildResult


def read_classification(name: str, paths: Sequence[Path], *, version: str | None = None) -> Classification:
    """The classification ``name`` (``soc2020``: the workbook; ``esco``: occupations, then ISCO groups CSV).

    :raises ImportFailed: naming the file, sheet, row and column of every problem.
    """
    if name == "soc2020":
        return read_soc2020(paths[0], version=version)
    if name == "esco":
        return read_esco(paths[0], paths[1], version=version)
    raise ValueError(f"unknown classification {name!r}; expected one of {', '.join(IMPORT_GRAPHS)}")


def ntriples(classification: Classification) -> bytes:
    """The classification as N-Triples, one sorted line per triple (the same file gives the same bytes)."""
    triples = [ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in classification.triples]
    return b"".join(sorted(set(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).splitlines(keepends=True))))


def record_of(classification: Classification, graph: bytes, now: datetime | None = None) -> files.ImportRecord:
    """The record of importing ``classification`` (as ``graph``) at ``now``."""
    when = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    licence = classification.licence
    return files.ImportRecord(
        name=classification.name, title=classification.title, version=classification.version, imported=when,
        files=tuple((f.name, f.sha256) for f in classification.files), triples=len(classification.triples),
        sha256=files.sha256(graph), licence=licence.licence, rights=licence.rights, source=licence.source,
        notes=tuple(classification.notes),
    )


def import_classification(settings: Settings, classification: Classification, *, steps: Steps | None = None,
                          now: datetime | None = None) -> ImportResult:
    """Check, record and publish ``classification``, replacing an earlier import of the same graph.

    :raises BuildFailed: with every violation (of the seed shapes or the classification shapes).
    """
    graph = ntriples(classification)
    record = record_of(classification, graph, now)
    pending = Pending(record, graph, classification.locations, classification.columns)
    result = _publish(settings, {record.name: pending}, steps)
    return ImportResult(record.name, record, result)


def remove_import(settings: Settings, name: str, *, steps: Steps | None = None) -> ImportResult:
    """Publish without the imported graph ``name`` and delete its files.

    :raises NotImported: if ``name`` has not been imported.
    """
    if name not in {record.name for record in files.read_records(settings)}:
        raise NotImported(f"{name} has not been imported (imported: "
                          f"{', '.join(r.name for r in files.read_records(settings)) or 'none'})")
    return ImportResult(name, None, _publish(settings, {name: None}, steps))


def _publish(settings: Settings, changes: dict[str, Pending | None], steps: Steps | None) -> BuildResult:
    """Publish the seeds with the recorded imports as ``changes`` changes them; then record the changes."""
    timings: dict[str, float] = {}
    dataset, locations = sources(settings, steps=steps, timings=timings)
    with builds.build_lock(settings):
        current = {pending.record.name: pending for pending in recorded(settings)}
        for name, pending in changes.items():
            if pending is None:
                current.pop(name, None)
            else:
                current[name] = pending
        imports = [current[name] for name in IMPORT_GRAPHS if name in current]
        result = publish(dataset, settings, steps=steps, locations=locations, imports=imports,
                         timings=timings, swap=False, lock=False, modified=builds.source_date(settings))
        written: dict[Path, bytes] = {}
        for name, (checked, entailed) in result.imports.checked.items():
            written.update(files.checked_files(settings, name, checked, entailed))
        for pending in (p for p in changes.values() if p is not None):
            written.update(files.import_files(settings, pending.record, pending.graph))
        removed = files.removed_files(settings, [name for name, p in changes.items() if p is None])
        try:
            staged = files.stage(settings, written, removed=removed)
        except BaseException:
            builds.discard(result.store_dir, settings)
            raise
        try:
            previous = builds.swap_in(result.store_dir, settings)
        except BaseException:
            staged.abort()
            builds.discard(result.store_dir, settings)
            raise
        try:
            staged.commit()
        except BaseException:
            staged.abort()
            builds.restore(previous, settings)
            raise
    return result
