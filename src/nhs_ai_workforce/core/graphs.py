"""The names of the store's named graphs, without rdflib: what the query processes need of them.

:mod:`.namespaces` re-exports these beside the project's namespaces.
"""

from __future__ import annotations

from .settings import DEFAULT_BASE, Settings

__all__ = ["ALL_GRAPHS", "GRAPHS", "IMPORT_GRAPHS", "store_graphs"]

#: Graph names, one per source of triples: the graphs every build makes from the seed tables.
GRAPHS = ("background", "reference", "mappings", "links", "ontology", "inferred")
#: The graphs of classifications imported from user-supplied files (``aiwf import``): each is absent
#: (empty) until its classification is imported, and left out of the dumps unless AIWF_DUMP_IMPORTS is set.
IMPORT_GRAPHS = ("soc2020", "esco")
#: Every graph a store may hold: the seed graphs, then the imported ones.
ALL_GRAPHS = GRAPHS + IMPORT_GRAPHS


def store_graphs(settings: Settings | None = None) -> frozenset[str]:
    """The IRIs of the store's named graphs, ``{base}/id/graph/{name}``, the imported ones included
    (a query may name one that has not been imported: it is empty).

    >>> sorted(store_graphs(Settings(base="http://example.org")))[0]
    'http://example.org/id/graph/background'
    """
    base = (settings.base if settings else DEFAULT_BASE).rstrip("/")
    return frozenset(f"{base}/id/graph/{name}" for name in ALL_GRAPHS)
