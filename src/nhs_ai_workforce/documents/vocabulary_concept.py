"""One concept as the vocabulary browser shows it: labels, definition, relations, mappings and wordings.

Reads the live read-only store with SPARQL; ``web/vocabulary.py`` serves the ``dict`` that
:func:`concept_view` returns as JSON or renders it as the concept page. Mappings carry their SSSOM
record (``owl:Axiom``-style: ``owl:annotatedSource`` / ``annotatedProperty`` / ``annotatedTarget``)
under the SSSOM slot names (``predicate_id``, ``mapping_justification``, ``confidence``...), so a
mapping reads as a row of ``seeds/mappings.sssom.tsv``; a mapping stated without a record is listed
with empty slots. Statements only entailed (the ``inferred`` graph) are left out: ``closeMatch``
entailed by an ``exactMatch`` is not a second mapping.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from ..core.namespaces import ProjectNamespaces
from ..core.vocab import OWL, PAV, RDFS, SKOS, SSSOM
from ..store.query import run_query
from .catalogue import INFERRED, Catalogue, term_words
from .vocabulary import Links, Scheme, SchemeContents, best_literal

__all__ = ["LABEL_KINDS", "MAPPING_PREDICATES", "NOTE_KINDS", "concept_view"]

#: The label properties a concept page lists, in order.
LABEL_KINDS = ("prefLabel", "altLabel", "hiddenLabel")
#: Documentation properties shown as notes.
NOTE_KINDS = ("scopeNote", "note", "example", "editorialNote", "historyNote", "changeNote")
#: SKOS mapping properties, the closest first.
MAPPING_PREDICATES = tuple(SKOS + name for name in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch",
                                                    "relatedMatch"))
_PREFIX = f"PREFIX skos: <{SKOS}>\nPREFIX owl: <{OWL}>\nPREFIX sssom: <{SSSOM}>\nPREFIX pav: <{PAV}>\n" \
          f"PREFIX rdfs: <{RDFS}>\n"
_RECORD_SLOTS = {"justification": SSSOM + "mapping_justification", "confidence": SSSOM + "confidence",
                 "comment": RDFS + "comment", "object_label": SSSOM + "object_label",
                 "subject_label": SSSOM + "subject_label", "object_source": SSSOM + "object_source",
                 "author": PAV + "authoredBy", "date": PAV + "authoredOn"}


def _literals(store: ox.Store, iri: str, names: Iterable[str]) -> dict[str, list[dict]]:
    """``{name: [{"value", "language"}...]}`` for the SKOS literal properties ``names`` of ``iri``."""
    values = " ".join(f"skos:{name}" for name in names)
    query = _PREFIX + f"SELECT DISTINCT ?p ?l WHERE {{ VALUES ?p {{ {values} }} <{iri}> ?p ?l FILTER(isLiteral(?l)) }}"
    found: dict[str, list[ox.Literal]] = {}
    for row in run_query(store, query):
        found.setdefault(row["p"].value[len(SKOS):], []).append(row["l"])
    rank = {"en": 0, None: 1}
    return {name: [{"value": lit.value, "language": lit.language}
                   for lit in sorted(lits, key=lambda x: (rank.get(x.language, 2), x.language or "", x.value))]
            for name, lits in found.items()}


def _stated(graph: ox.NamedNode | ox.DefaultGraph, ns: ProjectNamespaces) -> bool:
    return not (isinstance(graph, ox.NamedNode) and graph.value == str(ns.graph(INFERRED)))


class _Neighbours:
    """Names, notations and schemes of the concepts a page links to, read in one query; their links."""

    def __init__(self, store: ox.Store, iris: set[str], here: SchemeContents, schemes: tuple[Scheme, ...],
                 catalogue: Catalogue, links: Links) -> None:
        self.here, self.catalogue, self.links = here, catalogue, links
        self.by_iri = {scheme.iri: scheme for scheme in schemes}
        self.schemes: dict[str, list[str]] = {}
        self.notations: dict[str, list[ox.Literal]] = {}
        if iris:
            values = " ".join(f"<{iri}>" for iri in sorted(iris))
            query = _PREFIX + f"""SELECT DISTINCT ?x ?s ?n WHERE {{ VALUES ?x {{ {values} }}
                {{ ?x skos:inScheme ?s }} UNION {{ ?x skos:notation ?n }} }}"""
            for row in run_query(store, query):
                if row["s"] is not None and row["s"].value in self.by_iri:
                    self.schemes.setdefault(row["x"].value, []).append(row["s"].value)
                if row["n"] is not None:
                    self.notations.setdefault(row["x"].value, []).append(row["n"])

    def scheme_of(self, iri: str) -> Scheme | None:
        """This page's scheme if ``iri`` is in it, else the first other scheme it is in."""
        if iri in self.here.labels:
            return self.here.scheme
        found = sorted(self.schemes.get(iri, ()))
        return self.by_iri[found[0]] if found else None

    def href(self, iri: str) -> str:
        scheme = self.scheme_of(iri)
        return self.links.concept(scheme.key, iri) if scheme else self.links.iri(iri)

    def label(self, iri: str) -> str:
        return self.here.labels.get(iri) or self.catalogue.name(iri)

    def notation(self, iri: str) -> str | None:
        found = best_literal(self.notations.get(iri, []))
        return found.value if found else None

    def relation(self, iri: str) -> dict:
        scheme = self.scheme_of(iri)
        return {"concept": iri, "label": self.label(iri), "notation": self.notation(iri), "href": self.href(iri),
                "scheme": scheme.key if scheme else None}


