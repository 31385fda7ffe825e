"""Front-end packages from the npm registry that pages load from this site: where each is installed.

``package.json`` pins them and ``make setup`` runs ``npm ci``. :mod:`.assets` serves their
whitelisted files; a page whose package is missing answers :func:`missing_package` (503).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, render_template

from .state import state

__all__ = ["PACKAGES", "VendorPackage", "missing_package", "package_dir", "package_version"]

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
