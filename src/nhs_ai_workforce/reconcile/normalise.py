"""Normalising job titles and names before matching: pure functions, no I/O.

Two modes share the same first steps (Unicode folding, case, possessives, punctuation,
plurals, abbreviations and terms of several words: see :mod:`.words`):

- **title** mode, for job titles and role labels, also drops what says *how senior* or
  *on what terms* someone works rather than *what* they do: seniority (Senior, Lead,
  Principal, Head of...), grades (Band 7, 8a, AfC), contract terms (locum, bank, fixed
  term), employer names after a dash or comma, and bracketed asides. Doctors' training
  grades (Registrar, SHO, ST3...) become ``doctor``, and "X in Y" becomes "Y X"
  (``Registrar in Cardiology`` -> ``cardiology doctor``).
- **name** mode, for organisation names and initiative titles, keeps every word.

The same functions normalise the labels in the index and the query, so whatever they do to
one side they do to the other.

>>> normalise("Senior Data Analyst")
'data analyst'
>>> normalise("Lead Clinical Bioinformatician - Genomics")
'clinical bioinformatician'
>>> normalise("Specialty Registrar (ST4) in Cardiology")
'cardiology doctor'
>>> normalise_name("The NHS AI Lab's programme")
'nhs artificial intelligence lab programme'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .words import fold, singular, tidy, words

__all__ = [
    "BRACKETS_KEPT", "OTHER_SEGMENT", "Variant", "fold", "job_words", "label_tokens", "name_tokens", "name_variants",
    "normalise", "normalise_name", "segments", "singular", "split_brackets", "tidy", "title_tokens",
    "title_variants", "words",
]

# -- brackets and segments -----------------------------------------------------------------

_BRACKETS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|\{([^{}]*)\}")


def split_brackets(text: str) -> tuple[str, list[str]]:
    """The text without bracketed asides, and the asides.

    >>> split_brackets("Clinical Scientist (Medical Physics) [fixed term]")
    ('Clinical Scientist', ['Medical Physics', 'fixed term'])
    >>> split_brackets("Data Analyst (Band 6")
    ('Data Analyst', ['Band 6'])
    """
    asides = [next(g for g in m.groups() if g is not None).strip() for m in _BRACKETS.finditer(text)]
    main = _BRACKETS.sub(" ", text)
    if "(" in main:  # an unclosed bracket: the rest is an aside too
        main, _, rest = main.partition("(")
        asides.append(rest.strip())
    return " ".join(main.split()), [a for a in asides if a]


#: Where a job title's second part begins: "Analyst - Barts Health", "Analyst, Genomics",
#: "Analyst | Band 6", "Analyst at NHS England", "Analyst/Engineer".
_SEPARATORS = re.compile(r"\s+-\s+|\s*[,;:|/\\]\s*|\s+@\s+|\s+at\s+|\s+-(?=[a-z])|(?<=[a-z])-\s+", re.IGNORECASE)


def segments(text: str) -> list[str]:
    """The parts of a title split at dashes, commas, bars, slashes and ``at``.

    >>> segments("Data Analyst - Barts Health NHS Trust, Band 6")
    ['Data Analyst', 'Barts Health NHS Trust', 'Band 6']
    >>> segments("Non-Clinical Admin")
    ['Non-Clinical Admin']
    """
    return [part.strip() for part in _SEPARATORS.split(text) if part and part.strip()]


# -- words ---------------------------------------------------------------------------------

_STOPWORDS = frozenset({"and", "the", "a", "an", "of", "in", "for", "to", "with", "on", "by"})


# -- title mode: seniority, grades, terms ---------------------------------------------------

#: Phrases that name a doctor's grade or training post; each becomes ``doctor``.
_DOCTOR_GRADES: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split()) for phrase in (
        "senior house officer", "house officer", "specialty registrar", "speciality registrar",
        "specialist registrar", "specialty doctor", "speciality doctor", "specialist doctor",
        "junior doctor", "resident doctor", "foundation doctor", "foundation year doctor",
        "trust grade doctor", "trust doctor", "staff grade doctor", "staff grade",
        "associate specialist", "clinical fellow", "trainee doctor", "medical officer",
        "registrar", "spr", "str", "sho", "medic", "doctor",
    )
)
_DOCTOR_GRADE_TOKEN = re.compile(r"^(?:fy|f|st|ct|hst)[1-8]$")

#: Phrases that say how senior someone is or on what terms they work, dropped anywhere.
_QUALIFIER_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split()) for phrase in (
        "head of", "agenda for change", "pay band", "part time", "full time", "fixed term",
        "maternity cover", "mat cover", "entry level", "newly qualified", "job share",
    )
)
#: Words that say how senior someone is or on what terms they work, dropped anywhere.
_QUALIFIERS = frozenset({
    "senior", "junior", "lead", "principal", "chief", "deputy",
    "trainee", "apprentice", "apprenticeship", "graduate", "interim", "acting", "locum", "bank",
    "agency", "temporary", "temp", "permanent", "secondment", "ftc", "nhs", "partner",
    "salaried", "sessional", "retained", "retainer", "wte", "fte", "pt", "hscn",
})
#: Words dropped only in front of another word: "Consultant Radiologist" is a radiologist,
#: but "Consultant" alone stays a consultant.
_LEADING_QUALIFIERS = frozenset({
    "consultant", "assistant", "associate", "specialist", "advanced", "staff", "registered",
    "expert", "experienced", "qualified", "head", "team", "band", "grade",
})
#: Words followed by a grade: "band 7", "grade 8a", "level 4".
_GRADE_WORDS = frozenset({"band", "grade", "level", "payband"})
_GRADE = re.compile(r"^(?:b|band)?\d{1,2}[a-d]?$|^[a-d]$|^x\d+$|^\d+x$|^\d+(?:\.\d+)?(?:wte|fte|hrs?|hours?)?$")
#: Endings of a medical speciality: "Cardiology Consultant" is a doctor in cardiology.
_SPECIALITY_ENDINGS = ("ology", "iatry", "iatric", "ics", "medicine", "surgery", "practice", "radiology")
#: Words after which the rest of a title is its object: "Registrar in Cardiology".
_INVERTING = ("in", "of", "for")


def _by_first_word(phrases: Sequence[tuple[str, ...]]) -> dict[str, list[tuple[str, ...]]]:
    table: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted(phrases, key=len, reverse=True):
        table.setdefault(phrase[0], []).append(phrase)
    return table


_DOCTOR_GRADES_BY_WORD = _by_first_word(_DOCTOR_GRADES)
_QUALIFIER_PHRASES_BY_WORD = _by_first_word(_QUALIFIER_PHRASES)


def _drop_phrases(tokens: list[str], phrases: dict[str, list[tuple[str, ...]]], replacement: str | None) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for phrase in phrases.get(tokens[i], ()):
            if tuple(tokens[i:i + len(phrase)]) == phrase:
                if replacement and (not out or out[-1] != replacement):
                    out.append(replacement)
                i += len(phrase)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _invert(tokens: list[str]) -> list[str]:
    """``registrar in cardiology`` -> ``cardiology registrar`` (the first preposition only)."""
    for i, token in enumerate(tokens):
        if token in _INVERTING and 0 < i < len(tokens) - 1:
            return tokens[i + 1:] + tokens[:i]
    return tokens


def _drop_qualifiers(tokens: list[str]) -> list[str]:
    out: list[str] = []
    skip_grade = False
    for token in tokens:
        if skip_grade and (_GRADE.match(token) or token in {"a", "b", "c", "d"}):
            skip_grade = False
            continue
        skip_grade = token in _GRADE_WORDS
        if skip_grade or token in _QUALIFIERS or _GRADE.match(token):
            continue
        out.append(token)
    while len(out) > 1 and out[0] in _LEADING_QUALIFIERS:
        out.pop(0)
    return out


@lru_cache(maxsize=16384)
def title_tokens(text: str) -> tuple[str, ...]:
    """The tokens of one job-title segment (no brackets, no separators), qualifiers dropped.

    Never empty when the text has a word: if only qualifiers are left ("Senior Lead"),
    they are kept.

    >>> title_tokens("Band 8a Principal Clinical Scientist")
    ('clinical', 'scientist')
    >>> title_tokens("Consultant")
    ('consultant',)
    >>> title_tokens("Consultant in Cardiology")
    ('cardiology', 'doctor')
    >>> title_tokens("Head of Data Science")
    ('data', 'science')
    >>> title_tokens("Salaried GP x2")
    ('general', 'practitioner')
    >>> title_tokens("FY2 Doctor")
    ('doctor',)
    >>> title_tokens("Senior Lead")
    ('senior', 'lead')
    """
    raw = words(text)
    tokens = ["doctor" if _DOCTOR_GRADE_TOKEN.match(t) else t for t in raw]
    tokens = _drop_phrases(tokens, _DOCTOR_GRADES_BY_WORD, "doctor")
    tokens = _drop_phrases(tokens, _QUALIFIER_PHRASES_BY_WORD, None)
    tokens = _drop_qualifiers(_invert(tokens))
    if len(tokens) > 1 and tokens[-1] == "consultant" and tokens[-2].endswith(_SPECIALITY_ENDINGS):
        tokens[-1] = "doctor"
    kept = [t for t in tokens if t not in _STOPWORDS]
    if kept:
        return tuple(kept)
    return tuple(t for t in raw if t not in _STOPWORDS) or tuple(raw)


def job_words(text: str, *, seniority: bool = False) -> list[str]:
    """The words of ``text`` for prefix search, each word of a term apart, without stopwords
    and (unless ``seniority``) without the words that say how senior someone is or on what
    terms they work: none are left when that is all it says.

    >>> job_words("Snr BI Analysts (Band 7)"), job_words("Hd of"), job_words("Head of AI", seniority=True)
    (['business', 'intelligence', 'analyst'], [], ['head', 'artificial', 'intelligence'])
    """
    tokens = [word for token in words(text) for word in token.split()]
    if not seniority:
        tokens = _drop_qualifiers(_drop_phrases(tokens, _QUALIFIER_PHRASES_BY_WORD, None))
    return [t for t in tokens if t not in _STOPWORDS]


def name_tokens(text: str) -> tuple[str, ...]:
    """The tokens of an organisation name or initiative title: every word but stopwords.

    >>> name_tokens("Department of Health & Social Care")
    ('department', 'health', 'social', 'care')
    """
    main, _ = split_brackets(text)
    tokens = [t for t in words(main) if t not in _STOPWORDS]
    return tuple(tokens) or tuple(words(main))


# -- whole titles --------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One reading of a query: its tokens and how much less likely it is than the first."""

    tokens: tuple[str, ...]
    penalty: float = 0.0


