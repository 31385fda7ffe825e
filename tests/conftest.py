"""Shared fixtures: settings rooted in a temporary directory and a tiny dataset and store."""

from __future__ import annotations

import pytest
from rdflib import Dataset, Literal
from rdflib import namespace as vocab

from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.pipeline.store import load_store, swap_in


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Tests never see the caller's AIWF_* / HOST / PORT settings."""
    for name in ("AIWF_BASE", "AIWF_ROOT", "AIWF_STORE", "AIWF_QUERY_TIMEOUT",
                 "AIWF_RESULT_LIMIT", "AIWF_RESULT_LIMIT_BYTES", "AIWF_QUERY_WORKERS",
                 "AIWF_QUERY_MEMORY_MB", "AIWF_UPDATE_TOKEN", "AIWF_UPDATE_TIMEOUT", "AIWF_WORKERS",
                 "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(root=tmp_path)


@pytest.fixture
def ns(settings) -> ProjectNamespaces:
    return ProjectNamespaces(settings.base)


def sample_triples(ns: ProjectNamespaces) -> list[tuple]:
    """(graph name, s, p, o) rows: two reviews, an organisation, a class, one shared label."""
    aiwf = ns.AIWF
    RDF, RDFS, OWL, XSD = vocab.RDF, vocab.RDFS, vocab.OWL, vocab.XSD
    topol = ns.thing("initiative", "topol-review")
    roadmap = ns.thing("initiative", "ai-roadmap")
    hee = ns.thing("organisation", "hee")
    return [
        ("background", topol, RDF.type, aiwf.Review),
        ("background", topol, RDFS.label, Literal("The Topol Review", lang="en")),
        ("background", topol, aiwf.issued, Literal("2019-02-11", datatype=XSD.date)),
        ("background", topol, aiwf.publisher, hee),
        ("background", roadmap, RDF.type, aiwf.Review),
        ("background", roadmap, RDFS.label, Literal("AI Roadmap", lang="en")),
        ("background", roadmap, aiwf.technologies, Literal(240)),
        ("background", roadmap, RDFS.comment, Literal('Line one\nline "two", with\ttab')),
        ("background", hee, RDF.type, aiwf.Organisation),
        ("background", hee, RDFS.label, Literal("Health Education England", lang="en")),
        ("ontology", aiwf.Review, RDF.type, OWL.Class),
        ("ontology", aiwf.Review, RDFS.label, Literal("Review", lang="en")),
        ("ontology", aiwf.Organisation, RDF.type, OWL.Class),
        # the same triple in two graphs: unions must count it once
        ("inferred", topol, RDF.type, aiwf.Review),
    ]


def make_dataset(ns: ProjectNamespaces, rows=None) -> Dataset:
    dataset = Dataset()
    for name, s, p, o in sample_triples(ns) if rows is None else rows:
        dataset.graph(ns.graph(name)).add((s, p, o))
    return dataset


@pytest.fixture
def dataset(ns) -> Dataset:
    return make_dataset(ns)


@pytest.fixture
def built_store(settings, dataset):
    """A live on-disk store built from the sample dataset; returns its directory."""
    new_dir = load_store(dataset, settings)
    swap_in(new_dir, settings)
    return new_dir