def _relations(store: ox.Store, iri: str) -> dict[str, set[str]]:
    """The broader, narrower and related concepts of ``iri``, whichever side states them."""
    this = f"<{iri}>"
    branches = []
    for name, forward, backward in (("broader", "broader", "narrower"), ("narrower", "narrower", "broader"),
                                    ("related", "related", "related")):
        branches.append(f'{{ {this} skos:{forward} ?x BIND("{name}" AS ?r) }}')
        branches.append(f'{{ ?x skos:{backward} {this} BIND("{name}" AS ?r) }}')
    query = _PREFIX + f"SELECT DISTINCT ?r ?x WHERE {{ {' UNION '.join(branches)} FILTER(isIRI(?x) && ?x != {this}) }}"
    found: dict[str, set[str]] = {"broader": set(), "narrower": set(), "related": set()}
    for row in run_query(store, query):
        found[row["r"].value].add(row["x"].value)
    return found


def _records(store: ox.Store, iri: str, side: str) -> list[dict]:
    """The mapping records whose ``side`` (``annotatedSource`` or ``annotatedTarget``) is ``iri``."""
    query = _PREFIX + f"""SELECT ?m ?s ?p ?o ?slot ?v WHERE {{ ?m owl:{side} <{iri}> ;
        owl:annotatedSource ?s ; owl:annotatedProperty ?p ; owl:annotatedTarget ?o .
        OPTIONAL {{ ?m ?slot ?v VALUES ?slot {{ {" ".join(f"<{p}>" for p in _RECORD_SLOTS.values())} }} }} }}"""
    records: dict[str, dict] = {}
    slots = {p: name for name, p in _RECORD_SLOTS.items()}
    for row in run_query(store, query):
        record = records.setdefault(row["m"].value, {"record": row["m"].value, "subject": row["s"].value,
                                                     "predicate": row["p"].value, "object": row["o"].value})
        if row["slot"] is not None:
            record.setdefault(slots[row["slot"].value], row["v"])
    return list(records.values())


def _unrecorded(store: ox.Store, iri: str, ns: ProjectNamespaces, *, incoming: bool) -> list[dict]:
    """Mapping statements about ``iri`` in a source graph (not only entailed), without their records."""
    values = " ".join(f"<{p}>" for p in MAPPING_PREDICATES)
    pattern = f"?x ?p <{iri}>" if incoming else f"<{iri}> ?p ?x"
    query = f"SELECT DISTINCT ?x ?p ?g WHERE {{ VALUES ?p {{ {values} }} GRAPH ?g {{ {pattern} }} FILTER(isIRI(?x)) }}"
    rows = {}
    for row in run_query(store, query):
        if _stated(row["g"], ns):
            subject, target = (row["x"].value, iri) if incoming else (iri, row["x"].value)
            rows[(subject, row["p"].value, target)] = {"record": None, "subject": subject, "predicate": row["p"].value,
                                                       "object": target}
    return list(rows.values())


