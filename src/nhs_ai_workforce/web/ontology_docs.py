"""The ontology at /def/: human documentation and the Turtle by content negotiation."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("ontology_docs", __name__)
