"""The Reconciliation Service API (v0.2, and the 1.0 draft's match, suggest and extend): requests to responses.

Pure functions, no Flask: :mod:`nhs_ai_workforce.web.reconcile` turns HTTP requests into their
arguments and the dicts they return into JSON. Candidates for a query come from the matcher
(``Reconciler.match``); what the service shows besides (suggestions, previews, data extension,
property constraints, the codes that do not exist) comes from a :class:`Catalogue` read here
from the store with SPARQL.

The four kinds of candidate are types whose ids are their classes: ``aiwf:RoleConcept``,
``aiwf:WorkforceGroup``, ``org:Organization`` and ``aiwf:Initiative``; a query may also name
them by key (``role``, ``workforce-group``, ``organisation``, ``initiative``). Properties are
short ids: ``soc2020``, ``isco``, ``esco``, ``ddat`` (the standard codes reached through the
curated mappings), ``definition``, ``broader``, ``alt_label`` and ``no_code`` (the
classifications that have no code for a concept, and why).

>>> parse_query_batch('{"q0": {"query": " Data analyst ", "limit": "3", "type": "role"}}')["q0"]
Query(text='Data analyst', types=('role',), limit=3, constraints=(), ids=())
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core.errors import ServiceError
from ..store.query import run_query

__all__ = [
    "PROPERTIES",
    "Catalogue",
    "Query",
    "extend",
    "extend_draft",
    "load_catalogue",
    "manifest",
    "manifest_draft",
    "match_batch",
    "parse_extend",
    "parse_match_batch",
    "parse_query_batch",
    "preview_html",
    "propose_properties",
    "reconcile_batch",
    "service_types",
    "suggest_entities",
    "suggest_properties",
    "suggest_types",
]

SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
SSSOM = "https://w3id.org/sssom/"
NO_TERM_FOUND = f"{SSSOM}NoTermFound"

SERVICE_NAME = "NHS AI workforce knowledge graph"
DEFAULT_LIMIT = 5
MAX_LIMIT = 100
MAX_QUERIES = 500
SUGGEST_LIMIT = 10
PREVIEW_WIDTH, PREVIEW_HEIGHT = 420, 220

#: Boost for each property constraint a candidate meets, penalty for each it contradicts.
PROPERTY_BOOST, PROPERTY_PENALTY = 10.0, 30.0
#: A candidate that meets every property constraint is a match with this score and this lead.
MATCH_SCORE, MATCH_MARGIN = 85.0, 8.0


# -- types and properties ----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceType:
    """A kind of candidate: its key, class IRI (the type id), name and description."""

    key: str
    id: str
    name: str
    description: str

    def ref(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


def service_types(base: str) -> tuple[ServiceType, ...]:
    """The four types of the service under ``base``."""
    aiwf = f"{base.rstrip('/')}/def/aiwf/"
    return (
        ServiceType("role", f"{aiwf}RoleConcept", "Role concept",
                    "A kind of digital, data or AI job, under the names initiatives give it"),
        ServiceType("workforce-group", f"{aiwf}WorkforceGroup", "Workforce group",
                    "A group of NHS staff in the AI Roadmap's analysis"),
        ServiceType("organisation", f"{ORG}Organization", "Organisation",
                    "A body that publishes, commissions or runs initiatives"),
        ServiceType("initiative", f"{aiwf}Initiative", "Initiative",
                    "A review, report, strategy, plan, programme or roadmap"),
    )


@dataclass(frozen=True)
class ServiceProperty:
    """A property a query may constrain or a data extension may fetch."""

    id: str
    name: str
    description: str
    types: tuple[str, ...]  # keys of the types it applies to

    def ref(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "description": self.description}


_CONCEPTS = ("role", "workforce-group")
_ALL = ("role", "workforce-group", "organisation", "initiative")

PROPERTIES = (
    ServiceProperty("soc2020", "SOC 2020 unit group", "ONS SOC 2020 unit group code reached through the "
                    "curated mappings (exact, close or broad match)", _CONCEPTS),
    ServiceProperty("isco", "ISCO-08 unit group", "ISCO-08 unit group code, as ESCO publishes it", _CONCEPTS),
    ServiceProperty("esco", "ESCO occupation", "ESCO v1.2.0 occupation", _CONCEPTS),
    ServiceProperty("ddat", "Digital and Data capability framework role",
                    "Role in the government Digital and Data capability framework", _CONCEPTS),
    ServiceProperty("no_code", "Classifications with no code", "Standard classifications that have no code "
                    "for this concept, and why", _CONCEPTS),
    ServiceProperty("broader", "Broader concept", "The broader role concept", _CONCEPTS),
    ServiceProperty("definition", "Definition", "Definition or description", _ALL),
    ServiceProperty("alt_label", "Other names", "Alternative names and titles", _ALL),
)
_PROPERTY_BY_ID = {prop.id: prop for prop in PROPERTIES}

#: The code-bearing properties and how each scheme is shown.
SCHEMES = {"soc2020": "SOC 2020", "isco": "ISCO-08", "esco": "ESCO occupation", "ddat": "DDaT role"}
_CODE_RELATIONS = {"exactMatch": "exact match", "closeMatch": "close match", "broadMatch": "broad match",
                   "narrowMatch": "narrow match"}


# -- the catalogue: what the service shows, read from the store --------------------------------


@dataclass(frozen=True)
class Code:
    """A standard code an entity maps to: its scheme key, IRI, notation, label and SKOS relation."""

    scheme: str
    id: str
    code: str
    label: str
    relation: str  # the SKOS local name: exactMatch, closeMatch, broadMatch, narrowMatch, relatedMatch

    @property
    def is_code(self) -> bool:
        """Does the mapping give the entity this code (related matches do not)?"""
        return self.relation in _CODE_RELATIONS

    def display(self) -> str:
        return " ".join(part for part in (self.code, self.label) if part) or self.id


@dataclass(frozen=True)
class NoCode:
    """A scheme that has no code for an entity, and the curator's reason."""

    scheme: str
    comment: str


