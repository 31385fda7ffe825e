"""The one read of the store that fills a :class:`~.catalogue.Catalogue`.

Four SPARQL queries: the entities of the project's four kinds with their names, definitions,
broader concepts, narrower classes and the wording initiatives use for them; the members of the
classifications' schemes (SOC 2020 unit groups, ESCO occupations, ISCO-08 groups) with their labels; the curated SSSOM
mapping records (codes, and the schemes that have none); the SOC 2020 related job titles of
the mapped unit groups. A SOC unit group mapped from only one concept gives that concept its
related job titles as weak labels.

Where an entity has several values, English (or untagged) ones come first, then the shortest,
then alphabetical, so every build chooses the same.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from ..core.namespaces import ProjectNamespaces
from ..core.vocab import ESCO, SSSOM
from ..store.query import run_query
from .catalogue import LABEL_KINDS, MATCHER_CODE_RELATIONS, RELATIONS, Catalogue, Code, Entity, Label, NoCode, fold
from .kinds import EntityType, entity_types, local_name

NO_TERM_FOUND = f"{SSSOM}NoTermFound"

_ENTITY_QUERY = """
SELECT ?entity ?class ?p ?o ?label WHERE {{
  VALUES ?class {{ {classes} }}
  ?entity a ?class .
  {{ VALUES ?p {{ skos:prefLabel foaf:name dcterms:title rdfs:label skos:altLabel dcterms:alternative
                 skos:hiddenLabel skos:definition dcterms:description skos:broader }}
     ?entity ?p ?o }}
  UNION {{ ?usage aiwf:concept ?entity ; aiwf:labelUsed ?o BIND(aiwf:labelUsed AS ?p) }}
  UNION {{ ?entity a ?o . ?o rdfs:label ?label FILTER(STRSTARTS(STR(?o), STR(aiwf:))) BIND(rdf:type AS ?p) }}
}}
"""

_CLASSIFICATION_QUERY = """
SELECT ?entity ?scheme ?p ?o WHERE {{
  VALUES ?scheme {{ {schemes} }}
  ?entity skos:inScheme ?scheme .
  VALUES ?p {{ skos:prefLabel skos:altLabel skos:hiddenLabel skos:example skos:definition dcterms:description
               skos:notation skos:broader }}
  ?entity ?p ?o
}}
"""

_MAPPING_QUERY = """
SELECT DISTINCT ?subject ?relation ?target ?source ?scheme ?notation ?label ?object_label ?comment WHERE {
  ?record a sssom:Mapping ;
      owl:annotatedSource ?subject ;
      owl:annotatedProperty ?relation ;
      owl:annotatedTarget ?target .
  OPTIONAL { ?record sssom:object_source ?source }
  OPTIONAL { ?record sssom:object_label ?object_label }
  OPTIONAL { ?record rdfs:comment ?comment }
  OPTIONAL { ?target skos:inScheme ?scheme }
  OPTIONAL { ?target skos:notation ?notation }
  OPTIONAL { ?target skos:prefLabel ?label }
}
"""

_EXAMPLE_QUERY = """
SELECT DISTINCT ?target ?example WHERE {
  ?record a sssom:Mapping ; owl:annotatedTarget ?target .
  ?target skos:example ?example .
}
"""

#: Which property gives which kind of label; the name is the best of the first of
#: :data:`_NAMES` an entity has.
_LABEL_KIND = {"prefLabel": "pref", "name": "pref", "title": "pref", "altLabel": "alt", "alternative": "alt",
               "hiddenLabel": "hidden", "labelUsed": "used"}
_NAMES = ("prefLabel", "name", "title", "label")


def load_catalogue(store: ox.Store, *, base: str) -> Catalogue:
    """Read every candidate, all its names, its definition, broader concepts and mapped codes from ``store``."""
    ns = ProjectNamespaces(base)
    prefixes = {**ns.prefixes(), "sssom": SSSOM}
    types = entity_types(ns.base)
    records: dict[str, _Record] = {}
    classes = " ".join(f"<{t.id}>" for t in types)
    for row in run_query(store, _ENTITY_QUERY.format(classes=classes), prefixes=prefixes):
        iri = row["entity"].value
        record = records.setdefault(iri, _Record())
        record.kinds.add(row["class"].value)
        record.add(local_name(row["p"].value), row["o"], row["label"])
    codes, no_codes = _mappings(store, prefixes, ns.base)
    examples = _unique_examples(codes, _examples(store, prefixes))
    entities = [record.entity(iri, types, codes.get(iri, ()), no_codes.get(iri, ()), examples.get(iri, ()))
                for iri, record in records.items()]
    entities += _classification_entities(store, prefixes, types)
    ordered = sorted((e for e in entities if e is not None), key=lambda e: (fold(e.name), e.id))
    return Catalogue(base=ns.base, types=types, entities={e.id: e for e in ordered})


class _Record:
    """The rows of one entity, gathered before they become an :class:`Entity`."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.values: dict[str, set[tuple[str, bool]]] = {}  # property local name -> (text, English?)
        self.classes: dict[str, set[tuple[str, bool]]] = {}  # class IRI -> its labels

    def add(self, prop: str, value: ox.NamedNode | ox.Literal, label: ox.Literal | None) -> None:
        if label is not None:
            self.classes.setdefault(value.value, set()).add(_text(label))
        else:
            self.values.setdefault(prop, set()).add(_text(value))

    def entity(self, iri: str, types: tuple[EntityType, ...], codes: Iterable[Code], no_codes: Iterable[NoCode],
               examples: Iterable[Label]) -> Entity | None:
        values = self.values
        name = next((_best(values[p]) for p in _NAMES if values.get(p)), None)
        kinds = tuple(t for t in types if t.id in self.kinds)
        if not name or not kinds:
            return None
        labels = {Label(text, kind) for p, kind in _LABEL_KIND.items() for text, _ in values.get(p, ())}
        if kinds[0].mode == "name" and ":" in name:
            labels.add(Label(name.split(":", 1)[0].strip(), "short"))
        if not any(label.kind == "pref" for label in labels):
            labels.add(Label(name, "pref"))
        ordered = sorted(labels, key=lambda label: (LABEL_KINDS.index(label.kind), label.text))
        narrower = {cls: _best(names) for cls, names in self.classes.items() if cls != kinds[0].id}
        return Entity(
            id=iri,
            name=name,
            kinds=kinds,
            labels=(*ordered, *(label for label in examples if label not in labels)),
            description=next((_best(values[p]) for p in ("definition", "description") if values.get(p)), ""),
            narrower_types=tuple(sorted(narrower.items(), key=lambda item: (item[1], item[0]))),
            broader=tuple(sorted(text for text, _ in values.get("broader", ()))),
            codes=tuple(codes),
            no_codes=tuple(no_codes),
        )


