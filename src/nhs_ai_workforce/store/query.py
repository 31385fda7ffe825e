"""Running SPARQL natively in Oxigraph over a store, the default graph being the union of its graphs."""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

Result = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


def run_query(
    store: ox.Store,
    text: str,
    *,
    default_union: bool = True,
    prefixes: dict[str, str] | None = None,
    default_graph: Sequence[ox.NamedNode] | None = None,
    named_graphs: Sequence[ox.NamedNode] | None = None,
) -> Result:
    """Run a SPARQL query in Oxigraph; by default the default graph is the union of all graphs.

    ``default_graph`` and ``named_graphs`` restrict the dataset (SPARQL protocol parameters).

    :raises SyntaxError: if the query does not parse.
    """
    options: dict[str, object] = {"prefixes": prefixes}
    if default_graph:
        options["default_graph"] = list(default_graph)
    else:
        options["use_default_graph_as_union"] = default_union
    if named_graphs:
        options["named_graphs"] = list(named_graphs)
    return store.query(text, **options)