@dataclass
class Entity:
    """One candidate as the service shows it."""

    id: str
    name: str
    types: list[ServiceType]
    description: str = ""
    alt_labels: list[str] = field(default_factory=list)
    hidden_labels: list[str] = field(default_factory=list)
    broader: list[str] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    no_codes: list[NoCode] = field(default_factory=list)

    def codes_in(self, scheme: str) -> list[Code]:
        return [code for code in self.codes if code.scheme == scheme and code.is_code]


@dataclass
class Catalogue:
    """Every candidate of one store build, by IRI, with the service's types."""

    types: tuple[ServiceType, ...]
    entities: dict[str, Entity]

    def get(self, iri: str) -> Entity | None:
        return self.entities.get(iri)

    def type_ids(self, requested: Iterable[str]) -> list[str]:
        """Type ids for requested ids or keys (``role``, ``RoleConcept``, the class IRI...)."""
        out = []
        for name in requested:
            found = next((t for t in self.types if _same_type(name, t)), None)
            out.append(found.id if found else name)
        return list(dict.fromkeys(out))

    def in_types(self, entity: Entity, type_ids: Sequence[str] | None) -> bool:
        return not type_ids or any(t.id in type_ids for t in entity.types)

    def name_of(self, iri: str) -> str:
        entity = self.entities.get(iri)
        return entity.name if entity else iri


def _same_type(name: str, service_type: ServiceType) -> bool:
    name = name.strip()
    local = service_type.id.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return name in (service_type.id, service_type.key) or name.lower() in (
        local.lower(), service_type.name.lower(), f"aiwf:{local}".lower(), f"org:{local}".lower())


