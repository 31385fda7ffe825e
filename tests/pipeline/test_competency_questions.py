"""The competency questions in ``queries/`` give the answers the source document gives.

The whole graph is built once (seeds -> RDF -> inference -> SHACL -> on-disk Oxigraph store)
with the project's real build, and every query file is run natively in Oxigraph with the
union of the named graphs as the default graph, as the SPARQL endpoint does. Each query has
its full expected answer written out below, taken from the source document
(``../shared/seed/background.txt``): a new query file without an expected answer fails.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from competency import (  # the source's titles and the expected-answer record
    ALL_TECHNOLOGIES,
    BIOINFORMATICIANS,
    DART_ED,
    DATA_SAVES_LIVES,
    DDH2030,
    DHSC,
    DIAGNOSTIC_TECHNOLOGIES,
    GOLDACRE,
    HEE,
    PLAN,
    READINESS,
    RESEARCH,
    ROADMAP,
    STRATEGY_AND_ROADMAP,
    TOPOL,
    UNITY,
    WADE_GERY,
    YDP2022,
    Expected,
)
from cross_initiative_answers import CROSS_INITIATIVE

from nhs_ai_workforce.core.settings import DEFAULT_BASE, Settings

QUERIES_DIR = Path(__file__).resolve().parents[2] / "queries"
ID = f"{DEFAULT_BASE}/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGER_TYPES = {f"{XSD}{name}" for name in (
    "integer", "positiveInteger", "nonNegativeInteger", "negativeInteger", "nonPositiveInteger",
    "int", "long", "short", "byte",
)}



EXPECTED: dict[str, Expected] = {
    # Paragraph 2 and list items 1-7: seven initiatives followed the Topol Review. The year-only
    # date of the Year of the digital profession (2022) sorts before April 2022; the two June
    # 2022 publications keep the source's order (Data saves lives, then A plan).
    "01-initiatives-following-topol.rq": Expected(
        ("initiative", "title", "issued", "precision", "types"),
        [
            ("initiative/data-driven-healthcare-2030", DDH2030, "2021-03", "month", ("Report",)),
            ("initiative/future-clinical-bioinformaticians", BIOINFORMATICIANS, "2021-07", "month",
             ("Report",)),
            ("initiative/putting-data-digital-tech-at-the-heart", WADE_GERY, "2021-11", "month",
             ("Report",)),
            ("initiative/year-of-the-digital-profession-2022", YDP2022, "2022", "year",
             ("Programme",)),
            ("initiative/goldacre-review", GOLDACRE, "2022-04", "month", ("Review",)),
            ("initiative/data-saves-lives", DATA_SAVES_LIVES, "2022-06", "month", ("Strategy",)),
            ("initiative/plan-for-digital-health-and-social-care", PLAN, "2022-06", "month",
             ("Plan", "Report")),
        ],
        lists={"types": "; "},
    ),
    # Publishers, authors and commissioners from the text and references 3-13; programmes
    # established by HEE (item 1, paragraph 4).
    "02-publishers-and-commissioners.rq": Expected(
        ("initiative", "title", "publishers", "authors", "commissioners", "establishedBy"),
        [
            ("initiative/topol-review", TOPOL, (), ("E. Topol",), (), ()),
            ("initiative/data-driven-healthcare-2030", DDH2030, (HEE,), (HEE,), (READINESS,), ()),
            ("initiative/digital-readiness-programme", READINESS, (), (), (), (HEE,)),
            ("initiative/future-clinical-bioinformaticians", BIOINFORMATICIANS, (HEE,), (HEE,), (), ()),
            ("initiative/putting-data-digital-tech-at-the-heart", WADE_GERY, (), ("L. Wade-Gery",), (), ()),
            ("initiative/digital-profession-strategy-and-roadmap", STRATEGY_AND_ROADMAP, (), (), (), ()),
            ("initiative/year-of-the-digital-profession-2022", YDP2022, ("NHS",), ("NHS",), (), ()),
            ("initiative/goldacre-review", GOLDACRE, (DHSC,), ("B. Goldacre", "J. Morley"),
             ("Secretary of State for Health and Social Care",), ()),
            ("initiative/data-saves-lives", DATA_SAVES_LIVES, (DHSC,), (), (), ()),
            ("initiative/plan-for-digital-health-and-social-care", PLAN, (DHSC,), (), (), ()),
            ("initiative/ai-roadmap", ROADMAP, (HEE, UNITY), (UNITY,), (), ()),
            ("initiative/dart-ed", DART_ED, (), (), (), (HEE,)),
        ],
        lists={"publishers": "; ", "authors": "; ", "commissioners": "; ", "establishedBy": "; "},
    ),
    # Item 1 names the clinical informatics professionals; items 2, 4 and 5 and Box 1 paragraph 4
    # the rest. The nine names paragraph 2 says vary across initiatives are this research's own
    # usage (a research project, not an initiative), so they are not listed here.
    "03-role-terms-by-initiative.rq": Expected(
        ("initiative", "title", "labelUsed", "concept", "conceptLabel"),
        [
            ("initiative/data-driven-healthcare-2030", DDH2030, "biostatisticians", "role/biostatistician",
             "biostatistician"),
            ("initiative/data-driven-healthcare-2030", DDH2030, "clinical digital service owners",
             "role/clinical-digital-service-owner", "clinical digital service owner"),
            ("initiative/data-driven-healthcare-2030", DDH2030, "clinical informaticians",
             "role/clinical-informatician", "clinical informatician"),
            ("initiative/data-driven-healthcare-2030", DDH2030, "clinical informatics professionals",
             "role/clinical-informatics-professional", "clinical informatics professional"),
            ("initiative/data-driven-healthcare-2030", DDH2030, "data analysts", "role/data-analyst",
             "data analyst"),
            ("initiative/data-driven-healthcare-2030", DDH2030, "data scientists", "role/data-scientist",
             "data scientist"),
            ("initiative/data-driven-healthcare-2030", DDH2030, "health economists",
             "role/health-economist", "health economist"),
            ("initiative/data-driven-healthcare-2030", DDH2030,
             "NHS digital technology and health informatics workforce",
             "role/digital-and-informatics-workforce",
             "NHS digital technology and health informatics workforce"),
            ("initiative/data-driven-healthcare-2030", DDH2030,
             "NHS digital technology and informatics workforce",
             "role/digital-and-informatics-workforce",
             "NHS digital technology and health informatics workforce"),
            ("initiative/data-driven-healthcare-2030", DDH2030, "statisticians", "role/statistician",
             "statistician"),
            ("initiative/future-clinical-bioinformaticians", BIOINFORMATICIANS, "clinical bioinformaticians",
             "role/clinical-bioinformatician", "clinical bioinformatician"),
            ("initiative/year-of-the-digital-profession-2022", YDP2022, "digital and data workforce",
             "role/digital-and-data-workforce", "digital and data workforce"),
            ("initiative/goldacre-review", GOLDACRE, "data analysts", "role/data-analyst", "data analyst"),
            ("initiative/ai-roadmap", ROADMAP, "Diagnostic Radiographer",
             "workforce-group/diagnostic-radiographer", "Diagnostic Radiographer"),
            ("initiative/ai-roadmap", ROADMAP, "Medic, Cardiology", "workforce-group/medic-cardiology",
             "Medic, Cardiology"),
            ("initiative/ai-roadmap", ROADMAP, "Medic, Clinical Radiology",
             "workforce-group/medic-clinical-radiology", "Medic, Clinical Radiology"),
            ("initiative/ai-roadmap", ROADMAP, "Medic, General Practice",
             "workforce-group/medic-general-practice", "Medic, General Practice"),
            ("initiative/ai-roadmap", ROADMAP, "Non Clinical, Admin", "workforce-group/non-clinical-admin",
             "Non Clinical, Admin"),
        ],
    ),
    # 'data analysts' appear in item 1 and item 5 (Goldacre's call to expand them); the names only
    # paragraph 2 uses (data engineers, AI professionals...) are not tied to any initiative.
    "04-initiatives-by-role-term.rq": Expected(
        ("concept", "conceptLabel", "initiativeCount", "initiatives", "labelsUsed"),
        [
            ("role/data-analyst", "data analyst", 2, (DDH2030, GOLDACRE), ("data analysts",)),
            ("role/biostatistician", "biostatistician", 1, (DDH2030,), ("biostatisticians",)),
            ("role/clinical-bioinformatician", "clinical bioinformatician", 1, (BIOINFORMATICIANS,),
             ("clinical bioinformaticians",)),
            ("role/clinical-digital-service-owner", "clinical digital service owner", 1, (DDH2030,),
             ("clinical digital service owners",)),
            ("role/clinical-informatician", "clinical informatician", 1, (DDH2030,),
             ("clinical informaticians",)),
            ("role/clinical-informatics-professional", "clinical informatics professional", 1, (DDH2030,),
             ("clinical informatics professionals",)),
            ("role/data-scientist", "data scientist", 1, (DDH2030,), ("data scientists",)),
            ("workforce-group/diagnostic-radiographer", "Diagnostic Radiographer", 1, (ROADMAP,),
             ("Diagnostic Radiographer",)),
            ("role/digital-and-data-workforce", "digital and data workforce", 1, (YDP2022,),
             ("digital and data workforce",)),
            ("role/health-economist", "health economist", 1, (DDH2030,), ("health economists",)),
            ("workforce-group/medic-cardiology", "Medic, Cardiology", 1, (ROADMAP,), ("Medic, Cardiology",)),
            ("workforce-group/medic-clinical-radiology", "Medic, Clinical Radiology", 1, (ROADMAP,),
             ("Medic, Clinical Radiology",)),
            ("workforce-group/medic-general-practice", "Medic, General Practice", 1, (ROADMAP,),
             ("Medic, General Practice",)),
            ("role/digital-and-informatics-workforce", "NHS digital technology and health informatics workforce",
             1, (DDH2030,), ("NHS digital technology and health informatics workforce",
                             "NHS digital technology and informatics workforce")),
            ("workforce-group/non-clinical-admin", "Non Clinical, Admin", 1, (ROADMAP,), ("Non Clinical, Admin",)),
            ("role/statistician", "statistician", 1, (DDH2030,), ("statisticians",)),
        ],
        lists={"initiatives": "; ", "labelsUsed": "; "},
    ),
    # List item 1: an additional 32,000 WTEs, to reach a forecast 78,000 WTEs in 2030.
    "05-workforce-projection-2030.rq": Expected(
        ("observation", "figure", "wte", "unit", "unitLabel", "refPeriod", "report", "reportTitle",
         "section", "sectionLocator", "sectionLabel"),
        [
            ("observation/additional-wte-2030", "additional staff needed", 32000, "unit/whole-time-equivalent",
             "whole-time equivalent", "http://reference.data.gov.uk/id/year/2030",
             "initiative/data-driven-healthcare-2030", DDH2030, "section/item-1", "list item 1",
             "HEE report on data driven healthcare in 2030"),
            ("observation/total-wte-2030", "forecast workforce size", 78000, "unit/whole-time-equivalent",
             "whole-time equivalent", "http://reference.data.gov.uk/id/year/2030",
             "initiative/data-driven-healthcare-2030", DDH2030, "section/item-1", "list item 1",
             "HEE report on data driven healthcare in 2030"),
        ],
    ),
    # Box 1, paragraphs 2-4.
    "06-ai-roadmap-technology-shares.rq": Expected(
        ("breakdownLabel", "categoryLabel", "withinCategory", "sharePercent", "baseLabel", "unitLabel",
         "reportTitle"),
        [
            ("by technology type", "Diagnostic", None, 34, ALL_TECHNOLOGIES, "per cent", ROADMAP),
            ("by technology type", "Automation/Service efficiency", None, 29, ALL_TECHNOLOGIES, "per cent",
             ROADMAP),
            ("by technology type", "P4 Medicine", None, 17, ALL_TECHNOLOGIES, "per cent", ROADMAP),
            ("by technology type", "Remote monitoring", None, 14, ALL_TECHNOLOGIES, "per cent", ROADMAP),
            ("by diagnostic subtype", "Imaging", "Diagnostic", 49, DIAGNOSTIC_TECHNOLOGIES, "per cent",
             ROADMAP),
            ("by diagnostic subtype", "Cardiorespiratory and neurology", "Diagnostic", 27,
             DIAGNOSTIC_TECHNOLOGIES, "per cent", ROADMAP),
            ("by clinical area", "Multiple clinical areas", None, 23, ALL_TECHNOLOGIES, "per cent", ROADMAP),
            ("by clinical area", "Clinical Radiology", None, 11, ALL_TECHNOLOGIES, "per cent", ROADMAP),
            ("by clinical area", "Cardiology", None, 9, ALL_TECHNOLOGIES, "per cent", ROADMAP),
            ("by clinical area", "General Practice", None, 8, ALL_TECHNOLOGIES, "per cent", ROADMAP),
            ("by workforce group", "Medic, Clinical Radiology", None, 15, ALL_TECHNOLOGIES, "per cent",
             ROADMAP),
            ("by workforce group", "Medic, General Practice", None, 13, ALL_TECHNOLOGIES, "per cent", ROADMAP),
            ("by workforce group", "Non Clinical, Admin", None, 10, ALL_TECHNOLOGIES, "per cent", ROADMAP),
            ("by workforce group", "Diagnostic Radiographer", None, 8, ALL_TECHNOLOGIES, "per cent", ROADMAP),
            ("by workforce group", "Medic, Cardiology", None, 8, ALL_TECHNOLOGIES, "per cent", ROADMAP),
        ],
    ),
    # Box 1: 240 technologies (paragraph 1), 67 clinical areas (3), 155 workforce groups (4).
    "07-ai-roadmap-counts.rq": Expected(
        ("countedLabel", "count", "unitLabel", "reportTitle", "sectionLocator"),
        [
            ("AI technologies captured", 240, "items", ROADMAP, "Box 1, paragraph 1"),
            ("clinical areas in the database", 67, "items", ROADMAP, "Box 1, paragraph 3"),
            ("workforce groups used", 155, "items", ROADMAP, "Box 1, paragraph 4"),
        ],
    ),
    # Paragraph 1 (Topol), list item 3 (Wade-Gery) and list item 5 (Goldacre).
    "08-recommendations.rq": Expected(
        ("initiative", "title", "recommendation", "recommends", "concernsRole", "sectionLocator"),
        [
            ("initiative/topol-review", TOPOL, "recommendation/topol-ai-ready-workforce",
             "The NHS should develop a workforce that is able and willing to make it a world leader in the "
             "effective use of healthcare AI and robotics.", None, "paragraph 1"),
            ("initiative/putting-data-digital-tech-at-the-heart", WADE_GERY,
             "recommendation/wade-gery-data-digital-tech-at-the-heart",
             "Shift the NHS's culture, operating model, skills, capabilities and processes so that data, "
             "digital and technology are central to how it transforms health services.", None, "list item 3"),
            ("initiative/goldacre-review", GOLDACRE, "recommendation/goldacre-workforce-and-education",
             "Develop the NHS workforce and the education it needs to use health data efficiently and safely.",
             None, "list item 5"),
            ("initiative/goldacre-review", GOLDACRE, "recommendation/goldacre-expand-data-analysts",
             "Expand the workforce of data analysts.", "data analyst", "list item 5"),
            ("initiative/goldacre-review", GOLDACRE, "recommendation/goldacre-shared-learning",
             "Promote shared learning across sites.", None, "list item 5"),
        ],
    ),
    # The reference list, in its own order (4 comes after 10).
    "09-web-addresses-and-access-dates.rq": Expected(
        ("initiative", "title", "referenceNumber", "citedAuthor", "citedYear", "webAddress", "accessed"),
        [
            ("initiative/topol-review", TOPOL, 3, "Topol E.", "2019",
             "https://topol.hee.nhs.uk/the-topol-review/", "2022-02-28"),
            ("initiative/data-driven-healthcare-2030", DDH2030, 7, HEE, "2021",
             "https://www.hee.nhs.uk/our-work/building-our-future-digital-workforce/data-driven-healthcare-2030",
             "2022-05-24"),
            ("initiative/future-clinical-bioinformaticians", BIOINFORMATICIANS, 8, HEE, "2021",
             "https://www.hee.nhs.uk/our-work/building-our-future-digital-workforce/"
             "future-clinical-bioinformaticians-nhs", "2022-05-24"),
            ("initiative/putting-data-digital-tech-at-the-heart", WADE_GERY, 9, "Wade-Gery L.", "2021",
             "https://www.gov.uk/government/publications/"
             "putting-data-digital-and-tech-at-the-heart-of-transforming-the-nhs", "2022-05-24"),
            ("initiative/year-of-the-digital-profession-2022", YDP2022, 10, "NHS", None,
             "https://www.nhsx.nhs.uk/digitise-connect-transform/the-year-of-the-digital-profession-2022/",
             "2022-05-24"),
            ("initiative/goldacre-review", GOLDACRE, 4, "Goldacre B, Morley J.", "2022",
             "https://www.goldacrereview.org/", "2022-05-24"),
            ("initiative/data-saves-lives", DATA_SAVES_LIVES, 11, "Department of health and Social Care", "2022",
             "https://www.gov.uk/government/publications/data-saves-lives-reshaping-health-and-social-care-with-"
             "data/data-saves-lives-reshaping-health-and-social-care-with-data", "2022-06-15"),
            ("initiative/plan-for-digital-health-and-social-care", PLAN, 12, "Department of health and Social Care",
             "2022", "https://www.gov.uk/government/publications/a-plan-for-digital-health-and-social-care/"
             "a-plan-for-digital-health-and-social-care", "2022-06-29"),
            ("initiative/ai-roadmap", ROADMAP, 13, "Unity insights", "2022",
             "https://digital-transformation.hee.nhs.uk/binaries/content/assets/digital-transformation/dart-ed/"
             "ai-roadmap-march-2022-edit.pdf", "2022-02-28"),
        ],
    ),
    # Paragraph 1: a collaboration between HEE and the NHS AI Lab at the Transformation Directorate.
    "10-research-collaborators.rq": Expected(
        ("research", "researchTitle", "organisation", "name", "otherNames", "partOf"),
        [
            ("initiative/this-research", RESEARCH, "organisation/health-education-england", HEE, ("HEE",), ()),
            ("initiative/this-research", RESEARCH, "organisation/nhs-ai-lab", "NHS AI Lab",
             ("NHS Artificial Intelligence (AI) Lab", "NHS Artificial Intelligence Lab"),
             ("NHS Transformation Directorate",)),
        ],
        lists={"otherNames": "; ", "partOf": "; "},
    ),
    "11-where-the-nhs-ai-lab-sits.rq": Expected(
        ("unit", "unitName", "parent", "parentName", "direct"),
        [
            ("organisation/nhs-ai-lab", "NHS AI Lab", "organisation/nhs-transformation-directorate",
             "NHS Transformation Directorate", True),
            ("organisation/nhsx", "NHSX", "organisation/nhs-transformation-directorate",
             "NHS Transformation Directorate", True),
        ],
    ),
    # Dates from the text and the references; the notes are checked separately below.
    "12-dates-and-recorded-conflicts.rq": Expected(
        ("initiative", "title", "issued", "precision", "citedYear", "accessed", "initiativeNotes",
         "citationNotes"),
        [
            ("initiative/topol-review", TOPOL, "2019", "year", "2019", "2022-02-28", ..., ...),
            ("initiative/data-driven-healthcare-2030", DDH2030, "2021-03", "month", "2021", "2022-05-24",
             ..., ...),
            ("initiative/digital-readiness-programme", READINESS, None, None, None, None, ..., ...),
            ("initiative/future-clinical-bioinformaticians", BIOINFORMATICIANS, "2021-07", "month", "2021",
             "2022-05-24", ..., ...),
            ("initiative/putting-data-digital-tech-at-the-heart", WADE_GERY, "2021-11", "month", "2021",
             "2022-05-24", ..., ...),
            ("initiative/digital-profession-strategy-and-roadmap", STRATEGY_AND_ROADMAP, None, None, None, None,
             ..., ...),
            ("initiative/year-of-the-digital-profession-2022", YDP2022, "2022", "year", None, "2022-05-24",
             ..., ...),
            ("initiative/goldacre-review", GOLDACRE, "2022-04", "month", "2022", "2022-05-24", ..., ...),
            ("initiative/data-saves-lives", DATA_SAVES_LIVES, "2022-06", "month", "2022", "2022-06-15", ..., ...),
            ("initiative/plan-for-digital-health-and-social-care", PLAN, "2022-06", "month", "2022",
             "2022-06-29", ..., ...),
            ("initiative/ai-roadmap", ROADMAP, "2022-01", "month", "2022", "2022-02-28", ..., ...),
            ("initiative/dart-ed", DART_ED, None, None, None, None, ..., ...),
        ],
    ),
    # Paragraph 1 (origins in the Topol Review), paragraph 2 (the initiatives followed it),
    # paragraph 4 ('will build also on the AI Roadmap') and list item 4 (the five-year strategy).
    "13-what-builds-on-what.rq": Expected(
        ("initiative", "title", "relation", "relatedInitiative", "relatedTitle"),
        [
            ("initiative/plan-for-digital-health-and-social-care", PLAN, "follows", "initiative/topol-review",
             TOPOL),
            ("initiative/goldacre-review", GOLDACRE, "follows", "initiative/topol-review", TOPOL),
            ("initiative/data-driven-healthcare-2030", DDH2030, "follows", "initiative/topol-review", TOPOL),
            ("initiative/data-saves-lives", DATA_SAVES_LIVES, "follows", "initiative/topol-review", TOPOL),
            ("initiative/digital-profession-strategy-and-roadmap", STRATEGY_AND_ROADMAP, "is part of",
             "initiative/year-of-the-digital-profession-2022", YDP2022),
            ("initiative/putting-data-digital-tech-at-the-heart", WADE_GERY, "follows", "initiative/topol-review",
             TOPOL),
            ("initiative/future-clinical-bioinformaticians", BIOINFORMATICIANS, "follows",
             "initiative/topol-review", TOPOL),
            ("initiative/this-research", RESEARCH, "builds on", "initiative/ai-roadmap", ROADMAP),
            ("initiative/this-research", RESEARCH, "originates in", "initiative/topol-review", TOPOL),
            ("initiative/year-of-the-digital-profession-2022", YDP2022, "follows", "initiative/topol-review",
             TOPOL),
        ],
    ),
    # Purposes from paragraphs 1 and 4 and the list items; the Lab's aims from paragraph 5.
    "14-aims.rq": Expected(
        ("aim", "holder", "kind", "description", "concernsRole", "supportedBy", "sectionLocator"),
        [
            ("aim/topol-review-purpose", TOPOL, "purpose",
             "Explore how to prepare the UK's healthcare workforce to master digital technologies for the "
             "benefit of patients.", None, None, "paragraph 1"),
            ("aim/ddh2030-purpose", DDH2030, "purpose",
             "Identify the capacity and capability challenges facing the NHS digital technology and "
             "informatics workforce over the next ten years.",
             "NHS digital technology and health informatics workforce", None, "list item 1"),
            ("aim/bioinformaticians-purpose", BIOINFORMATICIANS, "purpose",
             "Build a full picture of what affects the commissioning, training and employment of clinical "
             "bioinformaticians in the NHS.", "clinical bioinformatician", None, "list item 2"),
            ("aim/ydp2022-purpose", YDP2022, "purpose", "Build a sustainable digital and data workforce.",
             "digital and data workforce", None, "list item 4"),
            ("aim/goldacre-purpose", GOLDACRE, "purpose",
             "Explore how NHS patient records can be used in better, broader and safer ways to drive "
             "innovation and save lives.", None, None, "list item 5"),
            ("aim/data-saves-lives-purpose", DATA_SAVES_LIVES, "purpose",
             "Use data to benefit direct patient care, population health, the improvement of care services, "
             "and research and innovation.", None, None, "list item 6"),
            ("aim/plan-goal-adopt-proven-tech", PLAN, "goal", "Accelerate the adoption of proven technology.",
             None, None, "list item 7"),
            ("aim/plan-goal-align-oversight", PLAN, "goal",
             "Align oversight with the accelerating digital transformation.", None, None, "list item 7"),
            ("aim/plan-goal-equip-system", PLAN, "goal",
             "Equip the health and care system digitally for better care.", None, None, "list item 7"),
            ("aim/plan-goal-independent-lives", PLAN, "goal",
             "Support people to live independent and healthy lives.", None, None, "list item 7"),
            ("aim/ai-roadmap-purpose", ROADMAP, "purpose",
             "Understand which AI and data-driven technologies exist in the health system, how far they are "
             "taken up and how they affect the workforce.", None, None, "paragraph 4"),
            ("aim/dart-ed-purpose", DART_ED, "purpose",
             "Understand how advances in AI affect education and training needs.", None, None, "paragraph 4"),
            ("aim/nhs-ai-lab-commitment", "NHS AI Lab", "commitment",
             "Empower healthcare workers to make the most of AI: use their expertise well, inform their "
             "decisions and free time for patient care.", None, RESEARCH, "paragraph 5"),
            ("aim/nhs-ai-lab-objective", "NHS AI Lab", "objective",
             "Support healthcare workers to feel confident in identifying when and how to use AI.", None, None,
             "paragraph 5"),
            ("aim/nhs-ai-lab-vision", "NHS AI Lab", "vision",
             "Safe, effective and ethical adoption of AI technologies across health and care.", None, None,
             "paragraph 5"),
        ],
    ),
    # List item 1 groups seven roles as clinical informatics professionals.
    "15-role-term-hierarchy.rq": Expected(
        ("concept", "label", "broaderLabel", "otherNames"),
        [
            ("role/ai-professional", "AI professional", None,
             ("AI professionals", "artificial intelligence professional", "artificial intelligence professionals")),
            ("role/biostatistician", "biostatistician", "clinical informatics professional",
             ("biostatisticians", "bio-statistician", "bio-statisticians")),
            ("role/clinical-bioinformatician", "clinical bioinformatician", None,
             ("clinical bioinformaticians", "clinical bio-informatician", "clinical bio-informaticians")),
            ("role/clinical-digital-service-owner", "clinical digital service owner",
             "clinical informatics professional", ("clinical digital service owners",)),
            ("role/clinical-informatician", "clinical informatician", "clinical informatics professional",
             ("clinical informaticians", "clinical informaticist", "clinical informaticists")),
            ("role/clinical-informatics-professional", "clinical informatics professional",
             "NHS digital technology and health informatics workforce", ("clinical informatics professionals",)),
            ("role/clinical-scientist", "clinical scientist", None, ("clinical scientists",)),
            ("role/data-analyst", "data analyst", "clinical informatics professional", ("data analysts",)),
            ("role/data-engineer", "data engineer", None, ("data engineers",)),
            ("role/data-scientist", "data scientist", "clinical informatics professional", ("data scientists",)),
            ("role/ddat-data-specialist", "DDaT data specialist", None,
             ("DDaT data specialists", "digital, data and technology data specialist",
              "digital, data and technology data specialists")),
            ("role/digital-and-data-workforce", "digital and data workforce", None, ("digital & data workforce",)),
            ("role/digital-professional", "digital professional", None, ("digital professionals",)),
            ("role/health-economist", "health economist", "clinical informatics professional",
             ("health economists",)),
            ("role/digital-and-informatics-workforce", "NHS digital technology and health informatics workforce",
             None, ("digital technology and informatics workforce",
                    "NHS digital technology and informatics workforce")),
            ("role/statistician", "statistician", "clinical informatics professional", ("statisticians",)),
        ],
        lists={"otherNames": "; "},
    ),
}
EXPECTED.update(CROSS_INITIATIVE)


# -- running the queries ---------------------------------------------------------------------

def query_files() -> list[Path]:
    return sorted(QUERIES_DIR.glob("*.rq"))


def python_value(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> object:
    """A plain Python value for comparison: IRIs under ``{base}/id/`` lose that prefix."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value.removeprefix(ID)
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype in INTEGER_TYPES:
            return int(term.value)
        if datatype == f"{XSD}decimal":
            return Decimal(term.value)
        if datatype == f"{XSD}boolean":
            return term.value in ("true", "1")
        return term.value
    return term