def _classification_entities(store: ox.Store, prefixes: dict[str, str],
                             types: tuple[EntityType, ...]) -> list[Entity]:
    """The members of each classification's scheme (those with the notation length it asks for),
    named by their labels; a SOC 2020 related job title (``skos:example``) is an ``example`` label
    even where it is also a hidden label. Each carries its own code, and an ESCO occupation the
    ISCO-08 group its code starts with."""
    by_scheme = {t.scheme: t for t in types if t.classification}
    schemes = " ".join(f"<{scheme}>" for scheme in by_scheme)
    rows: dict[tuple[str, str], dict[str, set[tuple[str, bool]]]] = {}
    for row in run_query(store, _CLASSIFICATION_QUERY.format(schemes=schemes), prefixes=prefixes):
        entity_type = by_scheme[row["scheme"].value]
        values = rows.setdefault((row["entity"].value, entity_type.key), {})
        values.setdefault(local_name(row["p"].value), set()).add(_text(row["o"]))
    keyed = {t.key: t for t in types}
    out = []
    for (iri, key), values in sorted(rows.items()):
        entity_type = keyed[key]
        notation = _best(values["notation"]) if values.get("notation") else ""
        if entity_type.notation_length and len(notation) != entity_type.notation_length:
            continue
        if (key == "esco") != iri.startswith(f"{ESCO}occupation/"):
            continue  # ESCO's scheme of occupations also holds the ISCO groups above them
        name = _best(values["prefLabel"]) if values.get("prefLabel") else None
        if not name:
            continue
        examples = {text for text, _ in values.get("example", ())}
        labels = {Label(text, "pref") for text, _ in values.get("prefLabel", ())}
        labels |= {Label(text, "alt") for text, _ in values.get("altLabel", ())}
        labels |= {Label(text, "hidden") for text, _ in values.get("hiddenLabel", ()) if text not in examples}
        labels |= {Label(text, "example") for text in examples if text.casefold() != name.casefold()}
        own = Code(key, iri, notation if key != "esco" else "", name, "exactMatch")
        codes = [own]
        if key == "esco" and notation:
            group = notation.split(".", 1)[0]
            codes.append(Code("isco", f"{ESCO}isco/C{group}", group, "", "broadMatch"))
        out.append(Entity(
            id=iri, name=name, kinds=(entity_type,),
            labels=tuple(sorted(labels, key=lambda label: (LABEL_KINDS.index(label.kind), label.text))),
            description=next((_best(values[p]) for p in ("definition", "description") if values.get(p)), ""),
            broader=tuple(sorted(text for text, _ in values.get("broader", ()))),
            codes=tuple(codes)))
    return out


