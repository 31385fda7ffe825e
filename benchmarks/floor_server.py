"""The least a SPARQL answer over HTTP can cost in Python: tiny servers for ``floor.py``.

``python floor_server.py MODE PORT FILE.nq`` serves ``POST /sparql`` (the query as the body) in
one of six modes:

- ``wsgi``: a plain WSGI callable on waitress (the front end ``aiwf serve`` uses, here with 8
  request threads) that reads the body and answers a constant;
- ``flask``: the same constant from a Flask view on waitress;
- ``asyncio``: the same constant from the standard library's event loop, with no request threads
  and no framework (``asyncio.start_server`` and a few lines of HTTP/1.1 keep-alive);
- ``wsgi+query``, ``flask+query``, ``asyncio+query``: the same three, each handing the body to
  one of two query processes over a pipe; each holds ``FILE.nq`` in an in-memory pyoxigraph store,
  runs the query (the default graph is the union, as in ``aiwf serve``) and sends back its SPARQL
  JSON results.

Nothing else: no guard, no limits, no time limit, no cache, no log. So each mode is a floor
under a real endpoint, not a rival to one.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import sys
import threading
from collections import deque
from multiprocessing import Pipe, get_context

CONSTANT = b'{"head":{"vars":["x"]},"results":{"bindings":[]}}'
RESULTS = "application/sparql-results+json"
#: How ``multiprocessing`` frames a message on a pipe: its length, then its bytes.
FRAME = struct.Struct("!i")


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
        self.pipes = list(self._idle)

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


async def serve_asyncio(port: int, processes: Processes | None) -> None:
    """Answer on the event loop alone: each request's body goes to an idle query process (or the
    constant is sent), and the loop serves other connections while it waits."""
    idle: asyncio.Queue = asyncio.Queue()
    for pipe in processes.pipes if processes else []:
        idle.put_nowait(await asyncio.open_connection(sock=socket.socket(fileno=os.dup(pipe.fileno()))))

    async def answer(body: bytes) -> bytes:
        if processes is None:
            return CONSTANT
        reader, writer = await idle.get()
        try:
            writer.write(FRAME.pack(len(body)) + body)
            (size,) = FRAME.unpack(await reader.readexactly(FRAME.size))
            return await reader.readexactly(size)
        finally:
            idle.put_nowait((reader, writer))

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line[15:]) for line in head.split(b"\r\n")
                               if line[:15].lower() == b"content-length:"), 0)
                out = await answer(await reader.readexactly(length))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                             % (RESULTS.encode(), len(out), out))
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main(mode: str, port: int, nq: str) -> None:
    processes = Processes(nq) if mode.endswith("+query") else None
    if mode.startswith("asyncio"):
        asyncio.run(serve_asyncio(port, processes))
        return
    import waitress

    app = (flask if mode.startswith("flask") else wsgi)(processes.answer if processes else (lambda _body: CONSTANT))
    waitress.serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
