"""The properties a query may constrain or a data extension may fetch, and their values for an entity.

Properties are short ids: ``soc2020``, ``isco``, ``esco``, ``ddat`` (the standard codes reached
through the curated mappings), ``definition``, ``broader``, ``alt_label`` and ``no_code`` (the
classifications that have no code for a concept, and why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .catalogue import Catalogue, Entity, fold
from .kinds import local_name


@dataclass(frozen=True)
class ServiceProperty:
    """A property a query may constrain or a data extension may fetch."""

    id: str
    name: str
    description: str
    types: tuple[str, ...]  # keys of the kinds it applies to

    def ref(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "description": self.description}


_CONCEPTS = ("role", "workforce-group")
_ALL = ("role", "workforce-group", "organisation", "initiative")

#: The code-bearing properties and how each scheme is shown.
SCHEMES = {"soc2020": "SOC 2020", "isco": "ISCO-08", "esco": "ESCO occupation", "ddat": "DDaT role"}


def _code_properties(scheme: str, name: str, description: str) -> tuple[ServiceProperty, ...]:
    """A code, its title and the SKOS mapping predicate that gives it, as three properties."""
    return (
        ServiceProperty(scheme, name, description, _CONCEPTS),
        ServiceProperty(f"{scheme}_title", f"{name}: title", f"The title of the {SCHEMES[scheme]} code", _CONCEPTS),
        ServiceProperty(f"{scheme}_predicate", f"{name}: mapping predicate",
                        f"How the curated SSSOM mapping relates the concept to the {SCHEMES[scheme]} code "
                        "(skos:exactMatch, closeMatch, broadMatch or narrowMatch)", _CONCEPTS),
    )


PROPERTIES = (
    *_code_properties("soc2020", "SOC 2020 unit group", "ONS SOC 2020 unit group code reached through the "
                      "curated mappings (exact, close, broad or narrow match)"),
    *_code_properties("isco", "ISCO-08 unit group", "ISCO-08 unit group code, as ESCO publishes it"),
    *_code_properties("esco", "ESCO occupation", "ESCO v1.2.0 occupation"),
    *_code_properties("ddat", "Digital and Data capability framework role",
                      "Role in the government Digital and Data capability framework"),
    ServiceProperty("no_code", "Classifications with no code", "Standard classifications that have no code "
                    "for this concept, and why: the curator's reason, or that no mapping has been curated yet",
                    _CONCEPTS),
    ServiceProperty("broader", "Broader concept", "The broader role concept", _CONCEPTS),
    ServiceProperty("definition", "Definition", "Definition or description", _ALL),
    ServiceProperty("alt_label", "Other names", "Alternative names and titles", _ALL),
)
PROPERTY_BY_ID = {prop.id: prop for prop in PROPERTIES}


def property_values(entity: Entity | None, pid: str, catalogue: Catalogue) -> list[dict]:
    """The values of ``pid`` for ``entity``, as data extension writes them (``{"str"}`` or ``{"id", "name"}``)."""
    if entity is None:
        return []
    if pid in ("soc2020", "isco"):
        return [{"str": code.code or local_name(code.id)} for code in entity.codes_in(pid)]
    if pid in ("esco", "ddat"):
        return [{"id": code.id, "name": code.label or code.id} for code in entity.codes_in(pid)]
    scheme, _, part = pid.partition("_")
    if scheme in SCHEMES and part == "title":
        return [{"str": code.label} for code in entity.codes_in(scheme) if code.label]
    if scheme in SCHEMES and part == "predicate":
        return [{"str": f"skos:{code.relation}"} for code in entity.codes_in(scheme)]
    if pid == "no_code":
        return _no_code(entity)
    if pid == "broader":
        return [{"id": iri, "name": catalogue.name_of(iri)} for iri in entity.broader]
    if pid == "definition":
        return [{"str": entity.description}] if entity.description else []
    if pid == "alt_label":
        return [{"str": label} for label in entity.alt_labels]
    return []


def _no_code(entity: Entity) -> list[dict]:
    """Each scheme the entity has no code in: the curator's reason, or that none is curated yet."""
    out = [{"str": f"{SCHEMES[note.scheme]}: {note.comment}" if note.comment else SCHEMES[note.scheme]}
           for note in entity.no_codes]
    noted = {note.scheme for note in entity.no_codes}
    for scheme, name in SCHEMES.items():
        if scheme not in noted and not entity.codes_in(scheme):
            out.append({"str": f"{name}: no mapping has been curated yet"})
    return out


def value_keys(value: str) -> set[str]:
    """The forms a code or identifier may be written in: ``C2511``, ``isco:C2511``, its IRI, ``2511``.

    >>> sorted(value_keys("isco:C2511"))
    ['2511', 'c2511', 'isco:c2511']
    """
    value = fold(value)
    out = {value}
    tail = re.split(r"[/#:]", value)[-1]
    out.add(tail)
    out |= {digits.group(1) for part in (value, tail) if (digits := re.fullmatch(r"c?(\d+(?:\.\d+)*)", part))}
    return {item for item in out if item}


def entity_keys(entity: Entity, pid: str, catalogue: Catalogue) -> set[str] | None:
    """Everything ``entity`` may be said to have for ``pid``, in :func:`value_keys` form; ``None`` if unknown."""
    if pid in SCHEMES:
        keys: set[str] = set()
        for code in entity.codes_in(pid):
            keys |= value_keys(code.id) | (value_keys(code.code) if code.code else set()) | {fold(code.label)}
        return keys
    if pid == "broader":
        return {key for iri in entity.broader for key in (*value_keys(iri), fold(catalogue.name_of(iri)))}
    if pid == "alt_label":
        return {fold(label) for label in (entity.name, *entity.alt_labels)}
    return None