def _mappings(store: ox.Store, prefixes: dict[str, str], base: str) -> tuple[dict[str, list[Code]],
                                                                             dict[str, list[NoCode]]]:
    """Each subject's codes (one per target, its most exact relation) and the schemes with no code for it."""
    best: dict[tuple[str, str], Code] = {}
    no_codes: dict[str, list[NoCode]] = {}
    for row in run_query(store, _MAPPING_QUERY, prefixes=prefixes):
        subject, target = row["subject"].value, row["target"].value
        scheme = _scheme_key(_value(row["source"]) or _value(row["scheme"]), target, base)
        if scheme is None:
            continue
        if target == NO_TERM_FOUND:
            note = NoCode(scheme, _value(row["comment"]))
            if note not in no_codes.setdefault(subject, []):
                no_codes[subject].append(note)
            continue
        relation = local_name(row["relation"].value)
        code = Code(scheme, target, _value(row["notation"]), _value(row["label"]) or _value(row["object_label"]),
                    relation)
        current = best.get((subject, target))
        if current is None or _code_rank(code) < _code_rank(current):
            best[(subject, target)] = code
    codes: dict[str, list[Code]] = {}
    for (subject, _), code in sorted(best.items()):
        codes.setdefault(subject, []).append(code)
    return codes, {subject: sorted(notes, key=lambda n: (n.scheme, n.comment)) for subject, notes in no_codes.items()}


def _code_rank(code: Code) -> tuple:
    rank = RELATIONS.index(code.relation) if code.relation in RELATIONS else len(RELATIONS)
    return (rank, code.relation, not code.code, code.code, not code.label, len(code.label), code.label)


def _scheme_key(scheme: str, target: str, base: str) -> str | None:
    """``soc2020``, ``isco``, ``esco`` or ``ddat`` for a concept scheme IRI or a target IRI."""
    if scheme.endswith("/scheme/soc2020") or target.startswith(f"{base}/id/soc2020/"):
        return "soc2020"
    if scheme.endswith("/concept-scheme/isco") or target.startswith(f"{ESCO}isco/"):
        return "isco"
    if scheme.endswith("/concept-scheme/occupations") or target.startswith(f"{ESCO}occupation/"):
        return "esco"
    if "ddat-capability-framework" in scheme or "ddat-capability-framework" in target:
        return "ddat"
    return None


def _examples(store: ox.Store, prefixes: dict[str, str]) -> dict[str, set[str]]:
    """Each mapped target's related job titles (``skos:example``)."""
    out: dict[str, set[str]] = {}
    for row in run_query(store, _EXAMPLE_QUERY, prefixes=prefixes):
        out.setdefault(row["target"].value, set()).add(row["example"].value)
    return out


def _unique_examples(codes: dict[str, list[Code]], examples: dict[str, set[str]]) -> dict[str, list[Label]]:
    """SOC 2020 related job titles, as weak labels of the one concept mapped to their group.

    A unit group mapped from two or more concepts (2433 holds statisticians, economists and
    bioinformaticians) says nothing about which of them a title means, so it gives none.
    """
    owners: dict[tuple[str, str], list[str]] = {}
    for subject, mapped in codes.items():
        for code in mapped:
            strength = _example_strength(code)
            if strength and code.id in examples:
                owners.setdefault((strength, code.id), []).append(subject)
    out: dict[str, list[Label]] = {}
    for (strength, target), subjects in sorted(owners.items(), key=lambda item: (item[0][1], item[0][0])):
        if len(subjects) == 1:
            out.setdefault(subjects[0], []).extend(Label(t, strength) for t in sorted(examples[target]))
    return {subject: sorted(labels, key=lambda label: LABEL_KINDS.index(label.kind)) for subject, labels in out.items()}


def _example_strength(code: Code) -> str | None:
    if code.scheme != "soc2020":
        return None
    if code.relation in MATCHER_CODE_RELATIONS:
        return "example"
    return "related-example" if code.relation == "relatedMatch" else None


def _value(term: ox.NamedNode | ox.Literal | None) -> str:
    return "" if term is None else term.value


def _text(term: ox.NamedNode | ox.Literal) -> tuple[str, bool]:
    """A literal's text and whether it is English (or untagged); an IRI's text."""
    language = getattr(term, "language", None)
    return term.value, (not language or language.lower().startswith("en"))


def _best(values: set[tuple[str, bool]]) -> str:
    """English first, then the shortest, then alphabetical: the same choice on every build."""
    return min(values, key=lambda item: (not item[1], len(item[0]), item[0]))[0]
