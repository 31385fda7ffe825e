"""Requests of the Reconciliation Service API read into plain values: query batches, match
batches and data extension queries, with their limits. Each fault is a 400 naming it.

>>> parse_query_batch('{"q0": {"query": " Data analyst ", "limit": "3", "type": "role"}}')["q0"]
Query(text='Data analyst', types=('role',), limit=3, constraints=(), ids=())
>>> parse_extend('{"ids": ["a", "a"], "properties": [{"id": "soc2020"}]}')
(['a'], ['soc2020'])
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ..core.errors import BadRequest

DEFAULT_LIMIT = 5
MAX_LIMIT = 100
MAX_QUERIES = 500
#: Arrays and objects nested deeper than this are refused (the protocol needs about five).
MAX_DEPTH = 32


@dataclass(frozen=True)
class Constraint:
    """A property a candidate should have: its id, the wanted values, and whether it is required."""

    pid: str
    values: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True)
class Query:
    """One reconciliation query, whichever version of the API it came in."""

    text: str = ""
    types: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    constraints: tuple[Constraint, ...] = ()
    ids: tuple[str, ...] = ()


def _bad(message: str) -> BadRequest:
    return BadRequest(message, title="Malformed reconciliation request")


def load_json(text: str | bytes | None, what: str) -> Any:
    """``text`` as JSON, or a 400 naming the fault: empty, not JSON, nested deeper than
    :data:`MAX_DEPTH` (refused before the recursive parser runs) or a number that is not
    finite (``NaN``, ``Infinity`` or one too large for a float, such as ``1e999``).

    >>> try:
    ...     load_json('{"limit": Infinity}', "queries")
    ... except BadRequest as error:
    ...     print(error.status, error.message)
    400 'queries' is not JSON: Infinity is not a JSON number; numbers must be finite
    """
    if text is None or (isinstance(text, str | bytes) and not text.strip()):
        raise _bad(f"'{what}' is empty")
    try:
        if isinstance(text, bytes):
            text = text.decode(json.detect_encoding(text))
        _check_depth(text, what)
        return json.loads(text, parse_constant=_not_finite, parse_float=_finite_float)
    except (ValueError, TypeError) as error:
        raise _bad(f"'{what}' is not JSON: {error}") from None


_load_json = load_json

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _check_depth(text: str, what: str) -> None:
    """Refuse JSON nested deeper than :data:`MAX_DEPTH` (Python's parser recurses per level)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_DEPTH:
            raise _bad(f"'{what}' is nested deeper than {MAX_DEPTH} levels of arrays and objects")


def _not_finite(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number; numbers must be finite")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise ValueError(f"{literal[:40]} is too large for a number")
    return number


def _limit(value: Any, where: str) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if isinstance(value, bool):
        raise _bad(f"{where}.limit must be a number")
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError) as error:  # OverflowError: "Infinity" as a string
        raise _bad(f"{where}.limit must be a finite number, not {value!r}") from error
    if number < 1:
        raise _bad(f"{where}.limit must be at least 1")
    return min(number, MAX_LIMIT)


def _values(value: Any, where: str) -> tuple[str, ...]:
    """Property values as strings: a string, number, boolean, ``{"id": ...}`` or a list of them."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            if not isinstance(item.get("id"), str):
                raise _bad(f"{where}: an entity value needs a string 'id'")
            out.append(item["id"])
        elif isinstance(item, str | int | float | bool):
            out.append(str(item).lower() if isinstance(item, bool) else str(item))
        else:
            raise _bad(f"{where}: a value must be a string, number, boolean or {{\"id\": ...}}")
    return tuple(out)


def _types(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            item = item["id"]
        if not isinstance(item, str):
            raise _bad(f"{where}.type must be a type id or a list of type ids")
        if item.strip():
            out.append(item.strip())
    return tuple(out)


def parse_query_batch(text: str | bytes | None) -> dict[str, Query]:
    """A v0.2 query batch (the ``queries`` parameter) as :class:`Query` objects by key.

    :raises BadRequest: naming the fault, when it is not a batch of queries.
    """
    batch = _load_json(text, "queries")
    if not isinstance(batch, dict):
        raise _bad("'queries' must be a JSON object of queries keyed by name, such as {\"q0\": {\"query\": \"...\"}}")
    if len(batch) > MAX_QUERIES:
        raise _bad(f"at most {MAX_QUERIES} queries in one batch, not {len(batch)}")
    out = {}
    for key, query in batch.items():
        where = f"queries.{key}"
        if not isinstance(query, dict):
            raise _bad(f"{where} must be an object such as {{\"query\": \"...\"}}")
        text_value = query.get("query", "")
        if not isinstance(text_value, str):
            raise _bad(f"{where}.query must be a string")
        properties = query.get("properties", [])
        if not isinstance(properties, list):
            raise _bad(f"{where}.properties must be a list of {{\"pid\": ..., \"v\": ...}}")
        constraints = []
        for number, item in enumerate(properties):
            if not isinstance(item, dict) or not isinstance(item.get("pid"), str) or "v" not in item:
                raise _bad(f"{where}.properties[{number}] must be an object with 'pid' and 'v'")
            constraints.append(Constraint(item["pid"], _values(item["v"], f"{where}.properties[{number}].v")))
        if not text_value.strip() and not constraints:
            raise _bad(f"{where} needs a 'query' string or at least one property")
        out[str(key)] = Query(text_value.strip(), _types(query.get("type"), where),
                              _limit(query.get("limit"), where), tuple(constraints))
    return out


def parse_match_batch(body: Any) -> list[Query]:
    """A 1.0-draft query batch (``{"queries": [{"conditions": [...]}]}``) as :class:`Query` objects.

    :raises BadRequest: naming the fault.
    """
    if isinstance(body, str | bytes):
        body = _load_json(body, "body")
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise _bad("the body must be a JSON object with a 'queries' list")
    queries = body["queries"]
    if len(queries) > MAX_QUERIES:
        raise _bad(f"at most {MAX_QUERIES} queries in one batch, not {len(queries)}")
    out = []
    for number, query in enumerate(queries):
        where = f"queries[{number}]"
        if not isinstance(query, dict):
            raise _bad(f"{where} must be an object")
        conditions = query.get("conditions")
        if not isinstance(conditions, list) or not conditions:
            raise _bad(f"{where}.conditions must be a non-empty list")
        names, ids, constraints = [], [], []
        for index, condition in enumerate(conditions):
            at = f"{where}.conditions[{index}]"
            if not isinstance(condition, dict) or "propertyValue" not in condition:
                raise _bad(f"{at} must be an object with 'matchType' and 'propertyValue'")
            kind = condition.get("matchType")
            values = _values(condition["propertyValue"], f"{at}.propertyValue")
            if kind == "name":
                names.extend(values)
            elif kind == "id":
                ids.extend(values)
            elif kind == "property":
                if not isinstance(condition.get("propertyId"), str):
                    raise _bad(f"{at}.propertyId is required when matchType is 'property'")
                constraints.append(Constraint(condition["propertyId"], values, condition.get("required") is True))
            else:
                raise _bad(f"{at}.matchType must be 'name', 'id' or 'property'")
        out.append(Query(" ".join(names).strip(), _types(query.get("type"), where),
                         _limit(query.get("limit"), where), tuple(constraints), tuple(ids)))
    return out


def parse_extend(text: str | bytes | dict | None) -> tuple[list[str], list[str]]:
    """The ids and property ids of a data extension query (``{"ids": [...], "properties": [{"id"}]}``)."""
    query = load_json(text, "extend") if text is None or isinstance(text, str | bytes) else text
    if not isinstance(query, dict):
        raise _bad("'extend' must be a JSON object with 'ids' and 'properties'")
    ids, properties = query.get("ids"), query.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _bad("extend.ids must be a list of entity ids")
    if not isinstance(properties, list) or not all(isinstance(p, dict) and isinstance(p.get("id"), str)
                                                   for p in properties):
        raise _bad("extend.properties must be a list of {\"id\": ...}")
    if len(ids) > MAX_QUERIES:
        raise _bad(f"at most {MAX_QUERIES} ids in one extension, not {len(ids)}")
    return list(dict.fromkeys(ids)), list(dict.fromkeys(p["id"] for p in properties))