_ENTITY_QUERY = """
SELECT ?entity ?type ?p ?o WHERE {{
  VALUES ?type {{ {types} }}
  ?entity a ?type .
  OPTIONAL {{
    VALUES ?p {{ skos:prefLabel foaf:name dcterms:title rdfs:label skos:altLabel dcterms:alternative
                skos:hiddenLabel skos:definition dcterms:description skos:broader }}
    ?entity ?p ?o
  }}
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

_TYPE_QUERY = """
SELECT ?type ?label ?definition WHERE {{
  VALUES ?type {{ {types} }}
  OPTIONAL {{ ?type rdfs:label ?label }}
  OPTIONAL {{ ?type skos:definition ?definition }}
}}
"""

_NAME_ORDER = ("prefLabel", "name", "title", "label")
_PREFIXES = {
    "skos": SKOS,
    "foaf": "http://xmlns.com/foaf/0.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "sssom": SSSOM,
}


def load_catalogue(store: Any, base: str) -> Catalogue:
    """Read every candidate, its names, definition, broader concepts and mapped codes from ``store``."""
    values = " ".join(f"<{t.id}>" for t in service_types(base))
    types = _described_types(store, service_types(base), values)
    by_id = {t.id: t for t in types}
    raw: dict[str, dict[str, Any]] = {}
    for row in run_query(store, _ENTITY_QUERY.format(types=values), prefixes=_PREFIXES):
        iri = row["entity"].value
        record = raw.setdefault(iri, {"types": [], "values": {}})
        type_iri = row["type"].value
        if by_id[type_iri] not in record["types"]:
            record["types"].append(by_id[type_iri])
        if row["p"] is not None:
            local = _local(row["p"].value)
            record["values"].setdefault(local, set()).add(_literal(row["o"]))
    entities = {}
    for iri, record in raw.items():
        vals = record["values"]
        name = next((_best(vals[k]) for k in _NAME_ORDER if vals.get(k)), None)
        if not name:
            continue
        description = next((_best(vals[k]) for k in ("definition", "description") if vals.get(k)), "")
        alts = sorted({text for k in ("altLabel", "alternative") for text, _ in vals.get(k, ()) if text != name})
        entities[iri] = Entity(
            id=iri,
            name=name,
            types=sorted(record["types"], key=types.index),
            description=description,
            alt_labels=alts,
            hidden_labels=sorted({text for text, _ in vals.get("hiddenLabel", ())}),
            broader=sorted(text for text, _ in vals.get("broader", ())),
        )
    _add_mappings(store, entities, base)
    ordered = dict(sorted(entities.items(), key=lambda item: (_fold(item[1].name), item[0])))
    return Catalogue(types=types, entities=ordered)


def _described_types(store: Any, types: tuple[ServiceType, ...], values: str) -> tuple[ServiceType, ...]:
    """The built-in types with the ontology's definitions where the store has them."""
    found: dict[str, str] = {}
    for row in run_query(store, _TYPE_QUERY.format(types=values), prefixes=_PREFIXES):
        if row["definition"] is not None:
            found.setdefault(row["type"].value, row["definition"].value)
    return tuple(ServiceType(t.key, t.id, t.name, found.get(t.id, t.description)) for t in types)


def _add_mappings(store: Any, entities: dict[str, Entity], base: str) -> None:
    seen: set[tuple] = set()
    rows = sorted(run_query(store, _MAPPING_QUERY, prefixes=_PREFIXES),
                  key=lambda row: tuple(_value(row[name]) for name in ("subject", "target", "relation", "notation")))
    for row in rows:
        entity = entities.get(row["subject"].value)
        if entity is None:
            continue
        target = row["target"].value
        scheme = _scheme_key(_value(row["source"]) or _value(row["scheme"]), target, base)
        if scheme is None:
            continue
        if target == NO_TERM_FOUND:
            note = NoCode(scheme, _value(row["comment"]))
            if note not in entity.no_codes:
                entity.no_codes.append(note)
            continue
        key = (entity.id, target)
        if key in seen:
            continue
        seen.add(key)
        label = _value(row["label"]) or _value(row["object_label"])
        entity.codes.append(Code(scheme, target, _value(row["notation"]), label, _local(row["relation"].value)))


def _scheme_key(scheme: str, target: str, base: str) -> str | None:
    """``soc2020``, ``isco``, ``esco`` or ``ddat`` for a concept scheme IRI or a target IRI."""
    ids = f"{base.rstrip('/')}/id/"
    if scheme.endswith("/scheme/soc2020") or target.startswith(f"{ids}soc2020/"):
        return "soc2020"
    if scheme.endswith("/concept-scheme/isco") or target.startswith("http://data.europa.eu/esco/isco/"):
        return "isco"
    if scheme.endswith("/concept-scheme/occupations") or target.startswith("http://data.europa.eu/esco/occupation/"):
        return "esco"
    if "ddat-capability-framework" in scheme or "ddat-capability-framework" in target:
        return "ddat"
    return None


def _local(iri: str) -> str:
    return re.split(r"[/#]", iri)[-1]


def _value(term: Any) -> str:
    return "" if term is None else term.value


def _literal(term: Any) -> tuple[str, bool]:
    """A literal's text and whether it is English (or untagged); an IRI's text."""
    language = getattr(term, "language", None)
    return term.value, (not language or language.lower().startswith("en"))


def _best(values: set[tuple[str, bool]]) -> str:
    """English first, then the shortest, then alphabetical: the same choice on every build."""
    return min(values, key=lambda item: (not item[1], len(item[0]), item[0]))[0]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


# -- the manifests ------------------------------------------------------------------------------


def _service_version() -> str:
    try:
        from importlib.metadata import version

        return version("nhs-ai-workforce")
    except Exception:  # noqa: BLE001 - not installed: the manifest still works
        return "unknown"


