"""The example queries in ``queries/``: their header comments, and their IRIs moved to the served base.

A query file opens with ``# key: value`` comments (``# title:``, ``# description:``...); the
home page offers each file as a tab of the query editor, the charts page draws others
(:mod:`.charts`). ``queries/classes/{Class}.rq`` holds one "how to query" example per main
class of the ontology, named by the class's local name; the ontology documentation shows each
in its class's entry (:mod:`.ontology`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..core.settings import DEFAULT_BASE, Settings

__all__ = ["ExampleQuery", "class_examples", "example_queries", "read_example", "read_header", "rebase"]

_HEADER = re.compile(r"# ?(?P<key>[a-z]+):\s*(?P<value>.*)")


@dataclass(frozen=True)
class ExampleQuery:
    """One competency question from ``queries/``: its tab id, title, description and text."""

    id: str
    title: str
    description: str
    query: str


def read_header(text: str) -> dict[str, str]:
    """The ``# key: value`` comments that open a query file; a value goes on over the comment lines after it.

    A continuation line is indented, so one that starts with a prefixed name is not a new key:

    >>> read_header("# title: A title\\n# description: One\\n#   aiwf: two.\\nASK {}\\n# title: ignored\\n")
    {'title': 'A title', 'description': 'One aiwf: two.'}
    """
    header: dict[str, list[str]] = {}
    key = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.fullmatch(line)
        if match:
            key = match["key"]
            header[key] = [match["value"].strip()]
        elif key is not None:
            header[key].append(line.lstrip("#").strip())
    return {key: " ".join(parts).strip() for key, parts in header.items()}


def rebase(text: str, base: str) -> str:
    """``text`` with IRIs under the default base moved to ``base``.

    >>> rebase(f"<{DEFAULT_BASE}/id/role/x>", "http://localhost:8000/")
    '<http://localhost:8000/id/role/x>'
    """
    if base.rstrip("/") == DEFAULT_BASE:
        return text
    return text.replace(f"{DEFAULT_BASE}/", f"{base.rstrip('/')}/")


def read_example(path: Path, base: str = DEFAULT_BASE) -> ExampleQuery:
    """The example in ``path``: ``# title:`` and ``# description:`` come from its header comments.

    The query text is the whole file, with IRIs under the default base moved to ``base``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "01-example.rq"
    ...     _ = path.write_text("# title: A title\\n# description: One\\n#   two.\\nASK {}\\n")
    ...     example = read_example(path)
    >>> example.id, example.title, example.description
    ('q01-example', 'A title', 'One two.')
    """
    text = path.read_text(encoding="utf-8")
    header = read_header(text)
    return ExampleQuery(
        id=f"q{path.stem}",
        title=header.get("title") or path.stem,
        description=header.get("description", ""),
        query=rebase(text, base),
    )


def example_queries(settings: Settings) -> list[ExampleQuery]:
    """Every ``queries/*.rq`` file, in file-name order."""
    return [read_example(path, settings.base) for path in sorted(settings.queries_dir.glob("*.rq"))]


def class_examples(settings: Settings) -> dict[str, ExampleQuery]:
    """Class local name -> its example from ``queries/classes/{name}.rq``, the id ``class-{name}``."""
    examples = {}
    for path in sorted((settings.queries_dir / "classes").glob("*.rq")):
        example = read_example(path, settings.base)
        examples[path.stem] = ExampleQuery(f"class-{path.stem}", example.title, example.description, example.query)
    return examples
