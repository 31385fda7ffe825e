"""Matching a messy job title (or a name) to the candidates of a :class:`~.catalogue.Catalogue`.

Every label of every candidate is normalised once (:mod:`.normalise`). A query is normalised
the same way and compared with the labels that share a word with it, allowing for typos
(rapidfuzz's optimal-string-alignment distance: one edit in a word of 5 to 11 letters, two in
a longer one, the first letter right; shorter words and abbreviations such as *BI* and *AI*
only match as spelled, after :mod:`.words` has spelled them out), for a discipline standing for its practitioner
(``informatics`` ~ ``informatician``, ``data science`` ~ ``data scientist``), and for the
words around the label.

Scores run from 0 to 100. A label scores its *tier* (:data:`TIERS`: 100 for the preferred
label, 99 for an alternative label or an initiative's own wording, 98 for a hidden label (a
known misspelling), 96 for a curated synonym (:data:`SYNONYMS`), 75 for a SOC 2020 related
job title of the concept's unit group, 70 if that group is only a related match) less
the penalties of :mod:`.scoring` (typos, missing and extra words, word order).

A candidate's score is that of its best label, and it says why it was proposed: that label
(``matched_label``) and its kind, or ``fuzzy`` when the query holds it only in part, misspelt or
as a discipline's name (``matched_by``, see :data:`~.candidate.MATCHED_BY`).

``match`` is true only when the best candidate scores at least :data:`MATCH_THRESHOLD`, its
label is evidence (:func:`_is_evidence`: the query holds every word of the label, spelled the
same or with one typo, and names no other job after it), and it is clearly best:
:data:`MATCH_MARGIN` points ahead of the next candidate, or the only one whose label the query
spells exactly. Similarity to a broad concept alone ("AI Engineer" read as "AI professional",
"Economist" as "health economist") never makes a match, nor does a near tie.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from .candidate import Candidate
from .catalogue import Catalogue, Entity
from .lexicon import SYNONYMS
from .normalise import BRACKETS_KEPT, Variant, label_tokens, name_variants, title_variants
from .scoring import Alignment, alignment, stems, word_similarity

# -- tuning --------------------------------------------------------------------------------

#: The score of an exact match with each kind of label.
TIERS: dict[str, float] = {
    "pref": 100.0, "alt": 99.0, "used": 99.0, "short": 98.0, "hidden": 98.0,
    "synonym": 96.0, "example": 75.0, "related-example": 70.0,
}
MATCH_THRESHOLD = 85.0
#: Calibrated on ``benchmarks/data`` (``benchmarks/reconcile_eval.py``): with the evidence rule,
#: no wrong match there leads by less than 36 points, and right ones lead by 5 and up; the
#: smallest step between two readings is one extra word in front (4 points), so a lead of 4
#: or less could be that alone.
MATCH_MARGIN = 5.0
#: Candidates scoring less are not returned.
MIN_SCORE = 50.0

#: For typos that join or split words ("datascientist"), the query and a label with another
#: number of words are also compared without spaces (rapidfuzz ``fuzz.ratio``).
WHOLE_STRING_CUTOFF = 92.0
WHOLE_STRING_PENALTY = 3.0


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
    #: How the query met the label: its kind when the query holds each of its words as spelled
    #: (other words around them allowed), else ``fuzzy``.
    matched_by: str = "fuzzy"
    #: Whether the reading is evidence enough for a match (see :func:`_is_evidence`).
    evidence: bool = False


class Reconciler:
    """Matches text against one catalogue; build it once per store build and share it."""

    def __init__(self, catalogue: Catalogue, *, synonyms: Mapping[str, Sequence[str]] | None = None) -> None:
        self.catalogue = catalogue
        self.entries: tuple[Entity, ...] = tuple(catalogue.entities.values())
        synonyms = SYNONYMS if synonyms is None else synonyms
        self._labels: list[_Label] = []
        seen: dict[tuple[int, tuple[str, ...]], int] = {}
        for number, entry in enumerate(self.entries):
            path = entry.id.removeprefix(f"{catalogue.base}/id/")
            named = [(label.text, label.kind) for label in entry.labels]
            named += [(text, "synonym") for text in synonyms.get(path, ())]
            for text, kind in named:
                tokens = label_tokens(text, mode=entry.kind.mode)
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
            mode = self.entries[label.entry].kind.mode
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
            out.append(Candidate.of(entry, round(best.score, 1), is_match and rank == 0,
                                    matched_label=best.label.text, matched_by=best.matched_by))
        return out

    def _order(self, item: tuple[int, _Score]) -> tuple:
        """Best first: higher score, then an exact spelling, then name and IRI."""
        number, best = item
        entry = self.entries[number]
        return (-round(best.score, 1), not best.exact, entry.name.casefold(), entry.id)

    def _allowed_types(self, types: Iterable[str] | None) -> set[str]:
        """The kinds asked for; without any, the project's own (classifications only by type)."""
        if types is None:
            return {t.key for t in self.catalogue.types if not t.classification}
        if isinstance(types, str):
            types = [types]
        allowed = set()
        for name in types:
            found = self.catalogue.type_for(name)
            if found is None:
                known = ", ".join(t.key for t in self.catalogue.types)
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
        joined = "".join(query).replace(" ", "")
        for _, ratio, position in process.extract(
            joined, index.strings, scorer=fuzz.ratio, score_cutoff=WHOLE_STRING_CUTOFF, limit=None
        ):
            number = index.labels[position]
            label = self._labels[number]
            if len(label.tokens) == len(query) or not self._allowed(label, allowed):
                continue
            score = label.tier * ratio / 100.0 - variant.penalty - WHOLE_STRING_PENALTY
            self._keep(best, _Score(score, False, label))
        for number in sorted(candidates):  # in label order, so ties go the same way every time
            label = self._labels[number]
            if not self._allowed(label, allowed):
                continue
            found = alignment(query, label.tokens, similar)
            if found is None:
                continue
            exact = found.penalty == 0 and variant.penalty == 0
            spelled = found.complete and all(word in query for word in label.tokens)
            evidence = _is_evidence(found, variant, label) and (
                not self.entries[label.entry].kind.classification or _is_whole_label(found, label))
            self._keep(best, _Score(label.tier - found.penalty - variant.penalty, exact, label,
                                    label.kind if spelled else "fuzzy", evidence))

    def _allowed(self, label: _Label, allowed: set[str] | None) -> bool:
        return allowed is None or self.entries[label.entry].kind.key in allowed

    @staticmethod
    def _keep(best: dict[int, _Score], found: _Score) -> None:
        """Keep the entity's best label: the higher score, then an exact spelling, then evidence for
        a match, then the stronger label; on a full tie the first in label order."""
        entry = found.label.entry
        current = best.get(entry)
        if current is None or (found.score, found.exact, found.evidence, found.label.tier) > (
                current.score, current.exact, current.evidence, current.label.tier):
            best[entry] = found

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
            for stem in stems(token):
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
        self.strings.append("".join(label.tokens).replace(" ", ""))
        for word in dict.fromkeys(label.tokens):
            if word not in self.by_word:
                self.by_word[word] = []
                self.words.append(word)
                for stem in stems(word):
                    self.by_stem.setdefault(stem, set()).add(word)
            self.by_word[word].append(number)