def manifest(service_url: str, base: str) -> dict:
    """The v0.2 service manifest; ``service_url`` is this service's absolute URL (``.../reconcile``)."""
    base = base.rstrip("/")
    return {
        "versions": ["0.2"],
        "name": SERVICE_NAME,
        "identifierSpace": f"{base}/id/",
        "schemaSpace": f"{base}/def/aiwf/",
        "serviceVersion": _service_version(),
        "defaultTypes": [t.ref() for t in service_types(base)],
        "view": {"url": f"{service_url}/view?id={{{{id}}}}"},
        "preview": {"url": f"{service_url}/preview?id={{{{id}}}}", "width": PREVIEW_WIDTH, "height": PREVIEW_HEIGHT},
        "suggest": {
            "entity": {"service_url": service_url, "service_path": "/suggest/entity"},
            "type": {"service_url": service_url, "service_path": "/suggest/type"},
            "property": {"service_url": service_url, "service_path": "/suggest/property"},
        },
        "extend": {
            "propose_properties": {"service_url": service_url, "service_path": "/propose_properties"},
            "property_settings": [],
        },
    }


def manifest_draft(service_url: str, base: str) -> dict:
    """The 1.0-draft manifest, served at the draft service's own root (``service_url``)."""
    base = base.rstrip("/")
    return {
        "versions": ["1.0-draft"],
        "name": SERVICE_NAME,
        "lang": "en",
        "identifierSpace": f"{base}/id/",
        "schemaSpace": f"{base}/def/aiwf/",
        "serviceVersion": _service_version(),
        "defaultTypes": [t.ref() for t in service_types(base)],
        "view": {"url": f"{service_url}/view?id={{id}}"},
        "preview": {"width": PREVIEW_WIDTH, "height": PREVIEW_HEIGHT},
        "suggest": {"entity": True, "property": True, "type": True},
        "extend": {"proposeProperties": True, "propertySettings": []},
    }


# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    """A property a candidate should have: its id, the wanted values, and whether it is required."""

    pid: str
    values: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True)
class Query:
    """One reconciliation query, whichever version of the API it came in."""

    text: str = ""
    types: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    constraints: tuple[Constraint, ...] = ()
    ids: tuple[str, ...] = ()


class Matcher(Protocol):
    """What the service needs of the matcher."""

    def match(self, text: str, *, types: list[str] | None = None, limit: int = 5,
              properties: Any = None) -> list[Any]: ...


def _bad(message: str) -> ServiceError:
    return ServiceError(400, "Malformed reconciliation request", message)


def _load_json(text: str | bytes | None, what: str) -> Any:
    if text is None or (isinstance(text, str | bytes) and not text.strip()):
        raise _bad(f"'{what}' is empty")
    try:
        return json.loads(text)
    except (ValueError, TypeError) as error:
        raise _bad(f"'{what}' is not JSON: {error}") from error


def _limit(value: Any, where: str) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if isinstance(value, bool):
        raise _bad(f"{where}.limit must be a number")
    try:
        number = int(float(value))
    except (TypeError, ValueError) as error:
        raise _bad(f"{where}.limit must be a number, not {value!r}") from error
    if number < 1:
        raise _bad(f"{where}.limit must be at least 1")
    return min(number, MAX_LIMIT)


