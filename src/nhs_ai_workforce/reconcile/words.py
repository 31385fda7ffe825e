"""The words of a text, as the matcher and the suggest service read it: pure functions, no I/O.

Compatibility characters, quotes and dashes are folded; case, accents, possessives and
punctuation go; plurals become singular; abbreviations are spelled out from the one table of
them (:data:`~.lexicon.ABBREVIATIONS`); the words of a term of several words
(:data:`~.lexicon.TERMS`) become one token, so *business intelligence* never meets *artificial
intelligence* through their shared word. :mod:`.normalise` builds its readings of titles and
names on :func:`words`.

>>> words("Snr BI Analysts")
['senior', 'business intelligence', 'analyst']
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz.distance import OSA

from .lexicon import ABBREVIATIONS, TERMS

# -- characters ----------------------------------------------------------------------------

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "`": "'", "\u00b4": "'"})
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]")


def tidy(text: str) -> str:
    """Compatibility characters folded (NFKC), curly quotes and dashes made straight.

    >>> tidy("Data\u00a0Engineer \u2014 St Mary\u2019s")
    "Data Engineer - St Mary's"
    """
    return _DASHES.sub("-", unicodedata.normalize("NFKC", text).translate(_QUOTES))


def fold(text: str) -> str:
    """Case-fold, turn curly quotes and dashes straight, drop accents, squeeze spaces.

    >>> fold("  Café  Manager \u2013 St Mary\u2019s ")
    "cafe manager - st mary's"
    """
    text = tidy(text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


# -- words ---------------------------------------------------------------------------------

#: Words ending in s that are not plurals.
_NOT_PLURAL = frozenset({
    "analysis", "basis", "diagnosis", "prognosis", "thesis", "synthesis", "news", "series",
    "species", "means", "maths", "lens", "gas", "bias", "canvas", "alias", "atlas", "diabetes",
    "herpes", "measles", "rabies", "sepsis", "pancreas", "always", "perhaps", "plus", "whereas",
    "wales", "ops", "devops", "mlops", "dataops", "sales",
})


def singular(word: str) -> str:
    """A plural noun's singular; words that only end in s are left alone.

    >>> [singular(w) for w in ["analysts", "services", "statistics", "physics", "bodies",
    ...                        "processes", "nurses", "analysis", "business", "status", "gps"]]
    ['analyst', 'service', 'statistics', 'physics', 'body', 'process', 'nurse', 'analysis', 'business', 'status', 'gps']
    """
    if len(word) <= 3 or word in _NOT_PLURAL or not word.endswith("s") or not word.isalpha():
        return word
    if word.endswith(("ss", "us", "is", "ics", "ous")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    return word[:-1]


#: Words joined to the next one, so "bio-informatician" meets "bioinformatician".
_JOIN_PREFIXES = frozenset({"bio", "non"})


def words(text: str) -> list[str]:
    return list(_words(text))


@lru_cache(maxsize=16384)
def _words(text: str) -> tuple[str, ...]:
    """The words of a text: folded, possessives and punctuation gone, singular, abbreviations
    spelled out (:data:`~.lexicon.ABBREVIATIONS`), the words of a term of several words
    (:data:`~.lexicon.TERMS`) made one, ``bio``/``non`` joined to the next word. Stopwords are
    kept (see :func:`.normalise.title_tokens`).

    >>> words("Children's & Young People's GPs")
    ['children', 'and', 'young', 'people', 'general', 'practitioner']
    >>> words("Bio-informaticians (A.I.)")
    ['bioinformatician', 'artificial intelligence']
    >>> words("Snr BI Analyst, Artifical Intelligence")
    ['senior', 'business intelligence', 'analyst', 'artificial intelligence']
    """
    text = fold(text)
    text = re.sub(r"(?<=\w)'s\b|(?<=s)'(?=\s|$)", "", text)  # possessives
    text = text.replace("&", " and ").replace("+", " and ")
    text = re.sub(r"(?<=\b[a-z])\.(?=[a-z]\b)|(?<=\b[a-z])\.(?=\s|$)", "", text)  # a.i. -> ai
    text = re.sub(r"[^\w\s]|_", " ", text)
    out: list[str] = []
    for raw in text.split():
        expansion = ABBREVIATIONS.get(raw)
        if expansion is None and raw.endswith("s") and raw not in ("its", "ahs", "hrs"):
            expansion = ABBREVIATIONS.get(raw[:-1]) if len(raw) <= 5 else None
        if expansion:
            out.extend(singular(word) for word in expansion.split())
        else:
            out.append(singular(raw))
    joined: list[str] = []
    for word in _join_terms(out):
        if joined and joined[-1] in _JOIN_PREFIXES:
            joined[-1] += word
        else:
            joined.append(word)
    return tuple(joined)


#: The words of each term, singular, longest term first.
_TERM_WORDS: tuple[tuple[str, ...], ...] = tuple(sorted(
    (tuple(singular(w) for w in term.split()) for term in TERMS), key=len, reverse=True))


def _same_word(word: str, wanted: str) -> bool:
    """The same word, or one typo in a word of five letters or more with its first letter right."""
    return word == wanted or (min(len(word), len(wanted)) >= 5 and word[0] == wanted[0]
                              and OSA.distance(word, wanted, score_cutoff=1) <= 1)


def _join_terms(tokens: list[str]) -> list[str]:
    """Each run of words that spells a term of :data:`~.lexicon.TERMS` as one token (the term)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for term in _TERM_WORDS:
            if len(term) <= len(tokens) - i and all(
                    _same_word(t, w) for t, w in zip(tokens[i:i + len(term)], term, strict=True)):
                out.append(" ".join(term))
                i += len(term)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out
