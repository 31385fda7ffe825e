"""Charts of the AI Roadmap's findings and the 2030 workforce projection, drawn from SPARQL results."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("charts", __name__)