def _values(value: Any, where: str) -> tuple[str, ...]:
    """Property values as strings: a string, number, boolean, ``{"id": ...}`` or a list of them."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            if not isinstance(item.get("id"), str):
                raise _bad(f"{where}: an entity value needs a string 'id'")
            out.append(item["id"])
        elif isinstance(item, str | int | float | bool):
            out.append(str(item).lower() if isinstance(item, bool) else str(item))
        else:
            raise _bad(f"{where}: a value must be a string, number, boolean or {{\"id\": ...}}")
    return tuple(out)


def _types(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            item = item["id"]
        if not isinstance(item, str):
            raise _bad(f"{where}.type must be a type id or a list of type ids")
        if item.strip():
            out.append(item.strip())
    return tuple(out)


def parse_query_batch(text: str | bytes | None) -> dict[str, Query]:
    """A v0.2 query batch (the ``queries`` parameter) as :class:`Query` objects by key.

    :raises ServiceError: 400 naming the fault, when it is not a batch of queries.
    """
    batch = _load_json(text, "queries")
    if not isinstance(batch, dict):
        raise _bad("'queries' must be a JSON object of queries keyed by name, such as {\"q0\": {\"query\": \"...\"}}")
    if len(batch) > MAX_QUERIES:
        raise _bad(f"at most {MAX_QUERIES} queries in one batch, not {len(batch)}")
    out = {}
    for key, query in batch.items():
        where = f"queries.{key}"
        if not isinstance(query, dict):
            raise _bad(f"{where} must be an object such as {{\"query\": \"...\"}}")
        text_value = query.get("query", "")
        if not isinstance(text_value, str):
            raise _bad(f"{where}.query must be a string")
        properties = query.get("properties", [])
        if not isinstance(properties, list):
            raise _bad(f"{where}.properties must be a list of {{\"pid\": ..., \"v\": ...}}")
        constraints = []
        for number, item in enumerate(properties):
            if not isinstance(item, dict) or not isinstance(item.get("pid"), str) or "v" not in item:
                raise _bad(f"{where}.properties[{number}] must be an object with 'pid' and 'v'")
            constraints.append(Constraint(item["pid"], _values(item["v"], f"{where}.properties[{number}].v")))
        if not text_value.strip() and not constraints:
            raise _bad(f"{where} needs a 'query' string or at least one property")
        out[str(key)] = Query(text_value.strip(), _types(query.get("type"), where),
                              _limit(query.get("limit"), where), tuple(constraints))
    return out


def parse_match_batch(body: Any) -> list[Query]:
    """A 1.0-draft query batch (``{"queries": [{"conditions": [...]}]}``) as :class:`Query` objects.

    :raises ServiceError: 400 naming the fault.
    """
    if isinstance(body, str | bytes):
        body = _load_json(body, "body")
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise _bad("the body must be a JSON object with a 'queries' list")
    queries = body["queries"]
    if len(queries) > MAX_QUERIES:
        raise _bad(f"at most {MAX_QUERIES} queries in one batch, not {len(queries)}")
    out = []
    for number, query in enumerate(queries):
        where = f"queries[{number}]"
        if not isinstance(query, dict):
            raise _bad(f"{where} must be an object")
        conditions = query.get("conditions")
        if not isinstance(conditions, list) or not conditions:
            raise _bad(f"{where}.conditions must be a non-empty list")
        names, ids, constraints = [], [], []
        for index, condition in enumerate(conditions):
            at = f"{where}.conditions[{index}]"
            if not isinstance(condition, dict) or "propertyValue" not in condition:
                raise _bad(f"{at} must be an object with 'matchType' and 'propertyValue'")
            kind = condition.get("matchType")
            values = _values(condition["propertyValue"], f"{at}.propertyValue")
            if kind == "name":
                names.extend(values)
            elif kind == "id":
                ids.extend(values)
            elif kind == "property":
                if not isinstance(condition.get("propertyId"), str):
                    raise _bad(f"{at}.propertyId is required when matchType is 'property'")
                constraints.append(Constraint(condition["propertyId"], values, condition.get("required") is True))
            else:
                raise _bad(f"{at}.matchType must be 'name', 'id' or 'property'")
        out.append(Query(" ".join(names).strip(), _types(query.get("type"), where),
                         _limit(query.get("limit"), where), tuple(constraints), tuple(ids)))
    return out


# -- answering queries --------------------------------------------------------------------------


def _get(candidate: Any, name: str, default: Any = None) -> Any:
    if isinstance(candidate, dict):
        return candidate.get(name, default)
    return getattr(candidate, name, default)


def _type_ref(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {"id": value, "name": value}
    ref = {"id": str(_get(value, "id") or _get(value, "iri"))}
    name = _get(value, "name")
    if name:
        ref["name"] = str(name)
    return ref


@dataclass
class _Scored:
    id: str
    name: str
    score: float
    match: bool
    types: list[dict[str, str]]
    description: str = ""

    def as_result(self) -> dict:
        result = {"id": self.id, "name": self.name, "type": self.types, "score": round(self.score, 2),
                  "match": self.match}
        if self.description:
            result["description"] = self.description
        return result


def _from_candidate(candidate: Any) -> _Scored:
    return _Scored(
        id=str(_get(candidate, "id")),
        name=str(_get(candidate, "name") or _get(candidate, "id")),
        score=float(_get(candidate, "score") or 0.0),
        match=bool(_get(candidate, "match")),
        types=[_type_ref(t) for t in (_get(candidate, "types") or [])],
        description=str(_get(candidate, "description") or ""),
    )


def _from_entity(entity: Entity, score: float, match: bool) -> _Scored:
    return _Scored(entity.id, entity.name, score, match, [t.ref() for t in entity.types], entity.description)


def _keys(value: str) -> set[str]:
    """The forms a code or identifier may be written in: ``C2511``, ``isco:C2511``, its IRI, ``2511``."""
    value = _fold(value)
    out = {value}
    tail = re.split(r"[/#:]", value)[-1]
    out.add(tail)
    out |= {digits.group(1) for part in (value, tail) if (digits := re.fullmatch(r"c?(\d+(?:\.\d+)*)", part))}
    return {item for item in out if item}


def _entity_values(entity: Entity, pid: str, catalogue: Catalogue) -> set[str] | None:
    """Everything ``entity`` may be said to have for ``pid``, in :func:`_keys` form; ``None`` if unknown."""
    if pid in SCHEMES:
        codes = entity.codes_in(pid)
        keys: set[str] = set()
        for code in codes:
            keys |= _keys(code.id) | ({*_keys(code.code)} if code.code else set()) | {_fold(code.label)}
        return keys
    if pid == "broader":
        return {key for iri in entity.broader for key in (*_keys(iri), _fold(catalogue.name_of(iri)))}
    if pid == "alt_label":
        return {_fold(label) for label in (entity.name, *entity.alt_labels)}
    return None


def _constraint_effect(entity: Entity | None, constraint: Constraint, catalogue: Catalogue) -> int:
    """+1 when ``entity`` meets ``constraint``, -1 when it contradicts it, 0 when it cannot tell."""
    if entity is None:
        return 0
    have = _entity_values(entity, constraint.pid, catalogue)
    if have is None:
        return 0
    if not have:
        return -1 if constraint.required else 0
    wanted = set().union(*(_keys(value) for value in constraint.values)) if constraint.values else set()
    return 1 if wanted & have else -1


def _apply_constraints(scored: list[_Scored], constraints: Sequence[Constraint], catalogue: Catalogue) -> list[_Scored]:
    """Raise candidates that meet the constraints, lower those that contradict them, drop those
    that miss a required one; the best is a match if it was one and contradicts none, or if it
    meets every constraint the service knows, scores at least :data:`MATCH_SCORE` and leads
    the next by :data:`MATCH_MARGIN`.
    """
    known = [c for c in constraints if c.pid in _PROPERTY_BY_ID]
    out, meets_all = [], {}
    for item in scored:
        entity = catalogue.get(item.id)
        effects = [(c, _constraint_effect(entity, c, catalogue)) for c in constraints]
        if any(c.required and effect < 1 for c, effect in effects):
            continue
        met = sum(1 for _, effect in effects if effect > 0)
        broken = sum(1 for _, effect in effects if effect < 0)
        item.score = max(0.0, min(100.0, item.score + PROPERTY_BOOST * met - PROPERTY_PENALTY * broken))
        item.match = item.match and not broken
        meets_all[item.id] = bool(known) and met == len(known)
        out.append(item)
    out.sort(key=lambda item: (-item.score, not item.match, item.name, item.id))
    for rank, item in enumerate(out):
        if rank:
            item.match = False
        elif not item.match and meets_all[item.id] and item.score >= MATCH_SCORE:
            item.match = len(out) == 1 or item.score - out[1].score >= MATCH_MARGIN
    return out


def _by_properties(query: Query, type_ids: list[str], catalogue: Catalogue) -> list[_Scored]:
    """Candidates for a query with no name: the entities that meet every property constraint."""
    known = [c for c in query.constraints if c.pid in _PROPERTY_BY_ID]
    if not known:
        return []
    hits = [entity for entity in catalogue.entities.values() if catalogue.in_types(entity, type_ids)
            and all(_constraint_effect(entity, c, catalogue) > 0 for c in known)]
    return [_from_entity(entity, 100.0, len(hits) == 1) for entity in hits]


def answer(query: Query, matcher: Matcher, catalogue: Catalogue) -> list[_Scored]:
    """The scored candidates for one query, best first, at most ``query.limit``."""
    type_ids = catalogue.type_ids(query.types) if query.types else []
    known = {t.id for t in catalogue.types}
    if query.types and not known.intersection(type_ids):
        return []  # only types this service does not have: nothing can be of them
    type_ids = [t for t in type_ids if t in known]
    if query.ids:
        found = [catalogue.get(iri) for iri in dict.fromkeys(query.ids)]
        scored = [_from_entity(e, 100.0, True) for e in found if e is not None and catalogue.in_types(e, type_ids)]
    elif query.text:
        wanted = query.limit if not query.constraints else max(query.limit * 4, 25)
        candidates = matcher.match(query.text, types=type_ids or None, limit=wanted)
        scored = [_from_candidate(c) for c in candidates]
        if type_ids:  # the matcher filters already; make sure of it
            scored = [s for s in scored if any(t["id"] in type_ids for t in s.types)]
    else:
        scored = _by_properties(query, type_ids, catalogue)
    if query.constraints:
        scored = _apply_constraints(scored, query.constraints, catalogue)
    return scored[: query.limit]


def reconcile_batch(queries: dict[str, Query], matcher: Matcher, catalogue: Catalogue) -> dict:
    """The v0.2 result batch: ``{key: {"result": [candidate, ...]}}``."""
    return {key: {"result": [s.as_result() for s in answer(q, matcher, catalogue)]} for key, q in queries.items()}


def match_batch(queries: list[Query], matcher: Matcher, catalogue: Catalogue) -> dict:
    """The 1.0-draft result batch: ``{"results": [{"candidates": [...]}, ...]}`` in query order."""
    return {"results": [{"candidates": [s.as_result() for s in answer(q, matcher, catalogue)]} for q in queries]}


# -- suggest ------------------------------------------------------------------------------------


def _prefix_rank(prefix: str, name: str, others: Iterable[str]) -> int | None:
    """How well ``prefix`` starts a name: 0 the name, 1 a word of it, 2 another name, 3 a word of one."""
    if not prefix:
        return 0
    for rank, labels in ((0, [name]), (2, list(others))):
        folded = [_fold(label) for label in labels]
        if any(label.startswith(prefix) for label in folded):
            return rank
        if any(word.startswith(prefix) for label in folded for word in re.split(r"[\s,:;()/-]+", label)):
            return rank + 1
    return None


def _page(items: list[dict], cursor: int, limit: int) -> list[dict]:
    return items[max(cursor, 0): max(cursor, 0) + max(1, min(limit, MAX_LIMIT))]


def suggest_entities(catalogue: Catalogue, prefix: str, *, types: Sequence[str] = (), cursor: int = 0,
                     limit: int = SUGGEST_LIMIT) -> dict:
    """Entities whose name, or another name, starts with ``prefix`` (or has a word that does)."""
    wanted = _fold(prefix)
    type_ids = catalogue.type_ids(types) if types else []
    ranked = []
    for entity in catalogue.entities.values():
        if not catalogue.in_types(entity, type_ids):
            continue
        rank = _prefix_rank(wanted, entity.name, [*entity.alt_labels, *entity.hidden_labels])
        if rank is not None:
            ranked.append((rank, len(entity.name), _fold(entity.name), entity))
    ranked.sort(key=lambda item: item[:3])
    results = []
    for *_, entity in ranked:
        item = {"id": entity.id, "name": entity.name, "notable": [t.ref() for t in entity.types]}
        if entity.description:
            item["description"] = entity.description
        results.append(item)
    return {"result": _page(results, cursor, limit)}


def suggest_types(catalogue_types: Sequence[ServiceType], prefix: str, *, cursor: int = 0,
                  limit: int = SUGGEST_LIMIT) -> dict:
    """The service's types whose name or key starts with ``prefix``."""
    wanted = _fold(prefix)
    hits = [t for t in catalogue_types if _prefix_rank(wanted, t.name, [t.key, _local(t.id)]) is not None]
    return {"result": _page([{**t.ref(), "description": t.description} for t in hits], cursor, limit)}