def run(store: ox.Store, name: str) -> tuple[tuple[str, ...], list[tuple]]:
    """The columns and rows of one query file, run natively over the union of the graphs."""
    text = (QUERIES_DIR / name).read_text(encoding="utf-8")
    solutions = store.query(text, use_default_graph_as_union=True)
    columns = tuple(variable.value for variable in solutions.variables)
    rows = [tuple(python_value(solution[column]) for column in columns) for solution in solutions]
    return columns, rows


def normalise(expected: Expected, columns: tuple[str, ...], rows: list[tuple]) -> list[tuple]:
    """Split the ``GROUP_CONCAT`` cells into sorted tuples (an empty cell is an empty tuple)."""
    def cell(column: str, value: object) -> object:
        separator = expected.lists.get(column)
        if separator is None or value is Ellipsis:
            return value
        if isinstance(value, tuple):
            return tuple(sorted(value))
        return tuple(sorted(value.split(separator))) if value else ()

    return [tuple(cell(c, v) for c, v in zip(columns, row, strict=True)) for row in rows]


def ignore_unchecked(expected_rows: list[tuple], rows: list[tuple]) -> list[tuple]:
    """Blank out the cells the expectation leaves open (``...``), which are checked elsewhere."""
    return [
        tuple(Ellipsis if want is Ellipsis else got for want, got in zip(expected_row, row, strict=True))
        for expected_row, row in zip(expected_rows, rows, strict=False)
    ] + rows[len(expected_rows):]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ox.Store:
    """The real graph, built by the project's build into a temporary on-disk store."""
    from nhs_ai_workforce.pipeline.build import build
    from nhs_ai_workforce.store.live import open_store

    settings = Settings().with_(store_dir=tmp_path_factory.mktemp("competency") / "store")
    build(settings, write_dumps=False)
    return open_store(settings)


