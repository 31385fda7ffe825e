"""Reading one seed-table cell into an RDF term, with a message that says what is wrong.

>>> parse_issued("2021-03")
rdflib.term.Literal('2021-03', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#gYearMonth'))
>>> parse_issued("March 2021")  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
nhs_ai_workforce.pipeline.cells.CellError: not a year, year-month or date (YYYY, YYYY-MM, YYYY-MM-DD): 'March 2021'
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+D)?$")
#: C0 and C1 control characters and DEL, except tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Characters RFC 3987 never allows in an IRI: space, controls, ``<>"{}|\^``` and the backtick.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f-\x9f]')
_CONTROL_NAMES = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL"}


class CellError(ValueError):
    """A cell whose text cannot be read as the column's kind of value."""


def describe_character(char: str) -> str:
    """``U+0000 (NUL)``, ``U+0007``, or ``'>'`` for a printable character.

    >>> describe_character("\\x00"), describe_character(">")
    ('U+0000 (NUL)', "'>'")
    """
    code = ord(char)
    if char.isprintable() and not char.isspace():
        return repr(char)
    name = _CONTROL_NAMES.get(code)
    return f"U+{code:04X}" + (f" ({name})" if name else "")


def control_character(text: str) -> str | None:
    """What is wrong if ``text`` holds a control character (tab and line breaks are allowed).

    >>> control_character("a\\x00b")
    'control character U+0000 (NUL) at character 2'
    >>> control_character("two\\nlines") is None
    True
    """
    match = _CONTROL.search(text)
    if match is None:
        return None
    return f"control character {describe_character(match.group())} at character {match.start() + 1}"


def check_iri(text: str) -> str:
    """``text`` if it can be an IRI (RFC 3987): no spaces, controls or ``<>"{}|\\^``` characters.

    >>> check_iri("https://example.org/a>b")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    nhs_ai_workforce.pipeline.cells.CellError: not an IRI: ...
    """
    match = _NOT_IN_IRI.search(text)
    if match:
        raise CellError(f"not an IRI: {describe_character(match.group())} at character "
                        f"{match.start() + 1} cannot be in an IRI (RFC 3987): {text!r}")
    try:
        ox.NamedNode(text)
    except ValueError as error:
        raise CellError(f"not an IRI ({error}): {text!r}") from None
    return text


def parse_key(text: str) -> str:
    """A key: lower-case words joined by hyphens, never changed once published."""
    if not KEY_PATTERN.match(text):
        raise CellError(f"not a key (lower-case letters, digits and single hyphens): {text!r}")
    return text


def parse_date(text: str) -> Literal:
    """An ``xsd:date`` from ``YYYY-MM-DD``."""
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise CellError(f"not a date (YYYY-MM-DD): {text!r}") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise CellError(f"not a date (YYYY-MM-DD): {text!r}")
    return Literal(text, datatype=XSD.date)


def parse_issued(text: str) -> Literal:
    """A date at the precision the source gives: ``xsd:gYear``, ``xsd:gYearMonth`` or ``xsd:date``."""
    if re.fullmatch(r"\d{4}", text):
        return Literal(text, datatype=XSD.gYear)
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if match and 1 <= int(match.group(2)) <= 12:
        return Literal(text, datatype=XSD.gYearMonth)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return parse_date(text)
    raise CellError(f"not a year, year-month or date (YYYY, YYYY-MM, YYYY-MM-DD): {text!r}")


def issued_precision(value: Literal) -> str:
    """``year``, ``month`` or ``day`` for a literal made by :func:`parse_issued`."""
    return {XSD.gYear: "year", XSD.gYearMonth: "month", XSD.date: "day"}[value.datatype]


def parse_integer(text: str, *, minimum: int = 0) -> Literal:
    """A whole number no smaller than ``minimum``, typed ``xsd:integer`` (bounds are SHACL's job).

    Oxigraph stores every integer-derived datatype as ``xsd:integer``; using it here keeps the
    dumps and the store identical.
    """
    if not re.fullmatch(r"\d+", text) or int(text) < minimum:
        raise CellError(f"not a whole number of at least {minimum}: {text!r}")
    return Literal(str(int(text)), datatype=XSD.integer)


def parse_decimal(text: str) -> Literal:
    """An ``xsd:decimal`` written with digits and an optional decimal point."""
    try:
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            raise InvalidOperation
        Decimal(text)
    except InvalidOperation:
        raise CellError(f"not a decimal number: {text!r}") from None
    return Literal(text, datatype=XSD.decimal)


def parse_boolean(text: str) -> Literal:
    """``true`` or ``false``."""
    if text not in ("true", "false"):
        raise CellError(f"not 'true' or 'false': {text!r}")
    return Literal(text, datatype=XSD.boolean)


def parse_duration(text: str) -> Literal:
    """An ``xsd:duration`` in years, months and days, such as ``P5Y``."""
    if not _DURATION.match(text):
        raise CellError(f"not a duration such as P5Y or P18M: {text!r}")
    return Literal(text, datatype=XSD.duration)


def parse_url(text: str) -> URIRef:
    """An absolute http(s) address with a host and no spaces."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", text):
        raise CellError(f"not an absolute http(s) web address: {text!r}")
    return URIRef(check_iri(text))


def parse_curie(text: str, prefixes: dict[str, str]) -> URIRef:
    """An IRI written as ``prefix:local`` with a known prefix."""
    prefix, sep, local = text.partition(":")
    if not sep or prefix not in prefixes or not local:
        known = ", ".join(sorted(prefixes))
        raise CellError(f"not a prefixed name with a known prefix ({known}): {text!r}")
    return URIRef(check_iri(prefixes[prefix] + local))