def _mappings(store: ox.Store, iri: str, ns: ProjectNamespaces, *, incoming: bool) -> list[dict]:
    records = _records(store, iri, "annotatedTarget" if incoming else "annotatedSource")
    seen = {(r["subject"], r["predicate"], r["object"]) for r in records}
    extra = [r for r in _unrecorded(store, iri, ns, incoming=incoming) if (r["subject"], r["predicate"], r["object"])
             not in seen]
    order = {p: i for i, p in enumerate(MAPPING_PREDICATES)}
    return sorted(records + extra, key=lambda r: (order.get(r["predicate"], 9), r["subject"], r["object"]))


def _mapping_json(raw: dict, near: _Neighbours, catalogue: Catalogue) -> dict:
    """One mapping under its SSSOM slot names, with the names and links a page needs."""
    def value(name: str) -> str | None:
        term = raw.get(name)
        return None if term is None else term.value

    def name(iri: str | None) -> str | None:
        return None if iri is None else catalogue.label(iri) or term_words(iri)

    confidence = value("confidence")
    held_in = near.scheme_of(raw["object"])
    target, subject = raw["object"], raw["subject"]
    source = value("object_source")
    author = value("author")
    justification = value("justification")
    return {
        "record_id": raw["record"], "record_href": near.links.iri(raw["record"]) if raw["record"] else None,
        "subject_id": subject, "subject_label": value("subject_label") or near.label(subject),
        "subject_href": near.href(subject),
        "predicate_id": catalogue.curie(raw["predicate"]), "predicate_iri": raw["predicate"],
        "predicate_label": term_words(raw["predicate"]),
        "object_id": target, "object_label": value("object_label") or catalogue.label(target) or name(target),
        "object_notation": near.notation(target), "object_href": near.href(target),
        "no_term_found": target == SSSOM + "NoTermFound",
        "object_source": source, "object_source_label": catalogue.name(source) if source else None,
        "object_scheme": held_in.key if held_in else None, "object_scheme_title": held_in.title if held_in else None,
        "mapping_justification": catalogue.curie(justification) if justification else None,
        "justification_iri": justification, "justification_label": name(justification),
        "confidence": float(confidence) if confidence is not None else None,
        "comment": value("comment"),
        "author_id": author, "author_label": catalogue.name(author) if author else None,
        "author_href": near.links.iri(author) if author else None,
        "mapping_date": value("date"),
    }


def _wordings(store: ox.Store, iri: str, ns: ProjectNamespaces, labels: dict[str, list[dict]],
              catalogue: Catalogue, links: Links) -> list[dict]:
    """The wording each initiative uses for the concept (its term usages), and which label it matches."""
    aiwf = str(ns.AIWF)
    query = f"""SELECT DISTINCT ?u ?w ?i ?s WHERE {{ ?u <{aiwf}concept> <{iri}> ; <{aiwf}labelUsed> ?w .
        OPTIONAL {{ ?u <{aiwf}usedIn> ?i }} OPTIONAL {{ ?u <{aiwf}statedIn> ?s }} }}"""
    usages: dict[str, dict] = {}
    for row in run_query(store, query):
        usage = usages.setdefault(row["u"].value, {
            "usage": row["u"].value, "wording": row["w"].value, "language": row["w"].language,
            "initiatives": set(), "sections": set()})
        if row["i"] is not None:
            usage["initiatives"].add(row["i"].value)
        if row["s"] is not None:
            usage["sections"].add(row["s"].value)
    kinds = {entry["value"].casefold(): kind for kind in reversed(LABEL_KINDS) for entry in labels.get(kind, [])}
    rows = []
    for usage in usages.values():
        for initiative in sorted(usage["initiatives"]) or [None]:
            rows.append({
                "usage": usage["usage"], "usage_href": links.iri(usage["usage"]),
                "initiative": initiative, "initiative_label": catalogue.name(initiative) if initiative else None,
                "initiative_href": links.iri(initiative) if initiative else None,
                "wording": usage["wording"], "language": usage["language"],
                "matches": kinds.get(usage["wording"].casefold()),
                "sections": [{"section": s, "label": catalogue.name(s), "href": links.iri(s)}
                             for s in sorted(usage["sections"], key=lambda s: catalogue.name(s).casefold())],
            })
    return sorted(rows, key=lambda r: ((r["initiative_label"] or "").casefold(), r["wording"].casefold()))


