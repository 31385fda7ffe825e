"""``aiwf publish``: send the live build's named graphs to another triple store and check what arrived."""

from __future__ import annotations

import argparse
import ipaddress
import os
from urllib.parse import urlsplit

from .common import (
    EXIT_MISMATCH,
    EXIT_OK,
    EXIT_REMOTE,
    EXIT_TIMEOUT,
    CommandFailed,
    UsageError,
    err,
    open_live_store,
    settings_from,
    table,
)

CREDENTIALS_PREFIX = "AIWF_PUBLISH"

DESCRIPTION = """\
Send each named graph of the live build to another triple store with the SPARQL 1.1 Graph Store
Protocol (one PUT per graph, which replaces that graph there), then count each graph's triples on
the remote and compare with the build's; a difference fails the command (exit 4). Last, the graph
{base}/id/graph/publication on the remote is replaced with the publication record (a new publication
id, the build, the time, the graphs there), which a server reading the remote (AIWF_SPARQL_URL)
watches to know what it serves.

--to is the remote's Graph Store endpoint. Its query endpoint (for the counts) is derived from
these spellings, as each store documents them; give --query-endpoint for any other:
  Oxigraph (tested, 0.5.13)  --to http://HOST:7878/store
                             query endpoint http://HOST:7878/query
  Apache Jena Fuseki         --to http://HOST:3030/DATASET/data
                             query endpoint http://HOST:3030/DATASET/query
  GraphDB, RDF4J             --to http://HOST:7200/repositories/REPO/rdf-graphs/service
                             query endpoint http://HOST:7200/repositories/REPO
  Virtuoso                   --to http://HOST:8890/sparql-graph-crud
                             query endpoint http://HOST:8890/sparql

Credentials come from the environment only, never from the command line: AIWF_PUBLISH_USER and
AIWF_PUBLISH_PASSWORD (HTTP Basic) or AIWF_PUBLISH_TOKEN (Bearer). Each call has time limits and
bounded retries (AIWF_REMOTE_CONNECT_TIMEOUT, AIWF_REMOTE_TIMEOUT, AIWF_REMOTE_ATTEMPTS).
"""


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def remote_from(args: argparse.Namespace, settings):
    """The :class:`~..store.publish_remote.Remote` the options and the environment describe.

    :raises UsageError: for a bad URL, credentials in a URL, or incomplete credentials.
    """
    from ..core.remote import Credentials, CredentialsError, RemotePolicy, check_url
    from ..store.publish_remote import Remote, query_endpoint_for

    query_endpoint = args.query_endpoint or query_endpoint_for(args.to)
    if query_endpoint is None:
        raise UsageError(f"cannot tell the query endpoint of {args.to}: give it with --query-endpoint "
                         "(`aiwf publish --help` shows how each store spells both)")
    for option, url in (("--to", args.to), ("--query-endpoint", query_endpoint)):
        try:
            check_url(url)
        except ValueError as error:
            raise UsageError(f"{option}: {error}") from error
    try:
        credentials = Credentials.from_env(CREDENTIALS_PREFIX, os.environ)
    except CredentialsError as error:
        raise UsageError(str(error)) from error
    return Remote(args.to, query_endpoint, RemotePolicy.from_settings(settings), credentials)


def hint(error, remote) -> str:
    """What to do about a failed remote call, for the common causes."""
    from ..core.remote import RemoteStatusError, RemoteTimeout, RemoteUnreachable

    option = "--query-endpoint" if error.method == "GET" else "--to"
    if isinstance(error, RemoteTimeout):
        still = " (a PUT is not sent again: the remote may still be loading it)" if error.method == "PUT" else ""
        return (f"no answer in time{still}: is the remote up and reachable? A slow remote needs a larger "
                "AIWF_REMOTE_TIMEOUT (seconds without a byte, default 60)")
    if isinstance(error, RemoteUnreachable):
        return f"is the remote running, and is {option} right?"
    if not isinstance(error, RemoteStatusError):
        return f"is {option} a SPARQL endpoint?" if error.method == "GET" else ""
    status = error.status
    if status == 401:
        challenge = next((v for k, v in error.headers.items() if k.lower() == "www-authenticate"), "")
        scheme = challenge.split(" ", 1)[0]
        if scheme and scheme.lower() not in ("basic", "bearer"):
            return f"the remote asks for {scheme} authentication; aiwf publish sends HTTP Basic or Bearer only"
        if remote.credentials is None:
            return ("the remote wants credentials: set AIWF_PUBLISH_USER and AIWF_PUBLISH_PASSWORD "
                    "(HTTP Basic) or AIWF_PUBLISH_TOKEN (Bearer)")
        return f"the remote refused the credentials from {remote.credentials.source}"
    if status == 403:
        who = f"the credentials from {remote.credentials.source}" if remote.credentials else "anonymous callers"
        return f"the remote does not let {who} do this: check the account's rights, or that the endpoint is writable"
    if status == 404:
        return f"no such endpoint on the remote: check {option} (`aiwf publish --help` shows how each store spells it)"
    if status == 405:
        return f"that endpoint does not take {error.method}: is {option} the right endpoint, and writable?"
    if status == 413:
        return "the remote refuses a request this large: raise its request size limit"
    if status == 415:
        return "the remote does not take this syntax: try --format turtle"
    if 300 <= status < 400:
        location = next((v for k, v in error.headers.items() if k.lower() == "location"), None)
        return f"the remote redirects to {location}: use that URL" if location else "the remote redirects"
    return ""


