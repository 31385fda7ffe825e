"""Linked-data URIs: /id/ answers 303 to /doc/, documents by content negotiation, resource pages."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("resources", __name__)
