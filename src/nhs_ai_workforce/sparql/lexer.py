"""The one lexical scan of a SPARQL query or update: everything the endpoint reads before Oxigraph parses.

:func:`lex` tokenises the text once and returns a :class:`Lexed`:

=====================  ==========================================================================
``form``               ``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE`` or ``UPDATE``: the first
                       keyword after the leading prologue (``None`` if the text has no such
                       keyword; :meth:`Lexed.query_form` then raises the fault with its position)
``prefixes``, ``base``  the ``PREFIX`` and ``BASE`` declarations, wherever they appear
``datasets``           each ``FROM [NAMED]`` / ``USING [NAMED]`` clause, its IRI expanded (against
                       the query's own prefixes, else the ``predeclared`` ones: a query's
                       ``PREFIX`` always wins, as in Oxigraph)
``keywords``           each ``SERVICE``, ``LOAD`` or :data:`UPDATE_KEYWORDS` keyword, in order
``depth``              the deepest nesting of ``(``, ``{`` and ``[``
``normal``             the text with each run of spaces and comments made one space (or none
                       where there was none): equal for queries that differ only there, so an
                       answer cache can key on it (:mod:`nhs_ai_workforce.store.answers`)
``volatile``           does the text call ``NOW``, ``RAND``, ``UUID`` or ``STRUUID``, whose
                       values change from one run to the next (such answers are never reused)
``prefix_names``       the prefix of each prefixed name in the text (``ex`` of ``ex:a``), so
                       only the predeclared prefixes it uses go to Oxigraph
                       (:meth:`Lexed.predeclared_used`)
=====================  ==========================================================================

Strings, IRIs and comments are skipped, and prefixed names (``ex:service``), blank node labels
(``_:load``), variables (``?service``) and language tags (``@add``) are never keywords. The
scan is lexical, not a parse: what it cannot read is left to Oxigraph's parser, which reports
it with its line and column. The guard (:mod:`.guard`) judges the result; the protocol layer
lexes a query once and hands the result on (:class:`~.execution.QueryJob`).

>>> lexed = lex("PREFIX g: <http://example.org/g/>\\nselect * FROM g:a { ?s ?p ?o }")
>>> lexed.form, lexed.datasets[0].keyword, lexed.datasets[0].iri, lexed.has_dataset
('SELECT', 'FROM', 'http://example.org/g/a', True)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from urllib.parse import urljoin

from ..core.errors import BadRequest

__all__ = ["QUERY_FORMS", "UPDATE_KEYWORDS", "VOLATILE_FUNCTIONS", "DatasetClause", "LexMemo", "Lexed", "lex"]

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})

#: Keywords that only appear in SPARQL Update: one first after the prologue makes the text an
#: update, and one anywhere in a query makes it not a query. ``WITH`` is among them because it
#: can start an update (``WITH <g> DELETE ... WHERE ...``). ``LOAD`` is an update too, but it
#: has its own rule (refused even on the update route), so it is kept apart.
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})

#: Keywords the guard rules on, recorded in :attr:`Lexed.keywords`.
WATCHED = UPDATE_KEYWORDS | {"SERVICE", "LOAD"}

#: Functions whose value differs from one run of the same query to the next (SPARQL 1.1 section
#: 17.4.5: ``NOW`` is per query execution; ``RAND``, ``UUID``, ``STRUUID`` are fresh each call).
VOLATILE_FUNCTIONS = frozenset({"NOW", "RAND", "UUID", "STRUUID"})

#: Every word the scan notes as it goes.
_NOTED = WATCHED | {"PREFIX", "BASE", "FROM", "USING"} | VOLATILE_FUNCTIONS
#: A word is never shorter than its capitals (``str.upper``), so no longer one is among them.
_LONGEST_NOTED = max(map(len, _NOTED))

# Each match is the spaces and comments before a token (taken whole: a possessive ``*+``), then
# the token, so ``split`` gives ``['', gap, token, '', gap, token, ..., rest]``. A name (``a``,
# ``ex:a``, ``_:b``) is its longest run of name characters, then a colon and a local part if one
# follows; a run with no colon but a ``.``, ``-`` or ``·`` is more than one token (``a.b``), read
# again by :data:`_WORD_TOKENS`. Reading a name once keeps the scan linear (looking ahead from every
# word for a colon made ``a.a.a...`` quadratic). ``\Z`` takes what follows the last token.
_LOCAL = r"(?:[\w\-.:%\u00B7]|\\[^\s])*+"
_TOKENS = re.compile(
    r"(\s*+(?:\#[^\n\r]*+\s*+)*+)"  # spaces and comments
    r"([^\W\d][\w.\-\u00B7]*+(?::" + _LOCAL + r")?"  # words and prefixed names: ex:a, _:b
    r"|:" + _LOCAL +  # :a
    r"|[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]*+"  # variables
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'  # long strings
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'  # short strings
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r"|@[A-Za-z]+(?:-[A-Za-z0-9]+)*"  # language tags
    r"|\^\^"  # datatype marker
    r"|\d\d*+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?"  # numbers, by a first character
    r"|<[^<>\"{}|^`\\\x00-\x20]*>"  # IRIs (no spaces, so never a '<' comparison)
    r"|\Z|.)",
    re.DOTALL,
)
#: The tokens of a run of name characters that has no colon: words, numbers and single characters.
_WORD_TOKENS = re.compile(r"[^\W\d]\w*+|\d*\.?\d+(?:[eE][+-]?\d+)?|.", re.DOTALL)
#: A run of name characters with no colon that is more than one token, after a NUL: searched
#: for in the tokens, each after a NUL (a NUL inside a string may match too, which costs only time).
_SPLIT_RUN = re.compile(r"\0[^\W\d]\w*+[.\-\u00B7][^\0:]*+(?=\0|\Z)")
_OPEN, _CLOSE = frozenset("({["), frozenset(")}]")
#: A prefix name as ``PREFIX`` declares it (SPARQL's ``PNAME_NS``).
_PNAME_NS = re.compile(r"(?:[A-Za-z\u00C0-\U000EFFFF](?:[\w.\-\u00B7-\U000EFFFF]*[\w\-\u00B7-\U000EFFFF])?)?:")
#: What an error message quotes as "found".
_FOUND = re.compile(r"\S{1,20}")


@dataclass(frozen=True)
class DatasetClause:
    """One ``FROM``, ``FROM NAMED``, ``USING`` or ``USING NAMED`` clause.

    ``written`` is the IRI or prefixed name as in the text; ``iri`` is it expanded against the
    prefixes and base declared before it (``None`` for an undeclared prefix). ``offset`` is
    where the keyword starts.
    """

    keyword: str
    written: str
    iri: str | None
    offset: int


@dataclass(frozen=True)
class Lexed:
    """What one scan of a query or update found (see the module docstring)."""

    form: str | None
    depth: int = 0
    datasets: tuple[DatasetClause, ...] = ()
    #: ``(keyword, offset)`` for each ``SERVICE``, ``LOAD`` and update keyword.
    keywords: tuple[tuple[str, int], ...] = ()
    prefixes: dict[str, str] = field(default_factory=dict, hash=False)
    base: str | None = None
    #: Why there is no form: the 400 :meth:`query_form` raises.
    fault: BadRequest | None = field(default=None, compare=False, hash=False)
    #: The text with spaces and comments normalised (see the module docstring).
    normal: str = field(default="", compare=False, repr=False)
    #: Does the text call a function of :data:`VOLATILE_FUNCTIONS`?
    volatile: bool = False
    #: The prefix of each prefixed name in the text (declarations' too; ``_`` for a blank node).
    prefix_names: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def predeclared_used(self, predeclared: Mapping[str, str]) -> dict[str, str]:
        """The ``predeclared`` prefixes the text uses without declaring them: all Oxigraph needs
        of them (turning 50 of them into its own form takes 16 microseconds a query).

        >>> lex("PREFIX a: <urn:a:> SELECT * { a:s b:p c:o }").predeclared_used({"a": "urn:x:", "b": "urn:b:"})
        {'b': 'urn:b:'}
        """
        return {name: predeclared[name] for name in self.prefix_names
                if name in predeclared and name not in self.prefixes}

    def query_form(self) -> str:
        """The form; raises :class:`~nhs_ai_workforce.core.errors.BadRequest` (400) if there is none.

        >>> lex("BASE <http://example.org/> INSERT DATA { <a> <b> <c> }").query_form()
        'UPDATE'
        >>> lex("PREFIX ex: SELECT * {}").query_form()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        nhs_ai_workforce.core.errors.BadRequest: Malformed query: expected an IRI ... (line 1, column 12)
        """
        if self.form is None:
            raise self.fault or BadRequest("the query has no form", "Malformed query")
        return self.form

    @property
    def has_dataset(self) -> bool:
        """Does the query name its own dataset (``FROM`` or ``FROM NAMED``)?

        >>> lex("SELECT ?from { ?from <http://example.org/FROM> 'from' }").has_dataset
        False
        """
        return any(clause.keyword.startswith("FROM") for clause in self.datasets)


class _Scan:
    """The tokens of a text (strings; :meth:`kind` and :meth:`offset` say what and where each is)
    and what one pass over them found (see :func:`_scan`)."""

    __slots__ = ("_parts", "_starts", "deepest", "names", "normal", "tokens", "words")

    def __init__(self, parts: list[str], tokens: list[str], normal: str, deepest: int,
                 words: list[tuple[int, str]], names: set[str]) -> None:
        self._parts, self._starts = parts, None
        self.tokens, self.normal, self.deepest, self.words, self.names = tokens, normal, deepest, words, names

    def offset(self, index: int) -> int:
        """Where token ``index`` starts in the text."""
        if self._starts is None:  # the ends of the parts, so token i starts where gap i ends
            self._starts = list(accumulate(map(len, self._parts)))
        return self._starts[3 * index + 1]

    def kind(self, index: int) -> str:
        """``word``, ``pname``, ``iri``, ``open``, ``close``, ``literal`` (a variable, string,
        number, language tag or ``^^``), ``other`` (any other character) or ``end`` (past the last)."""
        if index >= len(self.tokens):
            return "end"
        value = self.tokens[index]
        first = value[0]
        if first == "<":
            return "iri" if len(value) > 1 else "other"
        if first in "\"'" or first in "?$" or (first == "@" and len(value) > 1) or value == "^^":
            return "literal" if len(value) > 1 or first in "?$" else "other"
        if ":" in value:
            return "pname"
        if _is_word_start(first):
            return "word"
        if first in _OPEN:
            return "open"
        if first in _CLOSE:
            return "close"
        return "literal" if value[-1].isdecimal() else "other"


def _scan(text: str) -> _Scan:
    """The tokens of ``text``, its normal form, the deepest nesting, the words of :data:`_NOTED`
    (their indexes, in capitals) and the prefixes of its prefixed names.

    One ``split`` in C reads the tokens and the gaps between them; one loop over the tokens,
    which looks at little more than each one's first character, notes the rest.

    The normal form has each run of spaces and comments between tokens made one space. Only
    where the scan is sure of its tokens: a quote it could not pair (a string broken by a line
    end, which is malformed) leaves the text as it is, so a malformed query never has the normal
    form of a well-formed one.
    """
    parts = _TOKENS.split(text)
    if _SPLIT_RUN.search("\0" + "\0".join(parts[2::3])):
        parts = _split_runs(parts)
    tokens = parts[2::3]
    while tokens and not tokens[-1]:  # what \Z matched
        tokens.pop()
    pieces: list[str] = []
    words: list[tuple[int, str]] = []
    names: set[str] = set()
    depth = deepest = 0
    paired = True
    for index, (gap, token) in enumerate(zip(parts[1::3], tokens, strict=False)):  # the last gap has no token
        first = token[0]
        if first in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif first in _CLOSE:
            if depth:
                depth -= 1
        elif ":" in token:
            if first not in "<\"'":  # not an IRI or a string: a prefixed name
                names.add(token[: token.index(":")])
        elif first in "\"'":
            paired = paired and len(token) > 1
        elif len(token) <= _LONGEST_NOTED:
            capitals = token.upper()
            if capitals in _NOTED:
                words.append((index, capitals))
        if gap and index:
            pieces.append(" ")
        pieces.append(token)
    return _Scan(parts, tokens, "".join(pieces) if paired else text, deepest, words, names)


def _is_word_start(char: str) -> bool:
    """Can a word start with ``char`` (``[^\\W\\d]``, without a regular expression)?"""
    return (char.isalnum() or char == "_") and not char.isdecimal()


def _split_runs(parts: list[str]) -> list[str]:
    """``parts`` with each run of name characters that has no colon but is more than one token
    (``a.b``) split into its tokens, with no spaces between them."""
    split = parts[:1]
    for index in range(1, len(parts) - 1, 3):
        gap, token, after = parts[index : index + 3]
        if ":" in token or not _is_word_start(token[:1]) or _WORD_TOKENS.fullmatch(token):
            split += (gap, token, after)
            continue
        pieces = _WORD_TOKENS.findall(token)
        split += (gap, pieces[0])
        for piece in pieces[1:]:
            split += ("", "", piece)
        split.append(after)
    return split


def lex(text: str, predeclared: Mapping[str, str] | None = None) -> Lexed:
    """Scan ``text`` once; see :class:`Lexed`. Never raises: faults are recorded, not judged.

    ``predeclared`` are the prefixes the endpoint declares for every query (the project's): they
    expand a ``FROM`` prefixed name whose prefix the query has not declared itself.

    >>> lex("SELECT * FROM graph:links {}", {"graph": "http://x.org/id/graph/"}).datasets[0].iri
    'http://x.org/id/graph/links'
    >>> lex("PREFIX graph: <urn:g:> SELECT * FROM graph:links {}", {"graph": "http://x.org/"}).datasets[0].iri
    'urn:g:links'
    >>> lex("SELECT  *   # all\\n{?s ?p 'a  b'}").normal, lex("SELECT (NOW() AS ?t) {}").volatile
    ("SELECT * {?s ?p 'a  b'}", True)
    """
    scan = _scan(text)
    form, fault, prologue, base, prefixes = _form(text, scan)
    datasets: list[DatasetClause] = []
    keywords: list[tuple[str, int]] = []
    volatile = False
    for index, keyword in scan.words:
        if keyword in WATCHED:
            keywords.append((keyword, scan.offset(index)))
        elif keyword in ("PREFIX", "BASE"):
            if index >= prologue:  # those of the prologue are declared already
                base, prefixes = _declare(keyword, scan, index, base, prefixes)
        elif keyword in ("FROM", "USING"):
            clause = _dataset_clause(keyword, scan, index, {**(predeclared or {}), **prefixes}, base)
            if clause:
                datasets.append(clause)
        else:
            volatile = True
    return Lexed(form, scan.deepest, tuple(datasets), tuple(keywords), prefixes, base, fault, scan.normal, volatile,
                 frozenset(scan.names))


class LexMemo:
    """The scans of the texts seen last, so a text sent again is not scanned again (thread-safe).

    A server sees the same few queries over and over (the examples, the charts, the pages'
    links), and the scan is the largest cost of reading a query in Python: 0.07 ms for a
    2 KB query. Up to ``entries`` texts of at most ``max_chars`` each are kept (the oldest goes
    first), all scanned with the same ``predeclared`` prefixes.

    >>> memo = LexMemo({"ex": "urn:x:"})
    >>> memo.get("ASK {}") is None
    True
    >>> memo.remember("ASK {}", lex("ASK {}")); memo.get("ASK {}").form
    'ASK'
    """

    def __init__(self, predeclared: Mapping[str, str] | None = None, *, entries: int = 512,
                 max_chars: int = 16 * 1024) -> None:
        self.predeclared = dict(predeclared or {})
        self.entries = entries
        self.max_chars = max_chars
        self._scans: dict[str, Lexed] = {}
        self._lock = threading.Lock()

    def get(self, text: str) -> Lexed | None:
        """The scan of ``text`` if it is remembered."""
        return self._scans.get(text)

    def remember(self, text: str, lexed: Lexed) -> None:
        """Keep ``lexed`` as the scan of ``text`` (callers keep only scans that passed their checks)."""
        if len(text) > self.max_chars or text in self._scans:
            return
        with self._lock:
            while len(self._scans) >= self.entries:
                self._scans.pop(next(iter(self._scans)))
            self._scans[text] = lexed


def expand_token(kind: str, value: str, prefixes: Mapping[str, str], base: str | None) -> str | None:
    """The absolute IRI an ``iri`` or ``pname`` token stands for, or ``None`` if unknown."""
    if kind == "iri":
        iri = value[1:-1]
        try:
            return urljoin(base, iri) if base else iri
        except ValueError:  # a base that is no IRI (``<http://[x/>``): the parser says so
            return None
    if kind == "pname":
        prefix, _, local = value.partition(":")
        namespace = prefixes.get(prefix)
        return None if namespace is None else namespace + re.sub(r"\\(.)", r"\1", local)
    return None


def _declare(
    keyword: str, scan: _Scan, index: int, base: str | None, prefixes: dict[str, str]
) -> tuple[str | None, dict[str, str]]:
    """Record a ``PREFIX`` or ``BASE`` declaration (malformed ones are left to the parser)."""
    tokens = scan.tokens
    if keyword == "BASE" and scan.kind(index + 1) == "iri":
        base = expand_token("iri", tokens[index + 1], {}, base)
    elif keyword == "PREFIX" and scan.kind(index + 1) == "pname" and scan.kind(index + 2) == "iri":
        name = tokens[index + 1]
        if name.endswith(":") and name.count(":") == 1:
            prefixes = {**prefixes, name[:-1]: expand_token("iri", tokens[index + 2], {}, base) or ""}
    return base, prefixes


def _dataset_clause(
    keyword: str, scan: _Scan, index: int, prefixes: dict[str, str], base: str | None
) -> DatasetClause | None:
    """``FROM [NAMED] <iri>`` / ``USING [NAMED] <iri>``; ``None`` if no IRI follows (the parser says so)."""
    position = index + 1
    if scan.kind(position) == "word" and scan.tokens[position].upper() == "NAMED":
        keyword += " NAMED"
        position += 1
    kind = scan.kind(position)
    if kind not in ("iri", "pname"):
        return None
    value = scan.tokens[position]
    return DatasetClause(keyword, value, expand_token(kind, value, prefixes, base), scan.offset(index))


# -- the form: the first keyword after the leading prologue ----------------------------------


def _form(text: str, scan: _Scan) -> tuple[str | None, BadRequest | None, int, str | None, dict[str, str]]:
    """The form, or the 400 saying why there is none (with its line and column); then where the
    prologue ends (the index of the token after it) and the base and prefixes it declares."""
    tokens = scan.tokens
    index = 0
    base: str | None = None
    prefixes: dict[str, str] = {}
    while True:
        if index >= len(tokens):
            fault = BadRequest("the query is empty (nothing but spaces and comments)", "Missing query")
            return None, fault, index, base, prefixes
        keyword = tokens[index].upper() if scan.kind(index) == "word" else ""
        if keyword == "BASE":
            if scan.kind(index + 1) != "iri":
                return None, _malformed(text, scan, index + 1, "an IRI after BASE"), index, base, prefixes
            base, prefixes = _declare(keyword, scan, index, base, prefixes)
            index += 2
        elif keyword == "PREFIX":
            declared = _PNAME_NS.match(tokens[index + 1]) if scan.kind(index + 1) == "pname" else None
            if not declared:
                fault = _malformed(text, scan, index + 1, "a prefix name such as 'ex:' after PREFIX")
                return None, fault, index, base, prefixes
            if declared.end() < len(tokens[index + 1]):  # ``ex:a``: the IRI was expected after ``ex:``
                offset = scan.offset(index + 1) + declared.end()
                return None, _malformed_at(text, offset, "an IRI after the prefix name"), index, base, prefixes
            if scan.kind(index + 2) != "iri":
                fault = _malformed(text, scan, index + 2, "an IRI after the prefix name")
                return None, fault, index, base, prefixes
            base, prefixes = _declare(keyword, scan, index, base, prefixes)
            index += 3
        elif keyword in QUERY_FORMS:
            return keyword, None, index, base, prefixes
        elif keyword in UPDATE_KEYWORDS or keyword == "LOAD":
            return "UPDATE", None, index, base, prefixes
        else:
            fault = _malformed(text, scan, index, "SELECT, ASK, CONSTRUCT or DESCRIBE")
            return None, fault, index, base, prefixes


def _malformed(text: str, scan: _Scan, index: int, expected: str) -> BadRequest:
    if index >= len(scan.tokens):
        return _malformed_at(text, len(text), expected)
    return _malformed_at(text, scan.offset(index), expected)


def _malformed_at(text: str, offset: int, expected: str) -> BadRequest:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    found = _FOUND.match(text, offset)
    what = f"found {found.group()!r}" if found else "the query ends there"
    return BadRequest(f"expected {expected}; {what}", "Malformed query", line, column)