def _is_evidence(found: Alignment, variant: Variant, label: _Label) -> bool:
    """Whether reading the query as ``label`` can make a match: the query's main reading (its
    first segment, the whole title, or with its bracketed asides) holds every word of the
    label, spelled the same or with a typo, with nothing after it that would name another
    job; and when the label is one weak word (*administrator*), nothing else at all."""
    if variant.penalty > BRACKETS_KEPT or not found.complete or found.tail:
        return False
    return not (found.extra and found.weak_only and len(label.tokens) == 1)


def _is_whole_label(found: Alignment, label: _Label) -> bool:
    """The stricter evidence a classification's member needs: the title says nothing but the
    label (seniority, grade and department aside), and the label kept every word when it was
    normalised ("Registered specialist nurses" is not just "nurse", "Architects" not any architect)."""
    return not found.extra and len(label.tokens) >= len(re.findall(r"[^\W_]+", label.text))


def _clearly_best(scores: Sequence[_Score]) -> bool:
    """Whether the first of ``scores`` is a match: it scores :data:`MATCH_THRESHOLD` or more,
    its label is evidence (:func:`_is_evidence`), and it leads the next candidate by
    :data:`MATCH_MARGIN` points."""
    if not scores or scores[0].score < MATCH_THRESHOLD or not scores[0].evidence:
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


def _property_adjustment(entry: Entity, wanted: Mapping[str, set[str]]) -> float:
    adjustment = 0.0
    for pid, values in wanted.items():
        have = getattr(entry, pid)
        if have is None:
            continue
        adjustment += 5.0 if have in values else -10.0
    return adjustment
