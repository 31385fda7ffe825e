"""The least a SPARQL answer over HTTP can cost in Python: tiny servers for ``floor.py``.

``python floor_server.py MODE PORT FILE.nq`` serves ``POST /sparql`` (the query as the body) on
waitress, the front end ``aiwf serve`` uses, with 8 request threads, in one of four modes:

- ``wsgi``: a plain WSGI callable that reads the body and answers a constant;
- ``flask``: the same constant from a Flask view;
- ``wsgi+query``: a plain WSGI callable that hands the body to one of two query processes over
  a pipe; each holds ``FILE.nq`` in an in-memory pyoxigraph store, runs the query (the default
  graph is the union, as in ``aiwf serve``) and sends back its SPARQL JSON results;
- ``flask+query``: the same from a Flask view.

Nothing else: no guard, no limits, no time limit, no cache, no log. So each mode is a floor
under a real endpoint, not a rival to one.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from multiprocessing import Pipe, get_context

CONSTANT = b'{"head":{"vars":["x"]},"results":{"bindings":[]}}'
RESULTS = "application/sparql-results+json"


def query_process(conn, nq: str) -> None:
    """Load ``nq`` in memory, say so, then answer each query text sent with its JSON results."""
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
    conn.send_bytes(b"ready")
    while True:
        text = conn.recv_bytes().decode()
        result = store.query(text, use_default_graph_as_union=True)
        conn.send_bytes(result.serialize(format=ox.QueryResultsFormat.JSON))


class Processes:
    """Two query processes, each used by one request at a time."""

    def __init__(self, nq: str, count: int = 2) -> None:
        self._idle: deque = deque()
        self._ready = threading.Condition()
        spawn = get_context("spawn")
        for _ in range(count):
            ours, theirs = Pipe()
            spawn.Process(target=query_process, args=(theirs, nq), daemon=True).start()
            ours.recv_bytes()
            self._idle.append(ours)

    def answer(self, text: bytes) -> bytes:
        with self._ready:
            while not self._idle:
                self._ready.wait()
            conn = self._idle.popleft()
        try:
            conn.send_bytes(text)
            return conn.recv_bytes()
        finally:
            with self._ready:
                self._idle.append(conn)
                self._ready.notify()


def wsgi(answer):
    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        out = answer(body)
        start_response("200 OK", [("Content-Type", RESULTS), ("Content-Length", str(len(out)))])
        return [out]

    return app


def flask(answer):
    from flask import Flask, Response, request

    app = Flask("floor")

    @app.post("/sparql")
    def sparql():
        return Response(answer(request.get_data()), content_type=RESULTS)

    return app


def main(mode: str, port: int, nq: str) -> None:
    import waitress

    answer = Processes(nq).answer if mode.endswith("+query") else (lambda _body: CONSTANT)
    app = (flask if mode.startswith("flask") else wsgi)(answer)
    waitress.serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
