"""Applying a SPARQL update to the served graph: on a copy, in a killable child, through :func:`~.publish.publish`.

The update runs on an in-memory copy of the live store, in a child process killed after
``settings.update_timeout_s``. The copy must keep every triple in one of the store's graphs;
then :func:`~.publish.publish` re-infers, validates and loads it as a new store, which is
swapped in only if it conforms. The build lock is held throughout, so updates and builds never
interleave. The web route (``web/update.py``) authorises and guards the request first.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset

from ..core.errors import ServiceError, Unavailable
from ..core.namespaces import ProjectNamespaces, store_graphs
from ..core.processes import ProcessTimedOut, run_in_process
from ..core.settings import Settings
from ..store import builds
from ..store.live import NoStoreError, open_store, stores_dir
from .errors import BuildFailed
from .publish import publish
from .validation import ShapesError

__all__ = ["UpdateRejected", "UpdateResult", "apply_update"]

#: How many violations the 422 message lists before "and N more" (the list has them all).
SHOWN_VIOLATIONS = 5


@dataclass
class UpdateResult:
    """What a successful update produced, or the violations that stopped it."""

    build_id: str | None
    store_dir: str | None = None
    triples: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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


def apply_update(text: str, settings: Settings) -> UpdateResult:
    """Run ``text`` on a copy of the live store; swap the copy in if it passes SHACL.

    The caller has run the guard. Holds the build lock throughout.

    :raises UpdateRejected: 422, if the result does not conform; nothing changes.
    :raises ServiceError: 400 for a malformed update, 503 (:class:`Unavailable`) without a
        store or shapes, 504 when the time limit passes.
    """
    with builds.build_lock(settings):
        build_id = builds.new_build_id()
        try:
            result: UpdateResult = run_in_process(
                _prepare, settings, text, build_id, timeout_s=settings.update_timeout_s
            )
        except ProcessTimedOut:
            _remove(settings, build_id)
            raise ServiceError(
                504,
                "Update timed out",
                f"the update took more than {settings.update_timeout_s:g} s and was stopped; nothing changed",
            ) from None
        except ChildProcessError as error:
            _remove(settings, build_id)
            raise ServiceError(500, "Update failed", f"the update process died: {error}; nothing changed") from None
        if result.problems:
            raise UpdateRejected(result.problems)
        builds.swap_in(Path(result.store_dir), settings)
    return result


def _remove(settings: Settings, build_id: str) -> None:
    for name in (build_id, build_id + builds.PARTIAL_SUFFIX):
        shutil.rmtree(stores_dir(settings) / name, ignore_errors=True)


def _prepare(settings: Settings, text: str, build_id: str) -> UpdateResult:
    """In the child: copy, update, then publish (re-infer, validate, load) without swapping."""
    try:
        source = open_store(settings)
    except NoStoreError as error:
        raise Unavailable(str(error)) from None
    memory = ox.Store()
    memory.bulk_extend(source.quads_for_pattern(None, None, None, None))
    del source
    try:
        memory.update(text)
    except SyntaxError as error:
        parsed = ServiceError.from_syntax_error(error)
        raise ServiceError(400, "Malformed update", parsed.message, parsed.line, parsed.column) from None
    outside = _outside_graphs(memory, store_graphs(settings))
    if outside:
        return UpdateResult(None, problems=[
            f"the update leaves triples in {name}, which is not one of the store's graphs "
            f"({', '.join(sorted(store_graphs(settings)))}); write them with GRAPH or WITH"
            for name in outside
        ])
    dataset = Dataset()
    dataset.parse(data=ox.serialize(memory, format=ox.RdfFormat.N_QUADS), format="nquads")
    del memory
    inferred = ProjectNamespaces(settings.base).graph("inferred")
    dataset.remove_graph(dataset.graph(inferred))  # publish infers it afresh from the updated graphs
    try:
        result = publish(dataset, settings, build_id=build_id, swap=False, lock=False)
    except BuildFailed as failed:
        return UpdateResult(None, problems=[str(problem) for problem in failed.problems])
    except (ShapesError, OSError) as error:
        raise Unavailable(
            f"the SHACL shapes cannot be read, so no update can be checked: {error}", "Update unavailable"
        ) from None
    warnings = [str(problem) for problem in result.warnings]
    return UpdateResult(build_id, str(result.store_dir), result.total_quads, warnings=warnings)


def _outside_graphs(memory: ox.Store, allowed: frozenset[str]) -> list[str]:
    """The graphs other than the store's that hold triples after the update ('the default graph')."""
    outside = []
    if next(iter(memory.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
        outside.append("the default graph")
    outside.extend(
        f"<{name.value}>"
        for name in memory.named_graphs()
        if name.value not in allowed and next(iter(memory.quads_for_pattern(None, None, None, name)), None)
    )
    return outside