# -- the query files themselves --------------------------------------------------------------

def test_there_are_query_files() -> None:
    assert len(query_files()) >= 10


@pytest.mark.parametrize("path", query_files(), ids=lambda p: p.name)
def test_query_file_is_documented_and_deterministic(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert re.fullmatch(r"\d{2}-[a-z0-9]+(-[a-z0-9]+)*\.rq", path.name), "name it NN-words-with-dashes.rq"
    assert lines[0].startswith("# title: ") and len(lines[0]) > len("# title: ") + 10
    header = [line for line in lines if line.startswith("#")]
    assert any(line.startswith("# description: ") for line in header[:3])
    assert re.search(r"^PREFIX ", text, re.MULTILINE), "declare the prefixes the query uses"
    assert not re.search(r"SELECT\s+(DISTINCT\s+)?\*", text, re.IGNORECASE), "name the columns"
    assert re.search(r"^ORDER BY ", text, re.MULTILINE), "order the rows so answers are repeatable"


def test_every_query_file_has_an_expected_answer() -> None:
    names = {path.name for path in query_files()}
    assert names - EXPECTED.keys() == set(), "write the expected answer of each new query in EXPECTED"
    assert EXPECTED.keys() - names == set(), "an expected answer has no query file"


# -- the answers -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_query_gives_the_source_documents_answer(store: ox.Store, name: str) -> None:
    expected = EXPECTED[name]
    columns, rows = run(store, name)
    assert columns == expected.columns
    got = ignore_unchecked(expected.rows, normalise(expected, columns, rows))
    assert got == normalise(expected, columns, expected.rows)


@pytest.mark.slow
def test_initiatives_following_topol_are_the_seven_listed_in_publication_order(store: ox.Store) -> None:
    _, rows = run(store, "01-initiatives-following-topol.rq")
    assert [row[1] for row in rows] == [DDH2030, BIOINFORMATICIANS, WADE_GERY, YDP2022, GOLDACRE,
                                        DATA_SAVES_LIVES, PLAN]


@pytest.mark.slow
def test_the_ai_roadmap_date_conflict_is_recorded(store: ox.Store) -> None:
    columns, rows = run(store, "12-dates-and-recorded-conflicts.rq")
    by_initiative = {row[0]: dict(zip(columns, row, strict=True)) for row in rows}
    roadmap = by_initiative["initiative/ai-roadmap"]
    assert "January 2022" in roadmap["initiativeNotes"]
    assert "ai-roadmap-march-2022-edit.pdf" in roadmap["initiativeNotes"]
    assert "28 February 2022" in roadmap["citationNotes"]
    # Reference 4 is listed out of numeric order, after reference 10.
    assert "after reference 10" in by_initiative["initiative/goldacre-review"]["citationNotes"]
    # Year of the digital profession 2022: no date of publication anywhere but its name.
    assert "2022" in by_initiative["initiative/year-of-the-digital-profession-2022"]["citationNotes"]
    # Every initiative listed has at least one note or a citation.
    for row in by_initiative.values():
        assert row["initiativeNotes"] or row["citationNotes"] or row["accessed"]


# -- attribution through PROV ------------------------------------------------------------------

ATTRIBUTED_TO_DHSC = f"""
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?thing ?title {{
  ?thing prov:wasAttributedTo <{ID}organisation/department-of-health-and-social-care> ;
         dcterms:title ?title .
}} ORDER BY ?thing
"""


@pytest.mark.slow
def test_everything_attributed_to_dhsc_through_prov_finds_its_publications(store: ox.Store) -> None:
    # The source gives DHSC as the publisher of references 4, 5 and 6 (dcterms:publisher only):
    # prov:wasAttributedTo reaches them through the project's sub-property axiom.
    rows = [tuple(python_value(s[c]) for c in ("thing", "title"))
            for s in store.query(ATTRIBUTED_TO_DHSC, use_default_graph_as_union=True)]
    assert rows == [
        ("initiative/data-saves-lives", DATA_SAVES_LIVES),
        ("initiative/goldacre-review", GOLDACRE),
        ("initiative/plan-for-digital-health-and-social-care", PLAN),
    ]


@pytest.mark.slow
def test_every_publisher_and_creator_is_an_attribution(store: ox.Store) -> None:
    # Of the things the data describe (the ontology's own header is not data the rules read).
    missing = store.query(f"""
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?s ?o {{ ?s dcterms:publisher|dcterms:creator ?o
                        FILTER (STRSTARTS(STR(?s), "{ID}") && NOT EXISTS {{ ?s prov:wasAttributedTo ?o }}) }}
    """, use_default_graph_as_union=True)
    assert [str(solution) for solution in missing] == []
    count = store.query("PREFIX dcterms: <http://purl.org/dc/terms/> ASK { ?s dcterms:creator ?o }",
                        use_default_graph_as_union=True)
    assert bool(count)
