"""A deterministic synthetic graph of about a million triples, shaped like the project's data.

It has the same kinds of things as the real graph (initiatives of several kinds that follow
one another, the organisations that publish them, SKOS role concepts with labels, the term
usages that tie an initiative's wording to a concept, RDF Data Cube observations with decimal
values, dates) in the same named graphs (background, reference, mappings, inferred, ontology),
but every IRI, vocabulary term and graph name lives under ``https://synthetic.example.org/``,
so it can never be mistaken for, or mixed into, the real data. It is written to a file you
name (the benchmark uses a temporary directory), never into ``data/`` or ``seeds/``.

    python benchmarks/synthetic.py /tmp/synthetic.nq            # about 1,000,000 triples
    python benchmarks/synthetic.py /tmp/small.nq --scale 0.01   # about 10,000

The same ``--seed`` and ``--scale`` always give the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from dataclasses import dataclass
from pathlib import Path

BASE = "https://synthetic.example.org/"
ID = BASE + "id/"
DEF = BASE + "def/aiwf/"
GRAPH = ID + "graph/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"
QB = "http://purl.org/linked-data/cube#"
SDMX_DIM = "http://purl.org/linked-data/sdmx/2009/dimension#"
SDMX_ATT = "http://purl.org/linked-data/sdmx/2009/attribute#"
OWL = "http://www.w3.org/2002/07/owl#"

TYPE = RDF + "type"

#: Initiative kinds: (class, its parent in the synthetic ontology, share of initiatives).
KINDS = [
    ("Review", "Publication", 0.20),
    ("Report", "Publication", 0.25),
    ("Strategy", "Publication", 0.15),
    ("Plan", "Publication", 0.15),
    ("Programme", "Initiative", 0.25),
]
SENIORITY = ["", "Senior ", "Lead ", "Principal ", "Junior ", "Chief ", "Trainee "]
DOMAINS = [
    "Clinical",
    "Health",
    "Digital",
    "Data",
    "AI",
    "Genomic",
    "Imaging",
    "Public Health",
    "Workforce",
    "Research",
]
ROLES = [
    "Data Scientist",
    "Data Analyst",
    "Informatician",
    "Data Engineer",
    "Bioinformatician",
    "Software Engineer",
    "Product Manager",
    "Radiographer",
    "Statistician",
    "Machine Learning Engineer",
    "Knowledge Manager",
    "Clinical Safety Officer",
]
ORG_KINDS = ["NHS Trust", "Integrated Care Board", "University", "Agency", "Council", "Institute"]
PLACES = [
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Central",
    "Coastal",
    "Valley",
    "Metropolitan",
    "Royal",
    "County",
]
TOPICS = [
    "Digital Workforce",
    "Data and AI",
    "Clinical Informatics",
    "Genomics",
    "Diagnostics",
    "Workforce Planning",
    "Data Saves Lives",
    "Automation",
    "Imaging",
    "Education and Training",
]
ADJECTIVES = ["National", "Regional", "Interim", "Independent", "Five-Year", "Long Term", "Annual"]


@dataclass(frozen=True)
class Sizes:
    """How many of each kind of thing; ``scale=1`` gives about one million triples."""

    organisations: int
    concepts: int
    initiatives: int
    usages_per_initiative: int
    observations: int
    datasets: int
    sections: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        def n(value: int) -> int:
            return max(10, round(value * scale))

        return cls(
            organisations=n(4_000),
            concepts=n(15_000),
            initiatives=n(20_000),
            usages_per_initiative=3,
            observations=n(31_400),
            datasets=n(100),
            sections=n(2_000),
        )


def iri(value: str) -> str:
    return f"<{value}>"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def lit(text: str, *, lang: str | None = None, datatype: str | None = None) -> str:
    body = f'"{_escape(text)}"'
    if lang:
        return f"{body}@{lang}"
    if datatype:
        return f"{body}^^<{datatype}>"
    return body


# Fixed-width keys; the IRIs the benchmark queries name (i-000042, c-000042) exist at any
# scale >= 0.01.
def initiative(i: int) -> str:
    return iri(f"{ID}initiative/i-{i:06d}")


def organisation(i: int) -> str:
    return iri(f"{ID}organisation/o-{i:05d}")


def concept(i: int) -> str:
    return iri(f"{ID}role/c-{i:06d}")


def section(i: int) -> str:
    return iri(f"{ID}section/s-{i:05d}")


def dataset(i: int) -> str:
    return iri(f"{ID}dataset/d-{i:04d}")


class Writer:
    """Collects N-Quads lines for one named graph at a time and counts them."""

    def __init__(self, out) -> None:
        self.out = out
        self.count = 0
        self.digest = hashlib.sha256()

    def quad(self, s: str, p: str, o: str, graph: str) -> None:
        line = f"{s} {p} {o} <{GRAPH}{graph}> .\n"
        self.out.write(line)
        self.digest.update(line.encode())
        self.count += 1


def generate(path: Path, *, seed: int = 20260128, scale: float = 1.0) -> tuple[int, str]:
    """Write the synthetic graph to ``path`` as N-Quads; return (triples, sha256)."""
    sizes = Sizes.for_scale(scale)
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        w = Writer(out)
        _ontology(w)
        _sections(w, sizes)
        _organisations(w, rng, sizes)
        _concepts(w, rng, sizes)
        _initiatives(w, rng, sizes)
        _observations(w, rng, sizes)
    return w.count, w.digest.hexdigest()


def _ontology(w: Writer) -> None:
    g = "ontology"
    classes = {
        "Initiative": None,
        "Publication": "Initiative",
        "TermUsage": None,
        "SourceSection": None,
    }
    classes.update({name: parent for name, parent, _ in KINDS})
    for name, parent in classes.items():
        term = iri(DEF + name)
        w.quad(term, iri(TYPE), iri(OWL + "Class"), g)
        w.quad(term, iri(RDFS + "label"), lit(name, lang="en"), g)
        w.quad(term, iri(RDFS + "comment"), lit(f"A synthetic {name.lower()}.", lang="en"), g)
        w.quad(term, iri(RDFS + "isDefinedBy"), iri(BASE + "def/aiwf"), g)
        if parent:
            w.quad(term, iri(RDFS + "subClassOf"), iri(DEF + parent), g)
    for name in (
        "follows",
        "followedBy",
        "hasTermUsage",
        "usedIn",
        "concept",
        "labelUsed",
        "statedIn",
        "workforceSize",
        "share",
        "workforceGroup",
        "issuedPrecision",
        "locator",
    ):
        term = iri(DEF + name)
        w.quad(term, iri(TYPE), iri(RDF + "Property"), g)
        w.quad(term, iri(RDFS + "label"), lit(name, lang="en"), g)
        w.quad(term, iri(RDFS + "isDefinedBy"), iri(BASE + "def/aiwf"), g)


def _sections(w: Writer, sizes: Sizes) -> None:
    for i in range(sizes.sections):
        s = section(i)
        w.quad(s, iri(TYPE), iri(DEF + "SourceSection"), "background")
        w.quad(s, iri(RDFS + "label"), lit(f"Section {i}", lang="en"), "background")
        w.quad(s, iri(DEF + "locator"), lit(f"#section-{i}"), "background")


def _organisations(w: Writer, rng: random.Random, sizes: Sizes) -> None:
    for i in range(sizes.organisations):
        o = organisation(i)
        name = f"{rng.choice(PLACES)} {rng.choice(TOPICS)} {rng.choice(ORG_KINDS)} {i}"
        w.quad(o, iri(TYPE), iri(ORG + "Organization"), "background")
        w.quad(o, iri(TYPE), iri(FOAF + "Agent"), "inferred")
        w.quad(o, iri(SKOS + "prefLabel"), lit(name, lang="en"), "background")
        w.quad(o, iri(RDFS + "label"), lit(name, lang="en"), "inferred")
        w.quad(o, iri(FOAF + "homepage"), iri(f"https://org-{i}.synthetic.example.org/"), "links")
        w.quad(o, iri(DEF + "statedIn"), section(rng.randrange(sizes.sections)), "background")
        if i >= 50 and rng.random() < 0.7:
            w.quad(o, iri(ORG + "subOrganizationOf"), organisation(rng.randrange(50)), "background")


def _concepts(w: Writer, rng: random.Random, sizes: Sizes) -> None:
    schemes = [iri(f"{ID}scheme/scheme-{k}") for k in range(5)]
    for k, scheme in enumerate(schemes):
        w.quad(scheme, iri(TYPE), iri(SKOS + "ConceptScheme"), "reference")
        w.quad(scheme, iri(SKOS + "prefLabel"), lit(f"Synthetic scheme {k}", lang="en"), "reference")
    tops = min(100, sizes.concepts)
    for i in range(sizes.concepts):
        c = concept(i)
        role = rng.choice(ROLES)
        label = f"{rng.choice(SENIORITY)}{rng.choice(DOMAINS)} {role} {i}"
        scheme = schemes[i % len(schemes)]
        w.quad(c, iri(TYPE), iri(SKOS + "Concept"), "background")
        w.quad(c, iri(SKOS + "inScheme"), scheme, "background")
        w.quad(c, iri(SKOS + "prefLabel"), lit(label, lang="en"), "background")
        w.quad(c, iri(SKOS + "altLabel"), lit(f"{role}s ({i})", lang="en"), "background")
        if rng.random() < 0.5:
            w.quad(c, iri(SKOS + "altLabel"), lit(f"{label} (UK)", lang="en-GB"), "background")
        w.quad(c, iri(SKOS + "definition"), lit(f"A synthetic role: {label.lower()}.", lang="en"), "background")
        w.quad(c, iri(SKOS + "notation"), lit(f"SYN-{i:06d}"), "reference")
        if i < tops:
            w.quad(c, iri(SKOS + "topConceptOf"), scheme, "background")
        else:
            parent = concept(rng.randrange(i))
            w.quad(c, iri(SKOS + "broader"), parent, "background")
            w.quad(parent, iri(SKOS + "narrower"), c, "inferred")
        w.quad(c, iri(SKOS + "exactMatch"), iri(f"{ID}soc/{1000 + i % 9000}"), "mappings")


def _kind(rng: random.Random) -> tuple[str, str]:
    roll = rng.random()
    for name, parent, share in KINDS:
        if roll < share:
            return name, parent
        roll -= share
    return KINDS[-1][0], KINDS[-1][1]


def _initiatives(w: Writer, rng: random.Random, sizes: Sizes) -> None:
    usage = 0
    for i in range(sizes.initiatives):
        s = initiative(i)
        kind, parent = _kind(rng)
        year = 2015 + i * 11 // sizes.initiatives  # later initiatives come later
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        title = f"The {rng.choice(ADJECTIVES)} {rng.choice(TOPICS)} {kind} {i}"
        w.quad(s, iri(TYPE), iri(DEF + kind), "background")
        w.quad(s, iri(TYPE), iri(DEF + parent), "inferred")
        if parent != "Initiative":
            w.quad(s, iri(TYPE), iri(DEF + "Initiative"), "inferred")
        w.quad(s, iri(DCT + "title"), lit(title, lang="en"), "background")
        w.quad(s, iri(DCT + "issued"), lit(date, datatype=XSD + "date"), "background")
        w.quad(s, iri(DEF + "issuedPrecision"), lit(rng.choice(["year", "month", "day"])), "background")
        w.quad(s, iri(DCT + "publisher"), organisation(rng.randrange(sizes.organisations)), "background")
        about = f"A synthetic {kind.lower()} about {title[4:].lower()}."
        w.quad(s, iri(DCT + "description"), lit(about, lang="en"), "background")
        w.quad(s, iri(FOAF + "page"), iri(f"https://docs.synthetic.example.org/{i}"), "links")
        w.quad(s, iri(DEF + "statedIn"), section(rng.randrange(sizes.sections)), "background")
        if i > 0 and rng.random() < 0.5:
            earlier = initiative(rng.randrange(max(0, i - 500), i))
            w.quad(s, iri(DEF + "follows"), earlier, "background")
            w.quad(earlier, iri(DEF + "followedBy"), s, "inferred")
        for _ in range(sizes.usages_per_initiative):
            u = iri(f"{ID}term-usage/u-{usage:07d}")
            usage += 1
            c = rng.randrange(sizes.concepts)
            role = rng.choice(ROLES).lower()
            w.quad(u, iri(TYPE), iri(DEF + "TermUsage"), "background")
            w.quad(u, iri(DEF + "usedIn"), s, "background")
            w.quad(u, iri(DEF + "labelUsed"), lit(f"{role}s", lang="en"), "background")
            w.quad(u, iri(DEF + "concept"), concept(c), "mappings")
            w.quad(u, iri(DEF + "statedIn"), section(rng.randrange(sizes.sections)), "background")
            w.quad(s, iri(DEF + "hasTermUsage"), u, "inferred")


def _observations(w: Writer, rng: random.Random, sizes: Sizes) -> None:
    for d in range(sizes.datasets):
        ds = dataset(d)
        w.quad(ds, iri(TYPE), iri(QB + "DataSet"), "background")
        w.quad(ds, iri(DCT + "title"), lit(f"Synthetic workforce figures {d}", lang="en"), "background")
        w.quad(ds, iri(DCT + "publisher"), organisation(rng.randrange(sizes.organisations)), "background")
    units = [iri(f"{ID}unit/whole-time-equivalent"), iri(f"{ID}unit/percent")]
    for i in range(sizes.observations):
        o = iri(f"{ID}observation/obs-{i:06d}")
        w.quad(o, iri(TYPE), iri(QB + "Observation"), "background")
        w.quad(o, iri(QB + "dataSet"), dataset(rng.randrange(sizes.datasets)), "background")
        size = f"{rng.randrange(1, 100_000)}.{rng.randrange(10)}"
        w.quad(o, iri(DEF + "workforceSize"), lit(size, datatype=XSD + "decimal"), "background")
        share = f"{rng.randrange(0, 10_000) / 100:.2f}"
        w.quad(o, iri(DEF + "share"), lit(share, datatype=XSD + "decimal"), "background")
        year = iri(f"http://reference.data.gov.uk/id/year/{rng.randint(2019, 2035)}")
        w.quad(o, iri(SDMX_DIM + "refPeriod"), year, "background")
        w.quad(o, iri(SDMX_ATT + "unitMeasure"), rng.choice(units), "background")
        w.quad(o, iri(DEF + "workforceGroup"), concept(rng.randrange(sizes.concepts)), "background")
        w.quad(o, iri(DEF + "statedIn"), section(rng.randrange(sizes.sections)), "background")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="N-Quads file to write (outside data/ and seeds/)")
    parser.add_argument("--seed", type=int, default=20260128)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = about a million triples")
    args = parser.parse_args(argv)
    project = Path(__file__).resolve().parents[1]
    target = args.output.resolve()
    for protected in (project / "data", project / "seeds"):
        if target.is_relative_to(protected):
            parser.error(f"refusing to write synthetic data into {protected}")
    count, digest = generate(target, seed=args.seed, scale=args.scale)
    print(f"{count} triples written to {target} (sha256 {digest[:16]})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
