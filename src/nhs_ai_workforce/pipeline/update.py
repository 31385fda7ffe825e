"""Applying a SPARQL update to the served graph: on a copy, in a killable child, recorded, then swapped in.

The update runs on an in-memory copy of the live store's asserted graphs (the ``inferred``
graph is left out: it is recomputed afterwards, and a build replays the change on the asserted
graphs too; so are the imported classifications, which publishing adds back from
``var/imports``), in a child process capped at ``settings.update_memory_mb`` of address space and
killed after ``settings.update_time_limit_s``. An update that removes more than
``settings.update_max_removed_share`` of the asserted triples is refused (409) unless the
caller confirmed it. The copy must keep every triple in one of the store's graphs; then
:func:`~.publish.publish` re-infers, validates and loads it as a new store.

Only if it conforms is the update recorded as a change file under ``seeds/changes/``
(:mod:`.changes`), which every later build replays, and only then is the new store swapped in:
an update is never served without being recorded, and a change that cannot be recorded is
not applied. The build lock is held throughout, so updates and builds never interleave. The
web route (``web/update.py``) authorises and guards the request first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset

from ..core.errors import BadRequest, ServiceError, TimedOut, Unavailable
from ..core.namespaces import IMPORT_GRAPHS, ProjectNamespaces
from ..core.processes import ProcessTimedOut, limit_memory, run_in_process
from ..core.settings import Settings
from ..store import builds
from ..store.live import NoStoreError, open_store
from . import changes
from .errors import BuildFailed
from .publish import publish
from .validation import ShapesError

__all__ = ["ConfirmationNeeded", "UpdateRejected", "UpdateResult", "apply_update"]

#: How many violations the 422 message lists before "and N more" (the list has them all).
SHOWN_VIOLATIONS = 5
#: The parameter that confirms an update removing much of the graph.
CONFIRM = "confirm=yes"


@dataclass
class UpdateResult:
    """What a successful update produced, or the violations that stopped it."""

    build_id: str | None
    store_dir: str | None = None
    triples: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    removed: int = 0
    added: int = 0
    change: str | None = None  # the change file it was recorded as, relative to the project root


class UpdateRejected(ServiceError):
    """422: the updated data would not conform to the shapes; ``problems`` lists why."""

    def __init__(self, problems: list[str]) -> None:
        shown = "; ".join(problems[:SHOWN_VIOLATIONS])
        more = f"; and {len(problems) - SHOWN_VIOLATIONS} more" if len(problems) > SHOWN_VIOLATIONS else ""
        super().__init__(
            422,
            "Update rejected",
            f"the update would leave {len(problems)} violation(s) of the SHACL shapes, so nothing was "
            f"changed: {shown}{more}",
        )
        self.problems = problems


class ConfirmationNeeded(ServiceError):
    """409: the update drops or clears whole graphs, or removes much of the graph, and was not confirmed."""

    def __init__(self, message: str) -> None:
        super().__init__(409, "Confirmation needed", f"{message}; nothing was changed. Send {CONFIRM} to apply it")


def apply_update(text: str, settings: Settings, *, confirmed: bool = False, author: str | None = None,
                 comment: str | None = None) -> UpdateResult:
    """Run ``text`` on a copy of the live store; if it passes SHACL, record it and swap the copy in.

    The caller has run the guard. Holds the build lock throughout.

    :param confirmed: the caller confirmed an update that removes more than
        ``settings.update_max_removed_share`` of the asserted triples.
    :param author: who sent it and ``comment`` why, for the change file's header.
    :raises UpdateRejected: 422, if the result does not conform; nothing changes.
    :raises ConfirmationNeeded: 409, if it removes too much and ``confirmed`` is false.
    :raises ServiceError: 400 for a malformed update or one that exhausts its memory, 503
        (:class:`Unavailable`) without a store or shapes or when the change cannot be recorded,
        504 when the time limit passes.
    """
    limit = settings.update_time_limit_s
    with builds.build_lock(settings):
        build_id = builds.new_build_id()
        try:
            result: UpdateResult = run_in_process(_prepare, settings, text, build_id, confirmed, timeout_s=limit)
        except ProcessTimedOut:
            builds.discard_build(build_id, settings)
            raise TimedOut(
                f"the update took more than {limit:g} s and was stopped; nothing changed", "Update timed out"
            ) from None
        except (MemoryError, ChildProcessError):
            builds.discard_build(build_id, settings)
            raise BadRequest(
                f"the update needed more than the {settings.update_memory_mb} MB its process may use "
                "(AIWF_UPDATE_MEMORY_MB) and was stopped; nothing changed",
                "Update too large",
            ) from None
        except BaseException:
            builds.discard_build(build_id, settings)
            raise
        if result.problems:
            raise UpdateRejected(result.problems)
        new_dir = Path(result.store_dir)
        try:
            path = changes.record(settings, text, build_id=build_id, author=author, comment=comment)
        except OSError as error:
            builds.discard(new_dir, settings)
            raise Unavailable(
                f"the change could not be recorded under {changes.changes_dir(settings)} ({error}), "
                "so the update was not applied",
                "Update not recorded",
            ) from None
        try:
            builds.swap_in(new_dir, settings)
        except BaseException:
            path.unlink(missing_ok=True)
            builds.discard(new_dir, settings)
            raise
        result.change = path.relative_to(settings.root).as_posix() if path.is_relative_to(settings.root) else str(path)
    return result


def _prepare(settings: Settings, text: str, build_id: str, confirmed: bool) -> UpdateResult:
    """In the child: cap memory, copy, update, check what it removed, publish without swapping."""
    limit_memory(settings.update_memory_mb)
    try:
        source = open_store(settings)
    except NoStoreError as error:
        raise Unavailable(str(error)) from None
    ns = ProjectNamespaces(settings.base)
    # The inferred graph is recomputed and the imported classifications are added back from var/imports.
    derived = {ox.NamedNode(str(ns.graph(name))) for name in ("inferred", *IMPORT_GRAPHS)}
    memory = ox.Store()
    memory.bulk_extend(quad for quad in source.quads_for_pattern(None, None, None, None)
                       if quad.graph_name not in derived)
    del source
    before = set(memory)
    try:
        memory.update(text)
    except SyntaxError as error:
        parsed = ServiceError.from_syntax_error(error)
        raise BadRequest(parsed.message, "Malformed update", parsed.line, parsed.column) from None
    removed = sum(1 for quad in before if quad not in memory)
    if before and removed / len(before) > settings.update_max_removed_share and not confirmed:
        raise ConfirmationNeeded(
            f"the update removes {removed} of the {len(before)} asserted triples ({removed / len(before):.0%}), "
            f"more than the {settings.update_max_removed_share:.0%} allowed without confirmation "
            "(AIWF_UPDATE_MAX_REMOVED_SHARE)"
        )
    added = len(memory) - (len(before) - removed)
    del before
    writable = changes.writable_graphs(settings)
    outside = changes.outside_graphs(memory, writable)
    if outside:
        return UpdateResult(None, problems=[
            f"the update leaves triples in {name}, which is not one of the graphs an update may write "
            f"({', '.join(sorted(writable))}; the inferred graph is recomputed); write them with GRAPH or WITH"
            for name in outside
        ])
    dataset = Dataset()
    dataset.parse(data=ox.serialize(memory, format=ox.RdfFormat.N_QUADS), format="nquads")
    del memory
    try:
        result = publish(dataset, settings, build_id=build_id, swap=False, lock=False)
    except BuildFailed as failed:
        return UpdateResult(None, problems=[str(problem) for problem in failed.problems])
    except (ShapesError, OSError) as error:
        raise Unavailable(
            f"the SHACL shapes cannot be read, so no update can be checked: {error}", "Update unavailable"
        ) from None
    warnings = [str(problem) for problem in result.warnings]
    return UpdateResult(build_id, str(result.store_dir), result.total_quads, warnings=warnings,
                        removed=removed, added=added)
