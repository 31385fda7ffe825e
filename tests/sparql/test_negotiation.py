"""Content negotiation: Accept with q-values, wildcards, lists and specificity; the format parameter."""

from __future__ import annotations

import pytest

from nhs_ai_workforce.core.errors import ServiceError
from nhs_ai_workforce.sparql.negotiation import (
    DESCRIPTION_TYPES,
    FORMAT_NAMES,
    GRAPH_TYPES,
    MEDIA_TYPES,
    SOLUTION_TYPES,
    content_type,
    negotiate,
    offers_for,
    parse_accept,
)

BROWSER = "text/html,application/xhtml+xml,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "offers", "expected"),
    [
        (None, SOLUTION_TYPES, "application/sparql-results+json"),
        ("", SOLUTION_TYPES, "application/sparql-results+json"),
        ("*/*", SOLUTION_TYPES, "application/sparql-results+json"),
        ("*/*", GRAPH_TYPES, "text/turtle"),
        ("application/*", SOLUTION_TYPES, "application/sparql-results+json"),
        ("application/*", GRAPH_TYPES, "application/n-triples"),
        ("text/*", SOLUTION_TYPES, "text/csv"),
        ("text/csv;q=0.5, application/sparql-results+json;q=0.9", SOLUTION_TYPES, "application/sparql-results+json"),
        ("application/sparql-results+xml, */*;q=0.1", SOLUTION_TYPES, "application/sparql-results+xml"),
        ("text/tab-separated-values", SOLUTION_TYPES, "text/tab-separated-values"),
        (BROWSER, SOLUTION_TYPES, "application/sparql-results+json"),
        (BROWSER, GRAPH_TYPES, "text/turtle"),
        # the most specific range sets an offer's weight: csv is excluded, json still fine
        ("text/*;q=0.9, text/csv;q=0, */*;q=0.1", SOLUTION_TYPES, "text/tab-separated-values"),
        # equal weights: an explicitly named type beats one matched by a wildcard
        ("*/*, text/csv", SOLUTION_TYPES, "text/csv"),
        # equal weights and specificity: the client's order decides
        ("text/tab-separated-values, text/csv", SOLUTION_TYPES, "text/tab-separated-values"),
        ("text/csv, text/tab-separated-values", SOLUTION_TYPES, "text/csv"),
        # aliases for generic clients
        ("application/json", SOLUTION_TYPES, "application/json"),
        ("application/json", GRAPH_TYPES, "application/json"),
        ("application/xml", GRAPH_TYPES, "application/xml"),
        # parameters: UTF-8 charset matches, profiles are ignored, case does not matter
        ("text/csv; charset=UTF-8", SOLUTION_TYPES, "text/csv"),
        ('application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"', GRAPH_TYPES, "application/ld+json"),
        ("TEXT/Turtle", GRAPH_TYPES, "text/turtle"),
        ("application/trig", GRAPH_TYPES, "application/trig"),
        ("application/n-quads;q=0.9, application/trig;q=0.8", GRAPH_TYPES, "application/n-quads"),
        ("application/rdf+xml, text/turtle;q=0.5", DESCRIPTION_TYPES, "application/rdf+xml"),
        # malformed entries are skipped; a header with nothing valid counts as absent
        ("nonsense, text/csv", SOLUTION_TYPES, "text/csv"),
        ("text/csv;q=high, text/tab-separated-values", SOLUTION_TYPES, "text/tab-separated-values"),
        ("garbage", SOLUTION_TYPES, "application/sparql-results+json"),
    ],
)
def test_accept(accept, offers, expected):
    assert negotiate(accept, offers) == expected