def _failed(error, remote, sent: list) -> CommandFailed:
    from ..core.remote import RemoteTimeout

    lines = [str(error)]
    advice = hint(error, remote)
    if advice:
        lines.append(advice)
    if sent:
        lines.append(f"{len(sent)} graph(s) were replaced on the remote before this: run again once it is fixed")
    return CommandFailed("\n".join(lines), EXIT_TIMEOUT if isinstance(error, RemoteTimeout) else EXIT_REMOTE)


def cmd_publish(args: argparse.Namespace) -> int:
    from ..core.remote import RemoteError
    from ..store.live import current_build_id
    from ..store.publication import graph_iri
    from ..store.publish_remote import choose_graphs, named_graphs, publish

    settings = settings_from(args)
    remote = remote_from(args, settings)
    store = open_live_store(settings)
    try:
        graphs = choose_graphs(named_graphs(store), args.graph) if args.graph else named_graphs(store)
    except ValueError as error:
        raise UsageError(str(error)) from error
    if not graphs:
        raise UsageError("the live build has no named graphs to publish")
    where = urlsplit(remote.graph_store)
    if remote.credentials and where.scheme == "http" and not is_loopback(where.hostname):
        err(f"warning: sending credentials to {where.hostname} over plain http, readable on the way; use https")
    build_id = current_build_id(settings)
    print(f"publishing build {build_id}: {len(graphs)} graph(s) to {remote.graph_store}", flush=True)
    sent: list = []

    def show(graph) -> None:
        sent.append(graph)
        print(f"  PUT {graph.graph}: {graph.triples} triples, {graph.size} bytes, "
              f"{graph.seconds:.2f} s, HTTP {graph.status}", flush=True)

    try:
        published = publish(store, remote, graphs=graphs, format=args.format, progress=show,
                            base=settings.base, build_id=build_id)
    except RemoteError as error:
        raise _failed(error, remote, sent) from error
    rows = [(c.graph, f"{c.ours} / {c.theirs}{'' if c.matches else '  MISMATCH'}") for c in published.counts]
    print(table(rows, ("graph", "triples: build / remote")), end="")
    if published.publication is not None:
        print(f"  PUT {graph_iri(settings.base)}: publication {published.publication.id} of build {build_id}, "
              f"{len(published.publication.graphs)} graph(s)", flush=True)
    if published.default_graph_triples:
        err(f"note: {published.default_graph_triples} triple(s) in the build's default graph were not published")
    if published.blank_node_triples:
        err(f"note: {published.blank_node_triples} triple(s) have blank nodes; the remote gives them new "
            "identities, so publishing again replaces rather than matches them (the counts still compare)")
    if published.mismatches:
        for count in published.mismatches:
            err(f"mismatch: graph <{count.graph}> has {count.ours} triples in the build but {count.theirs} "
                f"on the remote ({remote.query_endpoint})")
        err(f"aiwf publish: {len(published.mismatches)} graph(s) differ on the remote")
        return EXIT_MISMATCH
    print(f"published {published.triples} triples in {len(published.sent)} graph(s) in {published.seconds:.2f} s; "
          "the remote's counts match the build's")
    return EXIT_OK


def register(command) -> None:
    """Add the publish command to the parser (``command(name, handler, help)`` makes a subcommand)."""
    from ..store.publish_remote import GRAPH_FORMATS

    publish = command("publish", cmd_publish, "send the live build's graphs to another triple store and check them")
    publish.description = DESCRIPTION
    publish.add_argument("--to", required=True, metavar="URL", help="the remote's SPARQL Graph Store endpoint")
    publish.add_argument("--query-endpoint", metavar="URL",
                         help="the remote's SPARQL query endpoint, for the counts (default: derived from --to)")
    publish.add_argument("--graph", action="append", metavar="NAME",
                         help="publish only this graph (its name, such as background, or its IRI); repeatable")
    publish.add_argument("--format", choices=sorted(GRAPH_FORMATS), default="ntriples",
                         help="the syntax each graph is sent in (default: ntriples)")
