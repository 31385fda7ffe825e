"""The build: seed tables -> RDF, then :func:`~.publish.publish` (inference, SHACL, store, dumps).

Nothing is published unless every step succeeds: bad seeds or SHACL violations raise
:class:`BuildFailed` and leave the live store and ``data/`` exactly as they were.
"""

from __future__ import annotations

from ..core.settings import Settings
from .errors import BuildFailed, SeedError
from .publish import BuildResult, Report, Steps, check, default_steps, publish, timed

__all__ = ["BuildFailed", "BuildResult", "Steps", "build", "default_steps", "validate_only"]


def _convert(settings: Settings, steps: Steps, timings: dict[str, float]):
    """The seed tables as RDF; :class:`SeedError` becomes :class:`BuildFailed`."""
    with timed(timings, "convert"):
        try:
            return steps.convert(settings)
        except SeedError as error:
            raise BuildFailed(error.problems) from error


def validate_only(settings: Settings, *, steps: Steps | None = None) -> Report:
    """Convert, infer and validate without writing anything.

    :raises BuildFailed: if the seed tables cannot be read.
    """
    steps = steps or default_steps()
    converted = _convert(settings, steps, {})
    return check(converted.dataset, settings, steps=steps, locations=converted.locations)[1]


def build(settings: Settings, *, write_dumps: bool = True, steps: Steps | None = None) -> BuildResult:
    """Build, validate and publish the graph; the new store replaces the live one atomically.

    :raises BuildFailed: with every problem, if the seeds are unreadable or SHACL finds
        violations; the live store and ``data/`` are then untouched.
    """
    steps = steps or default_steps()
    timings: dict[str, float] = {}
    converted = _convert(settings, steps, timings)
    return publish(converted.dataset, settings, steps=steps, locations=converted.locations,
                   write_dumps=write_dumps, timings=timings)
