"""gzip for large text answers (``web/compression.py``): encoding, ``Vary``, validators, dumps left alone."""

from __future__ import annotations

import gzip

import pytest

from conftest import numbered_store
from nhs_ai_workforce.web.app import create_app
from nhs_ai_workforce.web.compression import MIN_BYTES

SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
JSON = "application/sparql-results+json"
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture
def client(settings):
    return create_app({"SETTINGS": numbered_store(settings), "EXECUTOR": "in-process"}).test_client()


def get(client, path: str, **headers: str):
    return client.get(path, headers=headers)


def test_large_results_are_gzipped_when_the_client_accepts_it(client):
    plain = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": JSON})
    zipped = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": JSON, **GZIP})
    assert plain.status_code == zipped.status_code == 200
    assert "Content-Encoding" not in plain.headers and len(plain.data) > MIN_BYTES
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(plain.data) / 3
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.mimetype == JSON
    for response in (plain, zipped):
        assert {"Accept", "Accept-Encoding"} <= set(response.vary)


@pytest.mark.parametrize("encoding", ["", "identity", "gzip;q=0", "br, deflate"])
def test_no_gzip_unless_asked_for(client, encoding):
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept-Encoding": encoding})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.get_json()["results"]["bindings"]


def test_small_answers_are_sent_plain(client):
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers=GZIP)
    assert response.get_json() == {"head": {}, "boolean": True}
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in response.vary


def test_the_gzip_variant_has_a_weak_etag_and_still_gets_304(client):
    path = "/data/void.nt"
    plain = get(client, path)
    zipped = get(client, path, **GZIP)
    tag, weak = plain.get_etag()
    assert tag and not weak
    assert zipped.get_etag() == (tag, True)  # the same document, weakly: W/"..."
    assert zipped.headers["Content-Encoding"] == "gzip" and len(plain.data) > MIN_BYTES
    for headers in ({}, GZIP):  # either tag matches either variant (If-None-Match compares weakly)
        for sent in (f'"{tag}"', f'W/"{tag}"'):
            again = get(client, path, **{"If-None-Match": sent, **headers})
            assert again.status_code == 304, (headers, sent)
            assert again.get_etag() == (tag, bool(headers))
            assert not again.data


def test_text_dumps_are_gzipped_and_gzipped_dumps_are_not_compressed_again(client):
    plain = get(client, "/data/nhs-ai-workforce.nq")
    zipped = get(client, "/data/nhs-ai-workforce.nq", **GZIP)
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert "Accept-Ranges" not in zipped.headers and zipped.headers["Content-Disposition"]
    stored = get(client, "/data/nhs-ai-workforce.nq.gz", **GZIP)
    assert stored.mimetype == "application/gzip" and "Content-Encoding" not in stored.headers
    assert gzip.decompress(stored.data) == plain.data  # compressed once, by the build


def test_ranges_are_of_the_plain_bytes(client):
    whole = get(client, "/data/nhs-ai-workforce.nq")
    part = get(client, "/data/nhs-ai-workforce.nq", Range="bytes=0-99", **GZIP)
    assert part.status_code == 206
    assert "Content-Encoding" not in part.headers
    assert part.data == whole.data[:100]


def test_head_says_what_get_sends(client):
    path = "/data/void.nt"
    got, head = get(client, path, **GZIP), client.head(path, headers=GZIP)
    for name in ("Content-Encoding", "Content-Length", "ETag", "Vary"):
        assert head.headers[name] == got.headers[name], name
    assert not head.data


def test_an_answer_with_a_strong_etag_is_compressed_once(settings, monkeypatch):
    from nhs_ai_workforce.web import compression

    client = create_app({"SETTINGS": numbered_store(settings)}).test_client()  # the pool: answers say their build
    calls = []
    compress = gzip.compress
    monkeypatch.setattr(compression.gzip, "compress", lambda data, **kw: calls.append(1) or compress(data, **kw))
    headers = {"Accept": JSON, **GZIP}
    answers = [client.get("/sparql", query_string={"query": SELECT}, headers=headers) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200] * 3
    assert len({answer.data for answer in answers}) == 1 and len(calls) == 1
    assert gzip.decompress(answers[0].data) == client.get("/sparql", query_string={"query": SELECT}).data
