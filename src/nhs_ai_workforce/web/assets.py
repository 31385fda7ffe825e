"""Front-end packages from the npm registry, served by this site so no page loads from a CDN.

``package.json`` pins them and ``make setup`` runs ``npm ci``. Each package is served at
``/static/vendor/{name}/{file}`` from a whitelist of its prebuilt files; the URLs carry the
package version (``?v=``), so the files are cached for a year. A page whose package is missing
answers 503 and says how to install it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, send_file

from .state import state

blueprint = Blueprint("assets", __name__)

VENDOR_MAX_AGE = 365 * 24 * 3600
_SOURCE_TREE = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class VendorPackage:
    """An npm package: where its prebuilt files are and which of them pages may load."""

    name: str
    package: str
    folder: str
    files: dict[str, str]
    #: ``app.config`` key that points at the installed package (for tests and unusual installs).
    config_key: str


PACKAGES = {
    "yasgui": VendorPackage(
        name="yasgui",
        package="@zazuko/yasgui",
        folder="build",
        files={
            "yasgui.min.js": "text/javascript",
            "yasgui.min.css": "text/css",
            "yasgui.min.js.map": "application/json",
        },
        config_key="YASGUI_DIR",
    ),
    "echarts": VendorPackage(
        name="echarts",
        package="echarts",
        folder="dist",
        files={"echarts.min.js": "text/javascript"},
        config_key="ECHARTS_DIR",
    ),
}


def package_dir(name: str) -> Path | None:
    """The installed package ``name``: under the project root, else beside the source tree."""
    vendor = PACKAGES[name]
    configured = current_app.config.get(vendor.config_key)
    roots = (state().settings.root, _SOURCE_TREE)
    candidates = [Path(configured)] if configured else [root / "node_modules" / vendor.package for root in roots]
    for folder in candidates:
        if all((folder / vendor.folder / file).is_file() for file in vendor.files):
            return folder
    return None


def package_version(folder: Path) -> str:
    """The ``version`` in the package's ``package.json`` (``"0"`` if unreadable)."""
    try:
        return str(json.loads((folder / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return "0"


def missing_package(name: str) -> Response:
    """503: the page needs package ``name``, which ``make setup`` installs."""
    html = render_template("missing_assets.html", package=PACKAGES[name].package)
    response = Response(html, status=503, mimetype="text/html")
    response.headers["Retry-After"] = "3600"
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/static/vendor/<name>/<file>")
def vendor_file(name: str, file: str) -> Response:
    """One whitelisted file of a vendor package, cacheable for a year."""
    vendor = PACKAGES.get(name)
    if vendor is None or file not in vendor.files:
        abort(404)
    folder = package_dir(name)
    if folder is None:
        return missing_package(name)
    response = send_file(folder / vendor.folder / file, mimetype=vendor.files[file], max_age=VENDOR_MAX_AGE)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
