"""What each seed table means: its file, the kind of thing a row describes and its columns.

A row describes the thing ``{base}/id/{kind}/{key}``. Columns map to predicates; the value
kinds are checked by :mod:`~nhs_ai_workforce.pipeline.cells`. Every table may also carry
``source`` (section keys that state the facts, ``|``-separated) and ``note`` (an editorial
note, used to record ambiguities and conflicts between sources).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, PROV, QB, RDFS, SKOS

from ..core.namespaces import AIWF, SDMX_ATTRIBUTE, SDMX_DIMENSION

#: The kind of a table whose rows describe things outside this graph, keyed by their IRI.
EXTERNAL = "@iri"


@dataclass(frozen=True)
class Column:
    """One column: the predicate it fills and how its cells are read.

    ``value`` is one of: ``text`` (English literal), ``string``, ``date``, ``issued``
    (year, year-month or date), ``integer``, ``decimal``, ``duration``, ``url``, ``curie``,
    ``ref:{kind}`` (a key of that kind) or ``ref`` (a ``kind/key`` path).
    """

    name: str
    predicate: URIRef | None
    value: str = "text"
    required: bool = False
    multi: bool = False
    inverse: bool = False


@dataclass(frozen=True)
class Table:
    """One seed table and how its rows become triples."""

    file: str
    kind: str | None
    classes: tuple[URIRef, ...] = ()
    columns: tuple[Column, ...] = ()
    key_column: str = "key"
    type_column: str | None = None
    graph: str = "background"
    needs_source: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _concept_columns(*extra: Column) -> tuple[Column, ...]:
    return (
        Column("pref_label", SKOS.prefLabel, required=True),
        Column("alt_labels", SKOS.altLabel, multi=True),
        Column("hidden_labels", SKOS.hiddenLabel, multi=True),
        Column("definition", SKOS.definition, required=True),
        *extra,
    )


def _concept_table(file: str, kind: str, cls: URIRef | None, scheme: str) -> Table:
    """A SKOS concept table; with ``cls`` None each row names its class in a ``type`` column."""
    return Table(
        file,
        kind,
        (cls,) if cls else (),
        _concept_columns(
            Column("broader", SKOS.broader, f"ref:{kind}", multi=True),
            Column("related", SKOS.related, f"ref:{kind}", multi=True),
        ),
        type_column=None if cls else "type",
        extra={"scheme": scheme},
    )


TABLES: tuple[Table, ...] = (
    Table(
        "sources.csv",
        "source",
        (AIWF.SourceDocument,),
        (
            Column("title", DCTERMS.title, required=True),
            Column("last_reviewed", AIWF.lastReviewed, "date"),
            Column("next_review_due", AIWF.nextReviewDue, "date"),
        ),
        needs_source=False,
    ),
    Table(
        "sections.csv",
        "section",
        (AIWF.SourceSection,),
        (
            Column("part_of", DCTERMS.isPartOf, "ref:source", required=True),
            Column("sequence", AIWF.sequence, "integer", required=True),
            Column("locator", AIWF.locator, "string", required=True),
            Column("label", RDFS.label, required=True),
        ),
        needs_source=False,
    ),
    Table(
        "citations.csv",
        "section",
        (AIWF.Citation,),
        (
            Column("number", AIWF.referenceNumber, "integer", required=True),
            Column("cites", AIWF.cites, "ref:initiative", required=True),
            Column("cited_author", AIWF.citedAuthor, "string", required=True),
            Column("cited_year", AIWF.citedYear, "issued"),
            Column("web_address", AIWF.webAddress, "url", required=True),
            Column("accessed", AIWF.accessed, "date", required=True),
        ),
        needs_source=False,
    ),
    Table(
        "organisations.csv",
        "organisation",
        (),
        (
            Column("name", FOAF.name, required=True),
            Column("alt_names", SKOS.altLabel, multi=True),
            Column("part_of", ORG.subOrganizationOf, "ref:organisation", multi=True),
        ),
        type_column="type",
    ),
    Table(
        "posts.csv",
        "post",
        (ORG.Post,),
        (Column("name", RDFS.label, required=True),),
    ),
    Table(
        "people.csv",
        "person",
        (FOAF.Person,),
        (
            Column("name", FOAF.name, required=True),
            Column("family_name", FOAF.familyName, required=True),
        ),
    ),
    Table(
        "initiatives.csv",
        "initiative",
        (),
        (
            Column("title", DCTERMS.title, required=True),
            Column("alt_titles", DCTERMS.alternative, multi=True),
            Column("description", DCTERMS.description, required=True),
            Column("issued", DCTERMS.issued, "issued"),
            Column("publisher", DCTERMS.publisher, "ref:organisation", multi=True),
            Column("creator", DCTERMS.creator, "agent", multi=True),
            Column("commissioned_by", AIWF.commissionedBy, "agent", multi=True),
            Column("established_by", AIWF.establishedBy, "ref:organisation", multi=True),
            Column("collaborators", AIWF.collaborator, "ref:organisation", multi=True),
            Column("follows", AIWF.follows, "ref:initiative", multi=True),
            Column("originates_in", AIWF.originatesIn, "ref:initiative", multi=True),
            Column("builds_on", AIWF.buildsOn, "ref:initiative", multi=True),
            Column("part_of", DCTERMS.isPartOf, "ref:initiative", multi=True),
            Column("planned_duration", AIWF.plannedDuration, "duration"),
            Column("cited_address", AIWF.citedAddress, "url", multi=True),
        ),
        type_column="types",
    ),
    Table(
        "concept_schemes.csv",
        "scheme",
        (SKOS.ConceptScheme,),
        (
            Column("title", DCTERMS.title, required=True),
            Column("definition", SKOS.definition, required=True),
        ),
    ),
    _concept_table("role_concepts.csv", "role", AIWF.RoleConcept, "role-terms"),
    _concept_table(
        "workforce_groups.csv", "workforce-group", AIWF.WorkforceGroup, "ai-roadmap-workforce-groups"
    ),
    _concept_table(
        "clinical_areas.csv", "clinical-area", AIWF.ClinicalArea, "ai-roadmap-clinical-areas"
    ),
    _concept_table("technology_types.csv", "technology-type", None, "ai-roadmap-technology-types"),
    Table(
        "statistical_concepts.csv",
        None,
        (SKOS.Concept,),
        (
            Column("pref_label", SKOS.prefLabel, required=True),
            Column("notation", SKOS.notation, "string"),
            Column("definition", SKOS.definition, required=True),
        ),
        key_column="id",
        type_column="type",
        extra={"scheme": "statistics"},
    ),
    Table(
        "soc2020_unit_groups.csv",
        "soc2020",
        (SKOS.Concept,),
        (
            Column("code", SKOS.notation, "string", required=True),
            Column("label", SKOS.prefLabel, required=True),
            Column("related_job_titles", SKOS.example, multi=True),
        ),
        extra={"scheme": "soc2020"},
    ),
    Table(
        "external_concepts.csv",
        EXTERNAL,
        (),
        (
            Column("label", SKOS.prefLabel, required=True),
            Column("notation", SKOS.notation, "string"),
            Column("scheme", SKOS.inScheme, "url"),
        ),
        key_column="iri",
        type_column="type",
    ),
    Table(
        "term_usages.csv",
        "term-usage",
        (AIWF.TermUsage,),
        (
            Column("initiative", AIWF.usedIn, "ref:initiative", required=True),
            Column("concept", AIWF.concept, "ref", required=True),
            Column("label_used", AIWF.labelUsed, required=True),
        ),
    ),
    Table(
        "findings.csv",
        "finding",
        (AIWF.Finding,),
        (
            Column("label", RDFS.label, required=True),
            Column("finding_of", AIWF.findingOf, "ref", required=True),
            Column("description", DCTERMS.description, required=True),
            Column("concerns_role", AIWF.concernsRole, "ref", multi=True),
            Column("concerns_initiative", AIWF.concernsInitiative, "ref:initiative", multi=True),
            Column("concerns_dataset", AIWF.concernsDataset, "ref:dataset", multi=True),
        ),
    ),
    Table(
        "discrepancies.csv",
        "discrepancy",
        (),
        (
            Column("label", RDFS.label, required=True),
            Column("about", AIWF.discrepancyAbout, "ref", required=True),
            Column("property", AIWF.discrepantProperty, "curie", required=True),
            Column("description", DCTERMS.description, required=True),
            Column("recorded_value", AIWF.recordedValue),
        ),
        type_column="type",
    ),
    Table(
        "statements.csv",
        "statement",
        (AIWF.SourceStatement,),
        (
            Column("discrepancy", AIWF.hasStatement, "ref:discrepancy", required=True, inverse=True),
            Column("value", AIWF.statedValue, "string", required=True),
            Column("page", DCTERMS.source, "url"),
        ),
    ),
    Table(
        "recommendations.csv",
        "recommendation",
        (AIWF.Recommendation,),
        (
            Column("recommended_by", AIWF.recommendedBy, "ref:initiative", required=True),
            Column("description", DCTERMS.description, required=True),
            Column("concerns_role", AIWF.concernsRole, "ref", multi=True),
        ),
    ),
    Table(
        "aims.csv",
        "aim",
        (AIWF.Aim,),
        (
            Column("aim_of", AIWF.aimOf, "ref", required=True),
            Column("kind", AIWF.aimKind, "string", required=True),
            Column("description", DCTERMS.description, required=True),
            Column("concerns_role", AIWF.concernsRole, "ref", multi=True),
            Column("supported_by", AIWF.supports, "ref:initiative", multi=True, inverse=True),
        ),
    ),
    Table(
        "structures.csv",
        "structure",
        (QB.DataStructureDefinition,),
        (
            Column("label", RDFS.label, required=True),
            Column("definition", SKOS.definition, required=True),
        ),
    ),
    Table(
        "structure_components.csv",
        "component",
        (QB.ComponentSpecification,),
        (
            Column("structure", QB.component, "ref:structure", required=True, inverse=True),
            Column("order", QB.order, "integer", required=True),
            Column("dimension", QB.dimension, "curie"),
            Column("measure", QB.measure, "curie"),
            Column("attribute", QB.attribute, "curie"),
            Column("required", QB.componentRequired, "boolean"),
        ),
        needs_source=False,
    ),
    Table(
        "datasets.csv",
        "dataset",
        (QB.DataSet,),
        (
            Column("title", DCTERMS.title, required=True),
            Column("description", DCTERMS.description, required=True),
            Column("structure", QB.structure, "ref:structure", required=True),
            Column("reported_in", AIWF.reportedIn, "ref:initiative", required=True),
        ),
    ),
    Table(
        "technology_shares.csv",
        "observation",
        (QB.Observation,),
        (
            Column("dataset", QB.dataSet, "ref:dataset", required=True),
            Column("breakdown", AIWF.breakdown, "ref:breakdown", required=True),
            Column("category", AIWF.category, "ref", required=True),
            Column("share_base", AIWF.shareBase, "ref:population", required=True),
            Column("share_percent", AIWF.shareOfTechnologies, "decimal", required=True),
            Column("unit", SDMX_ATTRIBUTE.unitMeasure, "ref:unit", required=True),
            Column("order", AIWF.orderInSource, "integer", required=True),
        ),
    ),
    Table(
        "counts.csv",
        "observation",
        (QB.Observation,),
        (
            Column("dataset", QB.dataSet, "ref:dataset", required=True),
            Column("counted_kind", AIWF.countedKind, "ref:counted-kind", required=True),
            Column("count", AIWF.itemCount, "integer", required=True),
            Column("unit", SDMX_ATTRIBUTE.unitMeasure, "ref:unit", required=True),
            Column("order", AIWF.orderInSource, "integer", required=True),
        ),
    ),
    Table(
        "workforce_projections.csv",
        "observation",
        (QB.Observation,),
        (
            Column("dataset", QB.dataSet, "ref:dataset", required=True),
            Column("projection_kind", AIWF.projectionKind, "ref:projection-kind", required=True),
            Column("workforce", AIWF.projectedWorkforce, "ref", required=True),
            Column("ref_period", SDMX_DIMENSION.refPeriod, "url", required=True),
            Column("wte", AIWF.workforceSize, "decimal", required=True),
            Column("unit", SDMX_ATTRIBUTE.unitMeasure, "ref:unit", required=True),
            Column("order", AIWF.orderInSource, "integer", required=True),
        ),
    ),
)

#: Classes a ``type``/``types`` cell may name, by local name.
TYPE_NAMES: dict[str, URIRef] = {
    "Organization": ORG.Organization,
    "OrganizationalUnit": ORG.OrganizationalUnit,
    "Concept": SKOS.Concept,
    "ConceptScheme": SKOS.ConceptScheme,
    **{
        name: AIWF[name]
        for name in (
            "Review",
            "Report",
            "Strategy",
            "Plan",
            "Roadmap",
            "Programme",
            "ResearchProject",
            "Breakdown",
            "Unit",
            "TechnologyType",
            "TechnologySubtype",
            "Contradiction",
            "PrecisionDifference",
            "WordingDifference",
        )
    },
}

#: Kinds whose things a ``ref:agent`` cell may point to.
AGENT_KINDS = ("organisation", "person", "post", "initiative")

#: Predicates that relate a thing to its sources and notes, shared by every table.
STATED_IN = AIWF.statedIn
NOTE = SKOS.editorialNote
DERIVED_FROM = PROV.wasDerivedFrom