@pytest.mark.parametrize(
    ("accept", "offers"),
    [
        ("text/html", SOLUTION_TYPES),
        ("image/png, text/html;q=0.9", GRAPH_TYPES),
        ("*/*;q=0", SOLUTION_TYPES),
        ("text/csv", GRAPH_TYPES),
        ("text/turtle", SOLUTION_TYPES),
        ("text/csv; charset=latin1", SOLUTION_TYPES),
    ],
)
def test_nothing_acceptable_is_406_listing_what_is(accept, offers):
    with pytest.raises(ServiceError) as caught:
        negotiate(accept, offers, what="SELECT result")
    error = caught.value
    assert error.status == 406
    assert accept in error.message and "SELECT result" in error.message
    for media_type in offers:
        assert media_type in error.message
    assert "format=" in error.message


@pytest.mark.parametrize(
    ("value", "offers", "expected"),
    [
        ("json", SOLUTION_TYPES, "application/sparql-results+json"),
        ("xml", SOLUTION_TYPES, "application/sparql-results+xml"),
        ("csv", SOLUTION_TYPES, "text/csv"),
        ("tsv", SOLUTION_TYPES, "text/tab-separated-values"),
        ("json", GRAPH_TYPES, "application/ld+json"),
        ("xml", GRAPH_TYPES, "application/rdf+xml"),
        ("ttl", GRAPH_TYPES, "text/turtle"),
        ("turtle", GRAPH_TYPES, "text/turtle"),
        ("nt", GRAPH_TYPES, "application/n-triples"),
        ("jsonld", GRAPH_TYPES, "application/ld+json"),
        ("rdfxml", GRAPH_TYPES, "application/rdf+xml"),
        ("trig", GRAPH_TYPES, "application/trig"),
        ("nq", GRAPH_TYPES, "application/n-quads"),
        ("CSV", SOLUTION_TYPES, "text/csv"),
        ("text/csv", SOLUTION_TYPES, "text/csv"),
        ("application/sparql-results+xml", SOLUTION_TYPES, "application/sparql-results+xml"),
        ("text/turtle; charset=utf-8", GRAPH_TYPES, "text/turtle"),
        ("ttl", DESCRIPTION_TYPES, "text/turtle"),
    ],
)
def test_format_parameter_overrides_accept(value, offers, expected):
    assert negotiate("image/png", offers, format=value) == expected


@pytest.mark.parametrize(("value", "offers"), [("csv", GRAPH_TYPES), ("ttl", SOLUTION_TYPES), ("yaml", SOLUTION_TYPES)])
def test_a_format_not_offered_is_406(value, offers):
    with pytest.raises(ServiceError, match="not available") as caught:
        negotiate(None, offers, format=value)
    assert caught.value.status == 406
    assert repr(value) in caught.value.message


def test_every_short_name_names_a_type_we_write():
    for name, candidates in FORMAT_NAMES.items():
        assert candidates, name
        assert all(candidate in MEDIA_TYPES for candidate in candidates), name


def test_parse_accept_keeps_weights_params_and_order():
    ranges = parse_accept('text/csv;charset=utf-8;q=0.3;ext=1, application/ld+json;profile="x", */*;q=0.01')
    assert [(r.type, r.subtype, r.q, r.position) for r in ranges] == [
        ("text", "csv", 0.3, 0),
        ("application", "ld+json", 1.0, 1),
        ("*", "*", 0.01, 2),
    ]
    assert ranges[0].params == (("charset", "utf-8"),)
    assert ranges[1].params == (("profile", "x"),)


def test_parse_accept_skips_malformed_ranges():
    assert parse_accept("*/csv, text, /x, text/csv;q=2, text/csv;q=-1") == []


def test_query_forms_and_content_types():
    assert offers_for("SELECT") is offers_for("ASK") is SOLUTION_TYPES
    assert offers_for("CONSTRUCT") is offers_for("DESCRIBE") is GRAPH_TYPES
    with pytest.raises(ValueError, match="UPDATE"):
        offers_for("UPDATE")
    assert content_type("text/turtle") == "text/turtle; charset=utf-8"
    assert content_type("application/n-triples") == "application/n-triples"
