"""The classifications imported from user-supplied files, as recorded beside the store.

``aiwf import`` writes, for each classification ``name`` (``soc2020``, ``esco``), into
``{store_path.parent}/imports/`` (``var/imports/`` by default):

- ``{name}.nt``: the classification as converted, N-Triples under the default base;
- ``{name}.json``: its record (:class:`ImportRecord`): the files it was read from and their
  SHA-256, its version, when it was imported, its licence, the SHA-256 of ``{name}.nt``;
- ``.checked/{name}.json`` and ``.checked/{name}.entailed.nt``: what the last check of it found
  (the inputs it validated and the triples the ontology entails from it), so a build checks an
  import again only when the graph, the shapes, the seed triples about its concepts or the
  ontology changed. Deleting ``.checked/`` only costs time.

Every build loads the recorded imports. All the files of one change are written through one
staging directory (:class:`~.staging.StagedFiles`) under the build lock and moved in together.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core.namespaces import IMPORT_GRAPHS
from ..core.settings import Settings
from .live import StoreError
from .staging import StagedFiles, remove_staged

__all__ = ["ImportRecord", "imports_dir", "read_graph", "read_records", "remove_staging", "stage"]

GRAPH_SUFFIX = ".nt"
RECORD_SUFFIX = ".json"
CHECKED_DIR = ".checked"


@dataclass(frozen=True)
class ImportRecord:
    """What was imported as the graph ``name``, from which files, when, and under which terms."""

    name: str
    title: str
    version: str
    imported: str  # when, as xsd:dateTime in UTC (``2026-01-28T10:15:00Z``)
    files: tuple[tuple[str, str], ...]  # (file name, SHA-256)
    triples: int
    sha256: str  # of ``{name}.nt``
    licence: str
    rights: str
    source: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> bytes:
        data = asdict(self)
        data["files"] = [{"name": name, "sha256": digest} for name, digest in self.files]
        return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, where: Path) -> ImportRecord:
        """The record in ``data`` (the file ``where``). :raises StoreError: if it is not one."""
        try:
            raw = json.loads(data)
            return cls(**{**raw, "files": tuple((f["name"], f["sha256"]) for f in raw["files"]),
                          "notes": tuple(raw.get("notes", ()))})
        except (ValueError, TypeError, KeyError) as error:
            raise StoreError(f"{where}: not an import record ({error}); import the classification again "
                             "or remove the file") from None


def imports_dir(settings: Settings) -> Path:
    """Where the imports are recorded: ``imports/`` beside the live store link (``var/imports``)."""
    return settings.store_path.parent / "imports"


def checked_dir(settings: Settings) -> Path:
    return imports_dir(settings) / CHECKED_DIR


def graph_file(settings: Settings, name: str) -> Path:
    return imports_dir(settings) / f"{name}{GRAPH_SUFFIX}"


def record_file(settings: Settings, name: str) -> Path:
    return imports_dir(settings) / f"{name}{RECORD_SUFFIX}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_records(settings: Settings) -> list[ImportRecord]:
    """The recorded imports, in the order of :data:`IMPORT_GRAPHS`.

    :raises StoreError: if a record cannot be read or names another graph.
    """
    found = []
    for name in IMPORT_GRAPHS:
        path = record_file(settings, name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        except OSError as error:
            raise StoreError(f"{path}: cannot read the import record: {error.strerror or error}") from None
        record = ImportRecord.from_json(data, path)
        if record.name != name:
            raise StoreError(f"{path}: records the graph {record.name!r}, not {name!r}")
        found.append(record)
    return found


def read_graph(settings: Settings, record: ImportRecord) -> bytes:
    """The N-Triples of the recorded import ``record``, checked against its SHA-256.

    :raises StoreError: if the file is missing or not the one recorded.
    """
    path = graph_file(settings, record.name)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise StoreError(f"{path}: cannot read the imported graph ({error.strerror or error}); import "
                         f"{record.name} again or remove it (`aiwf import --remove {record.name}`)") from None
    if sha256(data) != record.sha256:
        raise StoreError(f"{path}: not the graph recorded in {record_file(settings, record.name).name} (its SHA-256 "
                         f"differs); import {record.name} again or remove it")
    return data


def read_checked(settings: Settings, name: str) -> tuple[dict, bytes | None]:
    """What the last check of ``name`` recorded, and the triples it entailed (empty if nothing usable)."""
    folder = checked_dir(settings)
    try:
        found = json.loads((folder / f"{name}{RECORD_SUFFIX}").read_bytes())
        entailed = (folder / f"{name}.entailed{GRAPH_SUFFIX}").read_bytes()
    except (OSError, ValueError):
        return {}, None
    if not isinstance(found, dict) or found.get("entailed_sha256") != sha256(entailed):
        return {}, None
    return found, entailed


def checked_files(settings: Settings, name: str, checked: dict, entailed: bytes) -> dict[Path, bytes]:
    """The files that record a check of ``name`` (for :func:`stage` or :func:`write_checked`)."""
    folder = checked_dir(settings)
    record = {**checked, "entailed_sha256": sha256(entailed)}
    return {
        folder / f"{name}.entailed{GRAPH_SUFFIX}": entailed,
        folder / f"{name}{RECORD_SUFFIX}": (json.dumps(record, indent=1, sort_keys=True) + "\n").encode(),
    }


def write_checked(settings: Settings, name: str, checked: dict, entailed: bytes) -> None:
    """Keep what a check found for the next build (best effort: a cache that cannot be written is skipped)."""
    with contextlib.suppress(OSError):
        stage(settings, checked_files(settings, name, checked, entailed)).commit()


def import_files(settings: Settings, record: ImportRecord, graph: bytes) -> dict[Path, bytes]:
    """The graph and record files of ``record``."""
    return {graph_file(settings, record.name): graph, record_file(settings, record.name): record.to_json()}


def removed_files(settings: Settings, names: Iterable[str]) -> list[Path]:
    """Every file recorded for the imports ``names``."""
    folder = checked_dir(settings)
    return [path for name in names for path in (
        graph_file(settings, name), record_file(settings, name),
        folder / f"{name}{RECORD_SUFFIX}", folder / f"{name}.entailed{GRAPH_SUFFIX}")]


def stage(settings: Settings, files: dict[Path, bytes], *, removed: Iterable[Path] = ()) -> StagedFiles:
    """Write ``files`` into a staging directory of the imports folder; ``commit()`` moves them in and
    deletes ``removed``, all or nothing. :raises OSError: if a file cannot be written."""
    return StagedFiles(files, imports_dir(settings), stale=list(removed))


def remove_staging(settings: Settings) -> list[Path]:
    """Remove the staging directories a killed import left; call with the build lock held."""
    return remove_staged(imports_dir(settings))
