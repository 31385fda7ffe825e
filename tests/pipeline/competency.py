"""What the competency-question tests share: the expected-answer record and the source's titles."""

from __future__ import annotations

from dataclasses import dataclass, field

# Titles as the source gives them (list items 1-7, paragraphs 1 and 4, and references).
TOPOL = "The Topol Review: Preparing the Healthcare Workforce to Deliver the Digital Future"
RESEARCH = "This research (Health Education England and NHS AI Lab)"
DDH2030 = ("Data driven healthcare in 2030: Transformation requirements of the NHS digital "
           "technology and health informatics workforce")
BIOINFORMATICIANS = "The future of clinical bioinformaticians in the NHS"
WADE_GERY = "Putting data, digital and tech at the heart of transforming the NHS"
YDP2022 = "Year of the digital profession 2022"
STRATEGY_AND_ROADMAP = "Five-year strategy and roadmap for a sustainable digital and data workforce"
GOLDACRE = "Better, broader, safer: Using health data for research and analysis"
DATA_SAVES_LIVES = "Data saves lives: reshaping health and social care with data"
PLAN = "A plan for digital health and social care"
READINESS = "Digital Readiness programme"
DART_ED = "Digital, AI and Robotics Technologies in Education (DART-Ed) programme"
ROADMAP = "AI Roadmap"

HEE = "Health Education England"
DHSC = "Department of Health and Social Care"
UNITY = "Unity Insights"

ALL_TECHNOLOGIES = "all AI technologies in the AI Roadmap's horizon scan"
DIAGNOSTIC_TECHNOLOGIES = "diagnostic AI technologies in the AI Roadmap's horizon scan"


@dataclass(frozen=True)
class Expected:
    """The full answer of one query: its columns and its rows, in order.

    Columns built with ``GROUP_CONCAT`` are listed in ``lists`` with their separator; SPARQL
    leaves the order inside such a list open, so those cells are compared as sorted tuples.
    IRIs under ``{base}/id/`` are written without that prefix, e.g. ``initiative/ai-roadmap``.
    """

    columns: tuple[str, ...]
    rows: list[tuple]
    lists: dict[str, str] = field(default_factory=dict)
