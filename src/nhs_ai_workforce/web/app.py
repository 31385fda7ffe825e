"""The Flask application factory: settings, the per-process store handle, the blueprints."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify, request

from ..core.errors import BadRequest, TooLarge, Unavailable
from ..core.settings import Settings
from ..sparql import federation
from ..sparql.execution import Executor, InProcessExecutor
from ..store.live import CurrentStore, StoreError
from ..store.remote_live import RemoteCurrentStore, check_remote
from . import (
    addresses,
    assets,
    charts,
    compression,
    cors,
    datasets,
    errors,
    home,
    ontology,
    reconcile,
    resources,
    site,
    sparql,
    update,
    vocabulary,
)
from .state import EXTENSION, AppState, LiveStore, state


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``test_config`` may hold ``SETTINGS`` (a :class:`Settings`) and Flask keys.

    The store is opened read-only on the first request of each process, and reopened when a
    new build is swapped in. With ``settings.sparql_url`` (``AIWF_SPARQL_URL``) the graph is read
    from that remote store instead (:mod:`..store.remote_live`, :mod:`..store.remote_store`), and
    ``/sparql`` forwards to it (:mod:`..sparql.remote`).

    :raises ValueError: for settings the server cannot start with (a bad ``AIWF_SERVICE_ALLOW``, or a
        remote store it cannot use: :func:`~..store.remote_live.check_remote`).
    """

    config = dict(test_config or {})
    settings = config.pop("SETTINGS", None) or Settings.from_env()
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_request_bytes)
    app.config.update(config)
    services = federation.ServicePolicy.from_settings(settings)  # a bad AIWF_SERVICE_ALLOW stops the start
    if settings.sparql_url:
        check_remote(settings, federation=services.enabled)
        store: LiveStore = RemoteCurrentStore(settings)
        executor = _remote_executor(app.config.pop("EXECUTOR", None), settings, store)
    else:
        store = CurrentStore(settings, memory_bytes=settings.memory_store_bytes)
        executor = _executor(app.config.pop("EXECUTOR", None), settings, store)
    if services.enabled:
        executor = _federated(app, executor, settings, services)
    app.extensions[EXTENSION] = AppState(settings, store, executor)
    errors.register(app)
    cors.register(app)
    compression.register(app)
    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(update.blueprint)
    app.register_blueprint(home.blueprint)
    app.register_blueprint(reconcile.blueprint)
    for module in (assets, resources, datasets, ontology, charts, site, vocabulary):
        app.register_blueprint(module.blueprint)
    app.add_template_filter(addresses.href)
    app.before_request(_limit_query_string)
    app.add_url_rule("/health", view_func=health)
    return app


def _executor(choice: Any, settings: Settings, store: CurrentStore) -> Executor:
    """The query executor: by default a pool of killable processes (:mod:`..sparql.pool`).

    ``EXECUTOR`` in ``test_config`` may be an executor, ``"pool"`` or ``"in-process"`` (runs
    queries in the request thread, with no time limit: for tests only).
    """
    if choice is None or choice == "pool":
        from ..sparql.pool import PooledExecutor

        return PooledExecutor(settings)
    if choice == "in-process":
        return InProcessExecutor(settings, store.get, result_limit_bytes=settings.result_limit_bytes)
    return choice


def _remote_executor(choice: Any, settings: Settings, store: RemoteCurrentStore) -> Executor:
    """With a remote store, queries are forwarded to it (:mod:`..sparql.remote`); no query process is started.
    ``EXECUTOR`` in ``test_config`` may still be an executor object (for tests)."""
    if choice is None or isinstance(choice, str):
        from ..sparql.remote import RemoteExecutor

        return RemoteExecutor(settings, store)
    return choice


def _federated(app: Flask, executor: Executor, settings: Settings, services: federation.ServicePolicy) -> Executor:
    """Allow federated queries to the listed endpoints: the guard sees the policy during each
    request, and the executor sends the calls through its relay (:mod:`..sparql.federated`)."""
    from ..sparql.federated import FederatedExecutor

    def activate() -> None:
        g.aiwf_services = federation.activate(services)

    def deactivate(_error: BaseException | None) -> None:
        federation.deactivate(g.pop("aiwf_services", None))

    app.before_request(activate)
    app.teardown_request(deactivate)
    return FederatedExecutor(executor, settings, services)


def _limit_query_string():
    """A ``GET`` query string over the request-size limit gets 413, and one with a raw byte that
    is not UTF-8 gets 400 (Werkzeug decodes it strictly), before anything reads it."""
    limit = state().settings.max_request_bytes
    if len(request.query_string) > limit:
        raise TooLarge(f"the query string is {len(request.query_string)} bytes; the limit is {limit}")
    try:
        request.query_string.decode()
    except UnicodeDecodeError as error:
        raise BadRequest(
            f"the query string has a raw byte 0x{error.object[error.start]:02x} at position {error.start} "
            "that is not UTF-8; percent-encode the text as UTF-8 (\u00e9 is %C3%A9)",
            "Bad query string",
        ) from None
    return None


def health():
    """Is the store open? Cheap enough to poll: no counting. 503 with ``Retry-After`` if not.
    Also says how many responses this server process has recorded and replayed (:mod:`.replay`),
    how many queries its front end answered itself or handed to the app (:mod:`.lane`), and the state
    of its query slots and processes (:meth:`~..sparql.pool.PooledExecutor.report`)."""
    app_state = state()
    current = app_state.store
    try:
        current.get()
    except StoreError as error:
        return jsonify(status="unavailable", error=str(error)), 503, {"Retry-After": str(Unavailable.NO_STORE_RETRY_S)}
    extra = {}
    if app_state.replay is not None:
        extra["replay"] = {"recorded": app_state.replay.recorded, "replayed": app_state.replay.replayed}
    if app_state.lane is not None:
        extra["lane"] = {"answered": app_state.lane.answered, "handed": app_state.lane.handed}
    report = getattr(app_state.executor, "report", None)
    if report is not None:
        extra["queries"] = report()
    if isinstance(current, RemoteCurrentStore) and current.publication is not None:
        extra.update(store="remote", published_build=current.publication.build)
    return jsonify(status="ok", build=current.build_id, **extra)