def suggest_properties(prefix: str, *, cursor: int = 0, limit: int = SUGGEST_LIMIT) -> dict:
    """The service's properties whose name or id starts with ``prefix``."""
    wanted = _fold(prefix)
    hits = [p for p in PROPERTIES if _prefix_rank(wanted, p.name, [p.id]) is not None]
    return {"result": _page([p.ref() for p in hits], cursor, limit)}


# -- data extension -----------------------------------------------------------------------------


def propose_properties(catalogue_types: Sequence[ServiceType], type_id: str | None, limit: int | None = None) -> dict:
    """The properties worth fetching for entities of ``type_id`` (all of them without one)."""
    service_type = next((t for t in catalogue_types if type_id and _same_type(type_id, t)), None)
    props = [p for p in PROPERTIES if service_type is None or service_type.key in p.types]
    if limit:
        props = props[: max(1, limit)]
    out: dict[str, Any] = {"properties": [{"id": p.id, "name": p.name, "description": p.description}
                                          for p in props]}
    if type_id:
        out["type"] = type_id
    if limit:
        out["limit"] = limit
    return out


def parse_extend(text: str | bytes | dict | None) -> tuple[list[str], list[str]]:
    """The ids and property ids of a data extension query (``{"ids": [...], "properties": [{"id"}]}``)."""
    query = text if isinstance(text, dict) else _load_json(text, "extend")
    if not isinstance(query, dict):
        raise _bad("'extend' must be a JSON object with 'ids' and 'properties'")
    ids, properties = query.get("ids"), query.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _bad("extend.ids must be a list of entity ids")
    if not isinstance(properties, list) or not all(isinstance(p, dict) and isinstance(p.get("id"), str)
                                                   for p in properties):
        raise _bad("extend.properties must be a list of {\"id\": ...}")
    if len(ids) > MAX_QUERIES:
        raise _bad(f"at most {MAX_QUERIES} ids in one extension, not {len(ids)}")
    return list(dict.fromkeys(ids)), list(dict.fromkeys(p["id"] for p in properties))