#: Penalties of the less likely readings of a title.
BRACKETS_KEPT = 2.0
OTHER_SEGMENT = 4.0


def title_variants(text: str) -> list[Variant]:
    """The readings of a job title, most likely first, without duplicates.

    The first is the first segment with a word in it after qualifiers are dropped; then the
    whole title; then the title with its bracketed asides; then each other segment alone.

    >>> [" ".join(v.tokens) for v in title_variants("Medic, Cardiology")]
    ['doctor', 'doctor cardiology', 'cardiology']
    >>> [" ".join(v.tokens) for v in title_variants("Band 7 - Data Analyst (Public Health)")]
    ['data analyst', 'data analyst public health']
    """
    main, asides = split_brackets(tidy(text))
    parts = segments(main) or [main]
    read = [title_tokens(part) for part in parts]
    informative = [i for i, part in enumerate(parts) if _has_content(part, read[i])]
    first = informative[0] if informative else 0
    variants = [Variant(read[first])]
    variants.append(Variant(title_tokens(" ".join(parts[first:])) if len(parts) > 1 else read[first]))
    if asides:
        variants.append(Variant(title_tokens(" ".join([*parts[first:first + 1], *asides])), BRACKETS_KEPT))
    variants += [Variant(read[i], OTHER_SEGMENT) for i in informative if i != first]
    seen: set[tuple[str, ...]] = set()
    unique = []
    for variant in variants:
        if variant.tokens and variant.tokens not in seen:
            seen.add(variant.tokens)
            unique.append(variant)
    return unique


