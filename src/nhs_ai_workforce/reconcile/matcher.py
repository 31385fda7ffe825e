"""Matching a messy job title (or a name) to the candidates of an :class:`~.index.Index`.

Every label of every candidate is normalised once (:mod:`.normalise`). A query is normalised
the same way and compared with the labels that share a word with it, allowing for typos
(rapidfuzz's optimal-string-alignment distance: one edit in a word of 5 to 11 letters, two in
a longer one, the first letter right), for a discipline standing for its practitioner
(``informatics`` ~ ``informatician``, ``data science`` ~ ``data scientist``), and for the
words around the label.

Scores run from 0 to 100. A label scores its *tier* (:data:`TIERS`: 100 for the preferred
label, 99 for an alternative label or an initiative's own wording, 98 for a hidden label (a
known misspelling), 96 for a curated synonym (:data:`SYNONYMS`), 75 for a SOC 2020 related
job title of the concept's unit group, 70 if that group is only a related match) less
penalties for:

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
- the label's words in another order (5).

A candidate's score is that of its best label. ``match`` is true only when the best
candidate scores at least :data:`MATCH_THRESHOLD` and is clearly best: :data:`MATCH_MARGIN`
points ahead of the next candidate, or the only one whose label the query spells exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from .index import Entry, Index
from .normalise import Variant, label_tokens, name_variants, title_variants

# -- tuning --------------------------------------------------------------------------------

#: The score of an exact match with each kind of label.
TIERS: dict[str, float] = {
    "pref": 100.0, "alt": 99.0, "used": 99.0, "short": 98.0, "hidden": 98.0,
    "synonym": 96.0, "example": 75.0, "related-example": 70.0,
}
MATCH_THRESHOLD = 85.0
MATCH_MARGIN = 8.0
#: Candidates scoring less are not returned.
MIN_SCORE = 50.0

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
#: For typos that join or split words ("datascientist"), the query and a label with another
#: number of words are also compared without spaces (rapidfuzz ``fuzz.ratio``).
WHOLE_STRING_CUTOFF = 92.0
WHOLE_STRING_PENALTY = 3.0

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
def _stems(word: str) -> frozenset[str]:
    """A word and the shorter forms it shares with its discipline or practitioner.

    >>> sorted(_stems("informatician")) == sorted({"informatician", "informatic", "informat"})
    True
    >>> bool(_stems("statistics") & _stems("statistician")), bool(_stems("physics") & _stems("physician"))
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
    best = 0.0
    shortest = min(len(a), len(b))
    if shortest >= 5 and a[0] == b[0]:
        allowed = 2 if shortest >= 12 else 1
        distance = OSA.distance(a, b, score_cutoff=allowed)
        if distance <= allowed:
            best = 1.0 - distance / max(len(a), len(b))
    if best < DISCIPLINE_SIMILARITY and _stems(a) & _stems(b):
        best = DISCIPLINE_SIMILARITY
    return best


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One reconciliation candidate, best first in a result list."""

    id: str
    name: str
    score: float
    match: bool
    types: list[dict[str, str]]
    description: str | None = None
    soc2020: str | None = None
    isco: str | None = None
    esco: str | None = None
    #: The label that scored best, and how the query matched it: its kind (``pref``, ``alt``,
    #: ``hidden``, ``used``, ``synonym``, ``example``...) when spelled exactly, else ``fuzzy``.
    matched_label: str | None = None
    matched_by: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class _Label:
    entry: int
    tokens: tuple[str, ...]
    tier: float
    text: str
    kind: str


@dataclass
class _Score:
    score: float
    exact: bool
    label: _Label


class Reconciler:
    """Matches text against one index; build it once per store build and share it."""

    def __init__(self, index: Index, *, synonyms: Mapping[str, Sequence[str]] | None = None) -> None:
        self.index = index
        self.entries: tuple[Entry, ...] = index.entries
        synonyms = SYNONYMS if synonyms is None else synonyms
        self._labels: list[_Label] = []
        seen: dict[tuple[int, tuple[str, ...]], int] = {}
        for number, entry in enumerate(self.entries):
            path = entry.id.removeprefix(f"{index.base}/id/")
            named = [(label.text, label.kind) for label in entry.labels]
            named += [(text, "synonym") for text in synonyms.get(path, ())]
            for text, kind in named:
                tokens = label_tokens(text, mode=entry.type.mode)
                if not tokens:
                    continue
                label = _Label(number, tokens, TIERS[kind], text, kind)
                key = (number, tokens)
                if key in seen:
                    if label.tier > self._labels[seen[key]].tier:
                        self._labels[seen[key]] = label
                    continue
                seen[key] = len(self._labels)
                self._labels.append(label)
        # per mode: the words of its labels, which labels hold each word, the labels as strings
        self._modes: dict[str, _ModeIndex] = {}
        for number, label in enumerate(self._labels):
            mode = self.entries[label.entry].type.mode
            self._modes.setdefault(mode, _ModeIndex()).add(number, label)
        self._similar_cache: dict[tuple[str, str], dict[str, float]] = {}

    # -- the public call ------------------------------------------------------------------

    def match(
        self,
        text: str,
        *,
        types: Iterable[str] | None = None,
        limit: int | None = 5,
        properties: Iterable[Mapping[str, object] | tuple[str, object]] | None = None,
    ) -> list[Candidate]:
        """The best candidates for ``text``, best first (score, then an exact spelling, name, IRI).

        ``types`` keeps candidates of those kinds only (short keys such as ``role`` or class
        IRIs); ``limit`` caps the list (``None`` for all). ``properties`` are
        ``{"pid": "soc2020" | "isco" | "esco", "v": value}`` (or ``(pid, value)``) pairs that
        raise a candidate with that code by 5 and lower one with another code by 10.

        :raises ValueError: for an unknown type.
        """
        allowed = self._allowed_types(types)
        scores = self._score(text or "", allowed)
        wanted = _properties(properties)
        if wanted:
            for best in scores.values():
                adjustment = _property_adjustment(self.entries[best.label.entry], wanted)
                best.score = max(0.0, min(100.0, best.score + adjustment))
        scored = sorted(scores.items(), key=self._order)
        scored = [(number, best) for number, best in scored if best.score >= MIN_SCORE]
        is_match = _clearly_best([best for _, best in scored])
        out = []
        for rank, (number, best) in enumerate(scored[: limit if limit else None]):
            entry = self.entries[number]
            out.append(Candidate(
                id=entry.id,
                name=entry.name,
                score=round(best.score, 1),
                match=is_match and rank == 0,
                types=entry.types,
                description=entry.description,
                soc2020=entry.soc2020,
                isco=entry.isco,
                esco=entry.esco,
                matched_label=best.label.text,
                matched_by=best.label.kind if best.exact else "fuzzy",
            ))
        return out

    def _order(self, item: tuple[int, _Score]) -> tuple:
        """Best first: higher score, then an exact spelling, then name and IRI."""
        number, best = item
        entry = self.entries[number]
        return (-round(best.score, 1), not best.exact, entry.name.casefold(), entry.id)

    def _allowed_types(self, types: Iterable[str] | None) -> set[str] | None:
        if types is None:
            return None
        if isinstance(types, str):
            types = [types]
        allowed = set()
        for name in types:
            found = self.index.type_for(name)
            if found is None:
                known = ", ".join(t.key for t in self.index.types)
                raise ValueError(f"unknown type {name!r}; expected one of {known} or a class IRI")
            allowed.add(found.key)
        return allowed

    # -- scoring --------------------------------------------------------------------------

    def _score(self, text: str, allowed: set[str] | None) -> dict[int, _Score]:
        best: dict[int, _Score] = {}
        for mode, readings in (("title", title_variants), ("name", name_variants)):
            index = self._modes.get(mode)
            if index is None:
                continue
            for variant in readings(text):
                self._score_variant(variant, index, mode, allowed, best)
        return best

    def _score_variant(
        self, variant: Variant, index: _ModeIndex, mode: str, allowed: set[str] | None, best: dict[int, _Score]
    ) -> None:
        query = variant.tokens
        similar = {token: self._similar(mode, token, index) for token in set(query)}
        candidates: set[int] = set()
        for matches in similar.values():
            for word in matches:
                candidates.update(index.by_word[word])
        joined = "".join(query)
        for _, ratio, position in process.extract(
            joined, index.strings, scorer=fuzz.ratio, score_cutoff=WHOLE_STRING_CUTOFF, limit=None
        ):
            number = index.labels[position]
            label = self._labels[number]
            if len(label.tokens) == len(query) or not self._allowed(label, allowed):
                continue
            score = label.tier * ratio / 100.0 - variant.penalty - WHOLE_STRING_PENALTY
            self._keep(best, label, score, False)
        for number in candidates:
            label = self._labels[number]
            if not self._allowed(label, allowed):
                continue
            penalty = align(query, label.tokens, similar)
            if penalty is None:
                continue
            self._keep(best, label, label.tier - penalty - variant.penalty, penalty == 0 and variant.penalty == 0)

    def _allowed(self, label: _Label, allowed: set[str] | None) -> bool:
        return allowed is None or self.entries[label.entry].type.key in allowed

    @staticmethod
    def _keep(best: dict[int, _Score], label: _Label, score: float, exact: bool) -> None:
        current = best.get(label.entry)
        if current is None or score > current.score or (score == current.score and exact and not current.exact):
            best[label.entry] = _Score(score, exact, label)

    def _similar(self, mode: str, token: str, index: _ModeIndex) -> dict[str, float]:
        """The label words like ``token`` and how alike they are (cached per mode and word)."""
        key = (mode, token)
        cached = self._similar_cache.get(key)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        if token in index.by_word:
            found[token] = 1.0
        if len(token) >= 5:
            for word, _, _ in process.extract(token, index.words, scorer=OSA.distance, score_cutoff=2, limit=None):
                similarity = word_similarity(token, word)
                if similarity > 0:
                    found[word] = max(found.get(word, 0.0), similarity)
            for stem in _stems(token):
                for word in index.by_stem.get(stem, ()):
                    if word != token and word not in found:
                        similarity = word_similarity(token, word)
                        if similarity > 0:
                            found[word] = similarity
        if len(self._similar_cache) > 50_000:
            self._similar_cache.clear()
        self._similar_cache[key] = found
        return found


class _ModeIndex:
    """The labels of one normalisation mode: their words, stems and whole strings."""

    def __init__(self) -> None:
        self.labels: list[int] = []
        self.strings: list[str] = []
        self.by_word: dict[str, list[int]] = {}
        self.by_stem: dict[str, set[str]] = {}
        self.words: list[str] = []

    def add(self, number: int, label: _Label) -> None:
        self.labels.append(number)
        self.strings.append("".join(label.tokens))
        for word in dict.fromkeys(label.tokens):
            if word not in self.by_word:
                self.by_word[word] = []
                self.words.append(word)
                for stem in _stems(word):
                    self.by_stem.setdefault(stem, set()).add(word)
            self.by_word[word].append(number)


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
    used: set[int] = set()
    positions: list[int | None] = [None] * len(label)
    similarity_total = 0.0
    weak_only = True
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
    if matched != sorted(matched):
        penalty += WORD_ORDER
    low, high = min(matched), max(matched)
    prefix = 0.0
    replaced_head = False
    for i, token in enumerate(query):
        if i in used:
            continue
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
    return penalty


def _clearly_best(scores: Sequence[_Score]) -> bool:
    if not scores or scores[0].score < MATCH_THRESHOLD:
        return False
    if len(scores) == 1 or scores[0].score - scores[1].score >= MATCH_MARGIN:
        return True
    return scores[0].exact and not scores[1].exact


def _properties(properties: Iterable[Mapping[str, object] | tuple[str, object]] | None) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for item in properties or ():
        if isinstance(item, Mapping):
            pid, value = item.get("pid"), item.get("v")
        else:
            pid, value = item
        if pid in ("soc2020", "isco", "esco") and value not in (None, ""):
            values = value if isinstance(value, list | tuple) else [value]
            wanted.setdefault(str(pid), set()).update(str(v).strip() for v in values)
    return wanted


def _property_adjustment(entry: Entry, wanted: Mapping[str, set[str]]) -> float:
    adjustment = 0.0
    for pid, values in wanted.items():
        have = getattr(entry, pid)
        if have is None:
            continue
        adjustment += 5.0 if have in values else -10.0
    return adjustment