def _property_values(entity: Entity | None, pid: str, catalogue: Catalogue) -> list[dict]:
    if entity is None:
        return []
    if pid in ("soc2020", "isco"):
        return [{"str": code.code or _local(code.id)} for code in entity.codes_in(pid)]
    if pid in ("esco", "ddat"):
        return [{"id": code.id, "name": code.label or code.id} for code in entity.codes_in(pid)]
    if pid == "no_code":
        return [{"str": f"{SCHEMES[note.scheme]}: {note.comment}" if note.comment else SCHEMES[note.scheme]}
                for note in entity.no_codes]
    if pid == "broader":
        return [{"id": iri, "name": catalogue.name_of(iri)} for iri in entity.broader]
    if pid == "definition":
        return [{"str": entity.description}] if entity.description else []
    if pid == "alt_label":
        return [{"str": label} for label in entity.alt_labels]
    return []


def _meta(pid: str) -> dict:
    prop = _PROPERTY_BY_ID.get(pid)
    return {"id": pid, "name": prop.name if prop else pid}


def extend(catalogue: Catalogue, ids: list[str], pids: list[str]) -> dict:
    """The v0.2 data extension response: ``{"meta": [...], "rows": {id: {pid: [values]}}}``."""
    return {
        "meta": [_meta(pid) for pid in pids],
        "rows": {iri: {pid: _property_values(catalogue.get(iri), pid, catalogue) for pid in pids} for iri in ids},
    }


