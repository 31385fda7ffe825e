"""The dataset's dumps and its VoID/DCAT description at /data/ and /.well-known/void."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("datasets", __name__)
