"""Front-end packages from the npm registry, served by this site so no page loads from a CDN.

``package.json`` pins them and ``make setup`` runs ``npm ci``. Each package is served at
``/static/vendor/{name}/{file}`` from a whitelist of its prebuilt files; the URLs carry the
package version (``?v=``), so the files are cached for a year. A page whose package is missing
answers 503 and says how to install it.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_file

from .vendor import PACKAGES, missing_package, package_dir

blueprint = Blueprint("assets", __name__)

VENDOR_MAX_AGE = 365 * 24 * 3600


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