def _has_content(part: str, tokens: tuple[str, ...]) -> bool:
    """Whether a segment says something beyond seniority and grade ("Band 7" does not)."""
    raw = [t for t in words(part) if t not in _STOPWORDS]
    return bool(tokens) and not (tuple(raw) == tokens and all(
        t in _QUALIFIERS or t in _GRADE_WORDS or t in _LEADING_QUALIFIERS or _GRADE.match(t) for t in raw
    ))


def name_variants(text: str) -> list[Variant]:
    """The readings of an organisation name or initiative title: whole, then before a colon.

    >>> [" ".join(v.tokens) for v in name_variants("The Topol Review: Preparing the workforce")]
    ['topol review preparing workforce', 'topol review']
    """
    whole = Variant(name_tokens(text))
    head, colon, _ = text.partition(":")
    variants = [whole]
    if colon and head.strip():
        short = Variant(name_tokens(head))
        if short.tokens and short.tokens != whole.tokens:
            variants.append(short)
    return [v for v in variants if v.tokens]


def normalise(text: str) -> str:
    """A job title's most likely reading as one string (what the matcher tries first).

    >>> normalise("Band 7 Data Analysts (Fixed Term)")
    'data analyst'
    >>> normalise("Consultant Radiologist")
    'radiologist'
    >>> normalise("GP Partner")
    'general practitioner'
    >>> normalise("DDaT Data Specialist")
    'digital data technology data specialist'
    >>> normalise("CHILDREN'S SERVICES MANAGER")
    'children service manager'
    >>> normalise("Data Analyst, Barts Health NHS Trust")
    'data analyst'
    >>> normalise("")
    ''
    """
    variants = title_variants(text)
    return " ".join(variants[0].tokens) if variants else ""


def normalise_name(text: str) -> str:
    """An organisation name or initiative title as one string of its words.

    >>> normalise_name("Health Education England (HEE)")
    'health education england'
    """
    return " ".join(name_tokens(text))


def label_tokens(label: str, *, mode: str) -> tuple[str, ...]:
    """A label of the index read like a query, but whole: commas and dashes split nothing.

    >>> label_tokens("Medic, Clinical Radiology", mode="title")
    ('doctor', 'clinical', 'radiology')
    >>> label_tokens("NHS Artificial Intelligence (AI) Lab", mode="name")
    ('nhs', 'artificial intelligence', 'lab')
    """
    if mode == "name":
        return name_tokens(label)
    main, _ = split_brackets(label)
    return title_tokens(main)