def extend_draft(catalogue: Catalogue, ids: list[str], pids: list[str]) -> dict:
    """The 1.0-draft data extension response: ``rows`` as a list of ``{id, properties: [{id, values}]}``."""
    return {
        "meta": [_meta(pid) for pid in pids],
        "rows": [{"id": iri, "properties": [{"id": pid, "values": _property_values(catalogue.get(iri), pid, catalogue)}
                                            for pid in pids]} for iri in ids],
    }


# -- preview ------------------------------------------------------------------------------------

_PREVIEW = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{name}</title>
<style>
html,body{{margin:0;padding:0;background:#fff;color:#212b32}}
body{{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Arial,sans-serif}}
.card{{box-sizing:border-box;width:{width}px;max-width:100%;height:{height}px;overflow:auto;padding:8px 10px}}
h1{{font-size:15px;margin:0 0 2px}} a{{color:#005eb8}}
.type{{color:#4c6272;margin:0 0 6px;font-size:12px}} p{{margin:0 0 6px}}
dl{{display:grid;grid-template-columns:max-content 1fr;gap:1px 8px;margin:0}} dt{{font-weight:600}} dd{{margin:0}}
.none{{color:#8a1538}}
</style>
</head>
<body>
<div class="card">
<h1><a href="{id}" target="_blank" rel="noopener noreferrer">{name}</a></h1>
<p class="type">{types}</p>
{description}{details}
</div>
</body>
</html>
"""


def preview_html(catalogue: Catalogue, iri: str, *, width: int = PREVIEW_WIDTH,
                 height: int = PREVIEW_HEIGHT) -> str | None:
    """A small HTML card for the entity ``iri`` (every value escaped), or ``None`` if unknown."""
    entity = catalogue.get(iri)
    if entity is None:
        return None
    esc = html.escape
    rows: list[tuple[str, str]] = []
    for scheme, label in SCHEMES.items():
        for code in (c for c in entity.codes if c.scheme == scheme):
            relation = _CODE_RELATIONS.get(code.relation, "related match")
            rows.append((label, f"{esc(code.display())} <small>({esc(relation)})</small>"))
        for note in (n for n in entity.no_codes if n.scheme == scheme):
            rows.append((label, f'<span class="none">no code</span>: {esc(note.comment)}'))
    if entity.broader:
        rows.append(("Broader", esc("; ".join(catalogue.name_of(iri) for iri in entity.broader))))
    if entity.alt_labels:
        rows.append(("Also", esc("; ".join(entity.alt_labels[:6]))))
    details = "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>" if rows else ""
    return _PREVIEW.format(
        name=esc(entity.name),
        id=esc(entity.id, quote=True),
        types=esc(", ".join(t.name for t in entity.types)),
        description=f"<p>{esc(entity.description)}</p>\n" if entity.description else "",
        details=details,
        width=int(width),
        height=int(height),
    )
