"""The curated words the reconciler knows: abbreviations spelled out, terms read as one word, and job
titles that mean a concept.

They are tables a curator edits. :mod:`.normalise` applies :data:`ABBREVIATIONS` and
:data:`TERMS` to labels and queries alike (so the matcher and the suggest service read a title
the same way), and :mod:`.matcher` adds :data:`SYNONYMS` to the labels of their concepts.
"""

from __future__ import annotations

#: Abbreviations spelled out (the plural ``GPs`` too): the one table of them, applied to labels
#: and queries alike, before anything else reads the words, so "DDaT data specialist" and
#: "digital, data and technology data specialist" meet, and "Snr BI Analyst" is read as
#: "senior business intelligence analyst" (whose seniority is then dropped). An abbreviation is
#: never compared letter by letter: words of 1 to 4 letters only match when spelled the same.
ABBREVIATIONS: dict[str, str] = {
    # seniority, grades and terms (dropped once spelled out, see normalise)
    "snr": "senior",
    "sr": "senior",
    "jnr": "junior",
    "jr": "junior",
    "hd": "head",
    "afc": "agenda for change",
    # the jobs and fields of the digital, data and AI workforce
    "ddat": "digital data and technology",
    "ai": "artificial intelligence",
    "ml": "machine learning",
    "mlops": "machine learning operations",
    "nlp": "natural language processing",
    "bi": "business intelligence",
    "ig": "information governance",
    "it": "information technology",
    "ict": "information and communication technology",
    "ccio": "chief clinical information officer",
    "cnio": "chief nursing information officer",
    "cio": "chief information officer",
    "cdo": "chief data officer",
    "cto": "chief technology officer",
    "dpo": "data protection officer",
    "dba": "database administrator",
    # the NHS
    "gp": "general practitioner",
    "ahp": "allied health professional",
    "hca": "healthcare assistant",
    "hr": "human resources",
    "info": "information",
    "admin": "administrative",
    "mgr": "manager",
    "mngr": "manager",
    "asst": "assistant",
    "dept": "department",
    "dr": "doctor",
}

#: Terms of several words that are read as one word, because one of their words alone means
#: something else: *business intelligence* is not *artificial intelligence*, *information
#: governance* is not *information analysis*. Spelled out or abbreviated (see
#: :data:`ABBREVIATIONS`), each becomes one token, which matches only the same term (a typo of
#: one letter in a long word of it is allowed).
TERMS: tuple[str, ...] = (
    "artificial intelligence",
    "business intelligence",
    "machine learning",
    "natural language processing",
    "information governance",
    "information technology",
    "information and communication technology",
    "human resources",
)


#: Curated names that are job titles in their own right, not names of the concept, so they
#: are kept out of the SKOS labels; each is a title that in NHS and public-sector use means
#: the concept (or a job inside the workforce group). Keys are ``kind/key`` paths.
SYNONYMS: dict[str, tuple[str, ...]] = {
    # NHS analytical teams have long called their data analysts information analysts
    # (and BI, informatics, insight, reporting or health intelligence analysts).
    "role/data-analyst": (
        "information analyst", "business intelligence analyst", "informatics analyst",
        "health intelligence analyst", "insight analyst", "reporting analyst",
    ),
    # Builders of data pipelines and platforms under other names.
    "role/data-engineer": ("analytics engineer", "etl developer"),
    # Clinical scientists are often titled by their specialism.
    "role/clinical-scientist": ("clinical biochemist", "medical physicist", "clinical embryologist"),
    # Clinicians working in informatics; CCIOs and CNIOs are the senior clinical informaticians.
    "role/clinical-informatician": (
        "nurse informatician", "nursing informatician", "health informatician",
        "chief clinical information officer", "chief nursing information officer",
    ),
    # NHS bioinformatics scientists (a clinical science specialism) are clinical bioinformaticians.
    "role/clinical-bioinformatician": ("bioinformatics scientist", "genomic bioinformatician"),
    # A statistical analyst and a Government Statistical Service statistical officer do a
    # statistician's work.
    "role/statistician": ("statistical analyst", "statistical officer"),
    # UK usage calls biostatisticians medical statisticians.
    "role/biostatistician": ("medical statistician",),
    # Machine learning is artificial intelligence.
    "role/ai-professional": (
        "machine learning engineer", "machine learning scientist", "machine learning specialist",
    ),
    # Staff in these jobs are in the Roadmap's 'Non Clinical, Admin' group.
    "workforce-group/non-clinical-admin": (
        "administrator", "administrative assistant", "administrative officer", "clerical officer",
        "clerical assistant", "medical secretary", "ward clerk", "receptionist",
        "medical receptionist", "personal assistant",
    ),
    "workforce-group/medic-general-practice": ("family doctor",),
    "workforce-group/medic-clinical-radiology": ("neuroradiologist",),
    # Radiographers imaging by modality, or reporting on images, are diagnostic radiographers.
    "workforce-group/diagnostic-radiographer": ("reporting radiographer", "ct radiographer",
                                                "mri radiographer"),
}