def _concerned_by(store: ox.Store, iri: str, ns: ProjectNamespaces, catalogue: Catalogue, links: Links) -> list[dict]:
    """The findings, recommendations, aims and recorded discrepancies that concern the concept."""
    aiwf = str(ns.AIWF)
    query = f"""SELECT DISTINCT ?s ?p ?g WHERE {{ VALUES ?p {{ <{aiwf}concernsRole> <{aiwf}discrepancyAbout> }}
        GRAPH ?g {{ ?s ?p <{iri}> }} FILTER(isIRI(?s)) }}"""
    found: dict[str, set[str]] = {}
    for row in run_query(store, query):
        if _stated(row["g"], ns):
            found.setdefault(row["s"].value, set()).add(row["p"].value)
    rows = [{"iri": subject, "label": catalogue.name(subject), "href": links.iri(subject),
             "types": [catalogue.name(t) for t in catalogue.types.get(subject, ())],
             "relations": sorted(catalogue.name(p) for p in predicates)}
            for subject, predicates in found.items()]
    return sorted(rows, key=lambda r: (r["types"], r["label"].casefold()))


def _path(contents: SchemeContents, iri: str) -> list[str]:
    """The first chain of broader concepts in the scheme, from a top concept down to ``iri``'s parent."""
    path: list[str] = []
    seen, current = {iri}, iri
    while contents.broader.get(current):
        parent = contents.broader[current][0]
        if parent in seen:
            break
        path.insert(0, parent)
        seen.add(parent)
        current = parent
    return path


def concept_view(store: ox.Store, iri: str, contents: SchemeContents, schemes: tuple[Scheme, ...],
                 catalogue: Catalogue, links: Links) -> dict:
    """The concept page of ``iri`` (a concept of ``contents``' scheme) as a ``dict``."""
    ns = ProjectNamespaces(links.base)
    labels = _literals(store, iri, (*LABEL_KINDS, "definition", "notation", *NOTE_KINDS))
    relations = _relations(store, iri)
    outgoing = _mappings(store, iri, ns, incoming=False)
    incoming = _mappings(store, iri, ns, incoming=True)
    path = _path(contents, iri)
    wanted = {iri, *path, *(x for found in relations.values() for x in found),
              *(m["object"] for m in outgoing), *(m["subject"] for m in incoming)}
    near = _Neighbours(store, wanted, contents, schemes, catalogue, links)
    key = contents.scheme.key
    in_schemes = [{"key": s.key, "iri": s.iri, "title": s.title, "href": links.concept(s.key, iri)}
                  for s in schemes if s.iri in near.schemes.get(iri, ()) or s.iri == contents.scheme.iri]
    return {
        "concept": iri,
        "label": contents.label(iri),
        "href": links.concept(key, iri),
        "json": links.concept(key, iri, ".json"),
        "document": links.iri(iri),
        "scheme": {"key": key, "iri": contents.scheme.iri, "title": contents.scheme.title,
                   "href": links.scheme(key)},
        "schemes": in_schemes,
        "top_concept": iri in contents.roots,
        **{kind: labels.get(kind, []) for kind in LABEL_KINDS},
        "definition": labels.get("definition", []),
        "notation": labels.get("notation", []),
        "notes": [{"type": kind, **note} for kind in NOTE_KINDS for note in labels.get(kind, [])],
        "path": [near.relation(x) for x in path],
        **{name: sorted((near.relation(x) for x in found), key=lambda r: (r["notation"] is None, r["notation"] or "",
                                                                          r["label"].casefold()))
           for name, found in relations.items()},
        "mappings": [_mapping_json(m, near, catalogue) for m in outgoing],
        "mapped_from": [_mapping_json(m, near, catalogue) for m in incoming],
        "wordings": _wordings(store, iri, ns, labels, catalogue, links),
        "concerned_by": _concerned_by(store, iri, ns, catalogue, links),
    }
