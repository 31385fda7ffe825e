"""How far a query's words are from a label's: word similarity and the penalty of one alignment.

:func:`align` reads a query as a label and adds up penalties for:

- typos and discipline-for-practitioner words (30 points times the share of the word that
  differs; 4.5 for a discipline);
- label words the query lacks: 12 for a leading modifier ("radiographer" lacks
  "diagnostic"), 16 for a word inside the label ("business analyst" is not a "business
  intelligence analyst"), 30 for the label's head noun, 8 when that head is a generic word such as *professional* or
  *workforce*; twice as much when the query shares only weak words with the label
  ("Engineer" is not a data engineer);
- query words the label lacks: 4 for each word in front ("clinical data analyst", 10 at
  most), 12 instead when the label lacks a word too (a different qualifier: "therapeutic
  radiographer"), 12 for each word inside, 16 for each word after, since the last word of a
  title usually says what the job is ("data analyst apprenticeship assessor"), 5 if it is
  a generic word such as *doctor* or *specialist*, 6 for a word that takes the place of a
  generic head ("AI engineer" for "AI professional"), 2 if that word is generic too
  ("digital specialist" for "digital professional");
- the label's words in another order (5);
- a query whose last word (what the job is) stands in the label only as a modifier while
  the label's own head is missing (20): a *nurse* is not a *nurse informatician*.

:func:`alignment` also says what kind of evidence the reading is (:class:`Alignment`): whether
the query holds the whole label, and whether each word of it is spelled the same or with a
typo rather than only sharing a stem. The matcher trusts only such evidence for a match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

TYPO_WEIGHT = 30.0
DISCIPLINE_SIMILARITY = 0.85
MISSING_MODIFIER = 12.0
MISSING_INTERIOR = 16.0
MISSING_HEAD = 30.0
MISSING_GENERIC_HEAD = 8.0
EXTRA_PREFIX = 4.0
EXTRA_PREFIX_MAX = 10.0
EXTRA_CONFLICTING = 12.0
EXTRA_INFIX = 12.0
EXTRA_SUFFIX = 16.0
EXTRA_GENERIC_SUFFIX = 5.0
REPLACES_GENERIC_HEAD = 6.0
REPLACES_GENERIC_HEAD_WITH_GENERIC = 2.0
WORD_ORDER = 5.0
HEAD_AS_MODIFIER = 20.0

#: Heads that stand for any role: "AI professional" covers AI engineers and AI leads.
GENERIC_HEADS = frozenset({"professional", "specialist", "workforce", "staff", "worker"})
#: Words that say little on their own: a query sharing only these with a label is weak.
WEAK_WORDS = frozenset({
    "analyst", "engineer", "scientist", "manager", "officer", "developer", "consultant",
    "assistant", "administrator", "technician", "adviser", "advisor", "coordinator", "owner",
    "doctor", "professional", "specialist", "staff", "worker", "workforce", "service",
    "data", "digital", "clinical", "health", "medical", "general", "technology", "information",
    "practitioner", "lead", "head", "director", "partner", "executive",
})
#: Words that may follow a job title without changing it: "radiology doctor".
GENERIC_SUFFIXES = frozenset({"doctor", "professional", "specialist", "staff", "worker", "practitioner"})

#: Words in -ician that do not name a practitioner of an -ics discipline.
_NOT_DISCIPLINES = frozenset({
    "physician", "clinician", "technician", "electrician", "optician", "beautician", "dietician",
    "musician", "politician", "paediatrician", "pediatrician", "obstetrician", "geriatrician",
})
_STEM_RULES = (
    ("ologist", "olog"), ("ology", "olog"), ("ician", "ic"), ("ical", "ic"), ("ics", "ic"),
    ("ic", ""), ("ist", ""), ("grapher", "graph"), ("graphy", "graph"), ("eering", "eer"),
    ("ytics", "y"), ("ysis", "y"), ("yst", "y"), ("ence", "ent"), ("ator", "at"), ("ative", "at"),
    ("y", ""),
)


@lru_cache(maxsize=4096)
def stems(word: str) -> frozenset[str]:
    """A word and the shorter forms it shares with its discipline or practitioner.

    >>> sorted(stems("informatician")) == sorted({"informatician", "informatic", "informat"})
    True
    >>> bool(stems("statistics") & stems("statistician")), bool(stems("physics") & stems("physician"))
    (True, False)
    """
    out = {word}
    if word in _NOT_DISCIPLINES:
        return frozenset(out)
    for _ in range(2):
        for suffix, replacement in _STEM_RULES:
            if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= 5:
                word = word[: -len(suffix)] + replacement
                out.add(word)
                break
        else:
            break
    return frozenset(out)


def word_similarity(a: str, b: str) -> float:
    """How alike two words are for matching, 0 to 1 (0: not the same word).

    >>> word_similarity("analyst", "analyst"), word_similarity("scienist", "scientist") > 0.8
    (1.0, True)
    >>> word_similarity("radiologist", "cardiologist"), word_similarity("data", "date")
    (0.0, 0.0)
    >>> word_similarity("informatics", "informatician")
    0.85
    """
    if a == b:
        return 1.0
    best = typo_similarity(a, b)
    if best < DISCIPLINE_SIMILARITY and stems(a) & stems(b):
        best = DISCIPLINE_SIMILARITY
    return best


def typo_similarity(a: str, b: str) -> float:
    """How alike two words are by spelling alone, 0 to 1: one edit allowed in a word of 5 to
    11 letters, two in a longer one, the first letter right. Words of 4 letters or fewer
    (abbreviations such as *BI* and *AI*) are alike only when they are the same.

    >>> typo_similarity("engnieer", "engineer"), typo_similarity("bi", "ai"), typo_similarity("data", "date")
    (0.875, 0.0, 0.0)
    """
    if a == b:
        return 1.0
    shortest = min(len(a), len(b))
    if shortest < 5 or a[0] != b[0]:
        return 0.0
    allowed = 2 if shortest >= 12 else 1
    distance = OSA.distance(a, b, score_cutoff=allowed)
    return 1.0 - distance / max(len(a), len(b)) if distance <= allowed else 0.0


@dataclass(frozen=True)
class Alignment:
    """A query read as a label: the penalty, and what kind of evidence the reading is.

    ``complete``: every word of the label is in the query, spelled the same or with a typo
    (not only sharing a stem, as *informatics* and *informatician* do); ``tail``: the query
    has words after the label's other than generic ones such as *doctor*, and so names another
    job ("data analyst apprenticeship assessor"); ``extra``: the query has words the label
    lacks; ``weak_only``: the words they share are all weak.
    """

    penalty: float
    complete: bool
    tail: bool
    extra: bool
    weak_only: bool


def align(query: Sequence[str], label: Sequence[str], similar: Mapping[str, Mapping[str, float]]) -> float | None:
    """The penalty of reading ``query`` as ``label`` (0: the same words), or ``None`` if they
    share no word. ``similar`` maps each query word to the label words like it (0 to 1).

    >>> same = {"data": {"data": 1.0}, "analyst": {"analyst": 1.0}}
    >>> align(["clinical", "data", "analyst"], ["data", "analyst"], same)  # a word in front
    4.0
    >>> align(["data", "analyst", "assessor"], ["data", "analyst"], same)  # another job
    16.0
    >>> align(["data", "engineer"], ["data", "analyst"], same)  # another head, one weak word shared
    76.0
    """
    found = alignment(query, label, similar)
    return None if found is None else found.penalty


def alignment(query: Sequence[str], label: Sequence[str],
              similar: Mapping[str, Mapping[str, float]]) -> Alignment | None:
    """``query`` read as ``label``: the penalty and the kind of evidence (see :func:`align`).

    >>> similar = {"nurse": {"nurse": 1.0}}
    >>> alignment(["nurse"], ["nurse", "informatician"], similar)  # a nurse is not a nurse informatician
    Alignment(penalty=50.0, complete=False, tail=False, extra=False, weak_only=False)
    """
    used: set[int] = set()
    positions: list[int | None] = [None] * len(label)
    similarity_total = 0.0
    weak_only = spelled = True
    last = len(query)
    # right to left: a title's head noun comes last, so align from the end
    for j in range(len(label) - 1, -1, -1):
        word = label[j]
        choice: tuple[float, bool, int] | None = None
        for i, token in enumerate(query):
            if i in used:
                continue
            similarity = similar.get(token, {}).get(word, 0.0)
            if similarity <= 0:
                continue
            key = (similarity, i < last, i)
            if choice is None or key > choice:
                choice = key
        if choice is None:
            continue
        i = choice[2]
        used.add(i)
        positions[j] = i
        last = i
        similarity_total += (1.0 - choice[0]) * TYPO_WEIGHT
        if word not in WEAK_WORDS and query[i] not in WEAK_WORDS:
            weak_only = False
        if not typo_similarity(query[i], word):
            spelled = False
    matched = [p for p in positions if p is not None]
    if not matched:
        return None
    penalty = similarity_total
    head_missing = positions[-1] is None
    generic_head = label[-1] in GENERIC_HEADS
    missing_factor = 2.0 if weak_only else 1.0
    missing = 0
    first_found = next(j for j, position in enumerate(positions) if position is not None)
    for j, position in enumerate(positions):
        if position is not None:
            continue
        missing += 1
        if j == len(label) - 1:
            penalty += MISSING_GENERIC_HEAD if generic_head else MISSING_HEAD * missing_factor
        elif j > first_found:  # inside the label's phrase: "business [intelligence] analyst"
            penalty += MISSING_INTERIOR * missing_factor
        else:
            penalty += MISSING_MODIFIER * missing_factor
    if head_missing and not generic_head and len(query) - 1 in used:
        penalty += HEAD_AS_MODIFIER
    if matched != sorted(matched):
        penalty += WORD_ORDER
    low, high = min(matched), max(matched)
    prefix = 0.0
    replaced_head = tail = False
    for i, token in enumerate(query):
        if i in used:
            continue
        tail = tail or (i > high and token not in GENERIC_SUFFIXES)
        if i < low:
            prefix += EXTRA_CONFLICTING if missing else EXTRA_PREFIX
        elif i > high:
            if head_missing and generic_head and not replaced_head:
                generic = token in GENERIC_SUFFIXES
                penalty += REPLACES_GENERIC_HEAD_WITH_GENERIC if generic else REPLACES_GENERIC_HEAD
                replaced_head = True
            else:
                penalty += EXTRA_GENERIC_SUFFIX if token in GENERIC_SUFFIXES else EXTRA_SUFFIX
        else:
            penalty += EXTRA_INFIX
    penalty += prefix if missing else min(prefix, EXTRA_PREFIX_MAX)
    return Alignment(penalty, complete=not missing and spelled, tail=tail, extra=len(used) < len(query),
                     weak_only=weak_only)
