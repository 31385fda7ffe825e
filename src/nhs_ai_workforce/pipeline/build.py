"""The build: seed tables -> RDF -> recorded changes, then :func:`~.publish.publish` (inference, SHACL, store, dumps).

After the seed tables are converted, the updates accepted through ``POST /update`` and
recorded under ``seeds/changes/`` are replayed in order (:mod:`.changes`), so a build from
``seeds/`` never drops an accepted update. Nothing is published unless every step succeeds:
bad seeds, a change file that no longer applies or SHACL violations raise
:class:`BuildFailed` and leave the live store and ``data/`` exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Dataset, URIRef

from ..core.settings import Settings
from ..store.builds import source_date
from .changes import replay
from .errors import BuildFailed, SeedError
from .locations import Location
from .publish import BuildResult, Report, Steps, check, default_steps, publish, timed

__all__ = ["BuildFailed", "BuildResult", "Steps", "build", "default_steps", "sources", "validate_only"]


@dataclass
class _Sources:
    """The dataset a build publishes and where each subject came from (seed row or change file)."""

    dataset: Dataset
    locations: dict[URIRef, Location] = field(default_factory=dict)


def _convert(settings: Settings, steps: Steps, timings: dict[str, float]) -> _Sources:
    """The seed tables as RDF with the change files replayed; a failure becomes :class:`BuildFailed`."""
    with timed(timings, "convert"):
        try:
            converted = steps.convert(settings)
        except SeedError as error:
            raise BuildFailed(error.problems) from error
    with timed(timings, "changes"):
        dataset, locations = replay(converted.dataset, settings, dict(getattr(converted, "locations", {}) or {}))
    return _Sources(dataset, locations)


def sources(settings: Settings, *, steps: Steps | None = None,
            timings: dict[str, float] | None = None) -> tuple[Dataset, dict[URIRef, Location]]:
    """The dataset a build publishes from the seeds (converted, changes replayed) and where each subject came from.

    :raises BuildFailed: if the seed tables cannot be read or a change file does not apply.
    """
    converted = _convert(settings, steps or default_steps(), {} if timings is None else timings)
    return converted.dataset, converted.locations


def validate_only(settings: Settings, *, steps: Steps | None = None) -> Report:
    """Convert, replay the changes, infer and validate without writing anything.

    :raises BuildFailed: if the seed tables cannot be read or a change file does not apply.
    """
    steps = steps or default_steps()
    sources = _convert(settings, steps, {})
    return check(sources.dataset, settings, steps=steps, locations=sources.locations)[1]


def build(settings: Settings, *, write_dumps: bool = True, steps: Steps | None = None) -> BuildResult:
    """Build, validate and publish the graph; the new store replaces the live one atomically.

    The build records ``SOURCE_DATE_EPOCH``, when set, as when its data last changed (else now).

    :raises BuildFailed: with every problem, if the seeds are unreadable, a change file does
        not apply or SHACL finds violations; the live store and ``data/`` are then untouched.
    """
    steps = steps or default_steps()
    timings: dict[str, float] = {}
    sources = _convert(settings, steps, timings)
    return publish(sources.dataset, settings, steps=steps, locations=sources.locations,
                   write_dumps=write_dumps, timings=timings, modified=source_date(settings))
