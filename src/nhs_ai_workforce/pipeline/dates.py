"""Sortable begin and end dates for issue dates given as a year, a month or a day.

``dcterms:issued`` keeps the precision the source gives (``xsd:gYear``, ``xsd:gYearMonth`` or
``xsd:date``), and typed comparisons between those datatypes drop rows. Every thing with an
issued date therefore also gets ``aiwf:issuedStart`` and ``aiwf:issuedEnd``: the first and
last day of the stated year or month, or the day itself, as ``xsd:date``. They are derived,
never stated, so :func:`.inference.materialise` puts them in the ``inferred`` graph.

The reference.data.gov.uk interval an issued date falls in (``aiwf:issuedInterval``) gets the
begin and end that reference.data.gov.uk itself gives its intervals (``interval-uris.md`` of
epimorphics/IntervalServer): OWL-Time ``time:hasBeginning`` and ``time:hasEnd`` to gregorian
instants at midnight, the end being the first instant after the interval; each instant has its
position as ``time:inXSDDateTime``.

>>> issued_bounds(Literal("2022", datatype=XSD.gYear))
(datetime.date(2022, 1, 1), datetime.date(2022, 12, 31))
>>> issued_bounds(Literal("2024-02", datatype=XSD.gYearMonth))
(datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
>>> issued_bounds(Literal("2019, spring")) is None
True
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, XSD

from ..core.namespaces import ProjectNamespaces

__all__ = ["INSTANT_PATTERN", "TIME", "interval_triples", "issued_bounds", "issued_triples"]

TIME = Namespace("http://www.w3.org/2006/time#")
#: reference.data.gov.uk's unzoned instants on the Gregorian timeline.
INSTANT_PATTERN = "http://reference.data.gov.uk/id/gregorian-instant/{}T00:00:00"

Triple = tuple[URIRef, URIRef, URIRef | Literal]


def issued_bounds(value: object) -> tuple[dt.date, dt.date] | None:
    """The first and last day of an issued date at its precision, or ``None`` if it is not one."""
    if not isinstance(value, Literal):
        return None
    text = str(value)
    try:
        if value.datatype == XSD.gYear and re.fullmatch(r"\d{4}", text):
            year = int(text)
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        if value.datatype == XSD.gYearMonth and re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = int(text[:4]), int(text[5:])
            return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
        if value.datatype == XSD.date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = dt.date.fromisoformat(text)
            return day, day
    except ValueError:  # a month or day that does not exist
        return None
    return None


def _date(day: dt.date) -> Literal:
    return Literal(day.isoformat(), datatype=XSD.date)


def issued_triples(graph: Graph, ns: ProjectNamespaces) -> Iterable[Triple]:
    """``aiwf:issuedStart`` and ``aiwf:issuedEnd`` of everything in ``graph`` with an issued date."""
    for subject, value in graph.subject_objects(DCTERMS.issued):
        bounds = issued_bounds(value)
        if bounds is not None and isinstance(subject, URIRef):
            yield subject, ns.AIWF.issuedStart, _date(bounds[0])
            yield subject, ns.AIWF.issuedEnd, _date(bounds[1])


def interval_triples(interval: URIRef, value: Literal) -> Iterable[Triple]:
    """The beginning and end instants of the reference.data.gov.uk interval of ``value``."""
    bounds = issued_bounds(value)
    if bounds is None:
        return
    for predicate, day in ((TIME.hasBeginning, bounds[0]),
                           (TIME.hasEnd, bounds[1] + dt.timedelta(days=1))):
        instant = URIRef(INSTANT_PATTERN.format(day.isoformat()))
        yield interval, predicate, instant
        yield instant, TIME.inXSDDateTime, Literal(f"{day.isoformat()}T00:00:00", datatype=XSD.dateTime)
